// The API's routes: one list that the function's router (lambda/handler/api-router.ts) and the
// stack's API Gateway resources (infra/dataset-api.ts) both follow. Adding a route here without a
// handler fails `tsc`; the stack creates its resource and method by itself.

export const API_ROUTES = [
  { path: '/datasets', methods: ['GET', 'POST'] },
  { path: '/datasets/{datasetId}', methods: ['GET'] },
  { path: '/datasets/{datasetId}/users/{userId}/tiers', methods: ['GET'] },
  { path: '/datasets/{datasetId}/evaluations', methods: ['POST'] },
] as const;

type ApiRoute = (typeof API_ROUTES)[number];

/** `METHOD /path/{param}` of every route and method, e.g. `GET /datasets/{datasetId}`. */
export type RouteKey = { [R in ApiRoute as R['path']]: `${R['methods'][number]} ${R['path']}` }[ApiRoute['path']];

/** A path template's matcher: each `{param}` one path segment (captured), a trailing slash allowed. */
export function routePattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((segment) => (/^\{\w+\}$/.test(segment) ? '([^/]+)' : segment.replace(/[.*+?^$()|[\]\\]/g, '\\$&')))
    .join('\\/');
  return new RegExp(`^${source}\\/?$`);
}
