import { describe, expect, it } from 'vitest';
import { API_ROUTES, routePattern } from '../lambda/layout/api-routes.js';

describe('routePattern', () => {
  it('captures each {param} as one path segment and allows a trailing slash', () => {
    const tiers = routePattern('/datasets/{datasetId}/users/{userId}/tiers');
    expect(tiers.exec('/datasets/seed-1-abc/users/42/tiers')?.slice(1)).toEqual(['seed-1-abc', '42']);
    expect(tiers.test('/datasets/seed-1-abc/users/42/tiers/')).toBe(true);
    expect(tiers.test('/datasets/seed-1-abc/users/4/2/tiers')).toBe(false);
    expect(tiers.test('/prod/datasets/seed-1-abc/users/42/tiers')).toBe(false);
    expect(routePattern('/datasets').test('/datasets/x')).toBe(false);
  });

  it('no request path matches two routes', () => {
    const samples = ['/datasets', '/datasets/a', '/datasets/a/users/1/tiers', '/datasets/a/evaluations'];
    for (const sample of samples) {
      expect(
        API_ROUTES.filter((r) => routePattern(r.path).test(sample)),
        sample,
      ).toHaveLength(1);
    }
  });
});
