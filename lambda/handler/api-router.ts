import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ApiContext } from './api-context.js';
import { repeatedQueryParameters } from './api-request.js';
import { problemResponse } from './api-response.js';
import { createDataset, getDataset, getUserTiers, listSeedDatasets } from './dataset-routes.js';
import { evaluateDatasetPredictions } from './evaluation-routes.js';
import { API_ROUTES, routePattern, type RouteKey } from '../layout/api-routes.js';

type RouteHandler = (event: APIGatewayProxyEvent, params: string[], ctx: ApiContext) => Promise<APIGatewayProxyResult>;

/** The handler of every route and method of `API_ROUTES` (a missing one fails `tsc`); params in path order. */
const HANDLERS: Record<RouteKey, RouteHandler> = {
  'GET /datasets': (event, _params, ctx) => listSeedDatasets(event, ctx),
  'POST /datasets': (event, _params, ctx) => createDataset(event, ctx),
  'GET /datasets/{datasetId}': (_event, [id], ctx) => getDataset(id, ctx),
  'GET /datasets/{datasetId}/users/{userId}/tiers': (_event, [id, user], ctx) => getUserTiers(id, user, ctx),
  'POST /datasets/{datasetId}/evaluations': (event, [id], ctx) => evaluateDatasetPredictions(event, id, ctx),
};

/**
 * Routes match the request path, not API Gateway's `resource`, so the function answers the same
 * behind explicit resources, a `{proxy+}` resource, or the local dev server.
 */
const ROUTES = API_ROUTES.map(({ path, methods }) => ({
  path,
  pattern: routePattern(path),
  methods: new Map<string, RouteHandler>(methods.map((method) => [method, HANDLERS[`${method} ${path}` as RouteKey]])),
}));

export async function routeApiRequest(event: APIGatewayProxyEvent, ctx: ApiContext): Promise<APIGatewayProxyResult> {
  for (const route of ROUTES) {
    const match = route.pattern.exec(event.path);
    if (!match) continue;
    const handle = route.methods.get(event.httpMethod.toUpperCase());
    if (!handle) {
      const allowed = [...route.methods.keys()].join(', ');
      const errors = [{ field: '(method)', rule: `must be one of ${allowed} on ${event.path}` }];
      return problemResponse(405, 'method not allowed', errors, { Allow: allowed });
    }
    const params = match.slice(1).map(decodePathSegment);
    if (params.some((p) => p === undefined)) {
      return problemResponse(400, 'malformed request path', [
        { field: '(path)', rule: 'must be validly percent-encoded' },
      ]);
    }
    const repeated = repeatedQueryParameters(event);
    if (repeated.length > 0) return problemResponse(400, 'ambiguous query', repeated);
    return handle(event, params as string[], ctx);
  }
  const errors = [
    {
      field: '(path)',
      rule: `must be ${ROUTES.slice(0, -1)
        .map((r) => r.path)
        .join(', ')} or ${ROUTES[ROUTES.length - 1].path}`,
    },
  ];
  return problemResponse(404, 'no such route', errors);
}

function decodePathSegment(segment: string): string | undefined {
  try {
    return decodeURIComponent(segment);
  } catch {
    return undefined;
  }
}
