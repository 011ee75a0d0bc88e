import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import type { ApiContext } from './api-context.js';
import { repeatedQueryParameters } from './api-request.js';
import { problemResponse } from './api-response.js';
import { createDataset, getDataset, getUserTiers, listSeedDatasets } from './dataset-routes.js';
import { evaluateDatasetPredictions } from './evaluation-routes.js';

type RouteHandler = (event: APIGatewayProxyEvent, params: string[], ctx: ApiContext) => Promise<APIGatewayProxyResult>;

interface Route {
  path: RegExp;
  methods: Partial<Record<string, RouteHandler>>;
}

/**
 * Routes match the request path, not API Gateway's `resource`, so the function answers the same
 * behind explicit resources, a `{proxy+}` resource, or the local dev server.
 */
const ROUTES: Route[] = [
  {
    path: /^\/datasets\/?$/,
    methods: {
      GET: (event, _params, ctx) => listSeedDatasets(event, ctx),
      POST: (event, _params, ctx) => createDataset(event, ctx),
    },
  },
  { path: /^\/datasets\/([^/]+)\/?$/, methods: { GET: (_event, [id], ctx) => getDataset(id, ctx) } },
  {
    path: /^\/datasets\/([^/]+)\/users\/([^/]+)\/tiers\/?$/,
    methods: { GET: (_event, [id, user], ctx) => getUserTiers(id, user, ctx) },
  },
  {
    path: /^\/datasets\/([^/]+)\/evaluations\/?$/,
    methods: { POST: (event, [id], ctx) => evaluateDatasetPredictions(event, id, ctx) },
  },
];

export async function routeApiRequest(event: APIGatewayProxyEvent, ctx: ApiContext): Promise<APIGatewayProxyResult> {
  for (const route of ROUTES) {
    const match = route.path.exec(event.path);
    if (!match) continue;
    const handle = route.methods[event.httpMethod.toUpperCase()];
    if (!handle) {
      const allowed = Object.keys(route.methods).join(', ');
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
      rule: 'must be /datasets, /datasets/{datasetId}, /datasets/{datasetId}/users/{userId}/tiers or /datasets/{datasetId}/evaluations',
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
