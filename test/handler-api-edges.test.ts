import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { datasetAddress } from '../lambda/config/dataset-id.js';
import { parseConfig } from '../lambda/validation/validate.js';
import type { DatasetStore } from '../lambda/catalog/dataset-store.js';
import { listDatasets } from '../lambda/catalog/list-datasets.js';
import { claimRun } from '../lambda/catalog/run-marker.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import type { DatasetStorage } from '../lambda/storage/storage.js';
import { apiEvent, createHarness, withRequest, type Harness } from './support/handler-harness.js';
import { useLocalS3 } from './support/local-s3.js';
import { putHandMadeDataset, SCORING_DATASET, scoringPredictions } from './support/task-dataset.js';

const s3 = useLocalS3();
let h: Harness;
beforeAll(async () => {
  h = await createHarness(s3);
});

const POST = apiEvent('api-post-default.json');
const GET = (path: string, queryStringParameters: Record<string, string> | null = null) =>
  withRequest(POST, { httpMethod: 'GET', path, body: null, queryStringParameters });
const errorsOf = (json: Record<string, unknown>) => json.errors as { field: string; rule: string }[];

/** Answers `status` naming `field`, and nothing was written to the bucket. */
async function refused(event: APIGatewayProxyEvent, status: number, field: string): Promise<void> {
  const before = await h.keys();
  const response = await h.api(event);
  expect([response.statusCode, errorsOf(response.json).map((e) => e.field)], response.body).toEqual([status, [field]]);
  expect(await h.keys()).toEqual(before);
}

describe('dataset ids: a seed the config schema refuses is a malformed id (400), on every route that takes one', () => {
  const hash = '720719fc1c192748';
  const routes = (id: string) => [
    GET(`/datasets/${id}`),
    GET(`/datasets/${id}/users/1/tiers`),
    withRequest(POST, { path: `/datasets/${id}/evaluations`, body: 'user_id,anchor_time,probability\n' }),
  ];

  it.each([
    ['above the seed range', `seed-99999999999-${hash}`],
    ['one past the largest seed', `seed-4294967296-${hash}`],
    ['a seed with a leading zero (never an id: datasetAddress writes none)', `seed-042-${hash}`],
  ])('%s → 400 datasetId', async (_name, id) => {
    for (const event of routes(id)) {
      await refused(event, 400, 'datasetId');
      const response = await h.api(event);
      expect(errorsOf(response.json)[0].rule).toContain('4294967295');
    }
  });

  it('the largest seed is a well-formed id: 404 when not published', async () => {
    for (const event of routes(`seed-4294967295-${hash}`)) expect((await h.api(event)).statusCode).toBe(404);
  });
});

describe('GET /datasets?seed=N: nextToken', () => {
  const SEED = 21;
  const configs = [1, 2, 3, 4, 5, 6, 7].map((users) => parseConfig({ seed: SEED, users }));
  const published = configs.slice(0, 6);
  const ids = published.map((c) => datasetAddress(c).datasetId).sort();

  /** Publishes six datasets of one seed and starts a seventh (a folder with only its run marker). */
  async function fill(storage: DatasetStorage, root: string): Promise<void> {
    for (const config of published) await publishDataset(config, { storage, root });
    const running = datasetAddress(configs[6]);
    expect(
      await claimRun(
        storage,
        `${root}/${running.prefix}`,
        { datasetId: running.datasetId, startedAt: new Date().toISOString(), trigger: 'api' },
        900,
      ),
    ).toBe(true);
  }

  /** Every page, following nextToken; each token must look like the API documents it. */
  async function pages(
    list: (limit: number, token?: string) => Promise<{ datasets: { datasetId: string }[]; nextToken?: string }>,
    limit: number,
  ) {
    const seen: string[] = [];
    let token: string | undefined;
    let count = 0;
    do {
      const page = await list(limit, token);
      expect(page.datasets.length).toBeLessThanOrEqual(limit);
      seen.push(...page.datasets.map((d) => d.datasetId));
      token = page.nextToken;
      if (token !== undefined) expect(token).toMatch(/^[0-9a-f]{16}$/);
      expect(++count).toBeLessThan(20);
    } while (token);
    return seen;
  }

  it('on S3, through the handler: every page size returns every dataset exactly once', async () => {
    const s = await createHarness(s3);
    await fill(s.storage, 'tierdrift');
    for (const limit of [1, 2, 3, 7, 100]) {
      const seen = await pages(async (l, token) => {
        const response = await s.api(
          GET('/datasets', { seed: String(SEED), limit: String(l), ...(token && { nextToken: token }) }),
        );
        expect(response.statusCode).toBe(200);
        return response.json as unknown as { datasets: { datasetId: string }[]; nextToken?: string };
      }, limit);
      expect(seen.sort(), `limit ${limit}`).toEqual(ids);
    }
  });

  it('in a local folder: every page size returns every dataset exactly once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tierdrift-list-'));
    try {
      const store: DatasetStore = { storage: new LocalFolderStorage(dir), root: 'tierdrift' };
      await fill(store.storage, store.root);
      for (const limit of [1, 2, 3, 7, 100]) {
        expect(
          (await pages((l, token) => listDatasets(store, SEED, l, token), limit)).sort(),
          `limit ${limit}`,
        ).toEqual(ids);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['garbage', 'garbage'],
    ['an S3 continuation token', 'MTIzNDU2Nzg5MGFiY2RlZg=='],
    ['a key', `tierdrift/seed=21/${'a'.repeat(16)}/`],
    ['a hash with upper-case digits', 'FE0BBB5CEE398A3B'],
    ['a hash one digit short', 'fe0bbb5cee398a3'],
    ['a path', '../seed=7'],
  ])('an unparseable nextToken (%s) → 400 nextToken', async (_name, nextToken) => {
    await refused(GET('/datasets', { seed: '7', nextToken }), 400, 'nextToken');
  });
});

describe('a JSON body that gives a key twice is ambiguous: 400 naming the key path', () => {
  it.each([
    ['at the top', '{"seed": 1, "seed": 2}', 'seed'],
    ['with the same value', '{"users": 5, "users": 5}', 'users'],
    ['nested', '{"tasks": {"gridHours": 1, "gridHours": 2}}', 'tasks.gridHours'],
    ['one written with an escape', '{"se\\u0065d": 1, "seed": 2}', 'seed'],
    [
      'deeper, beside valid keys',
      '{"seed": 3, "upgradeSpike": {"probability": 0.5, "maxUploads": 1, "probability": 0.6}}',
      'upgradeSpike.probability',
    ],
  ])('%s: %s → %s', async (_name, body, field) => {
    await refused(withRequest(POST, { body }), 400, field);
  });

  it('a deeply nested body is read without running out of stack: 400, not 500', async () => {
    await refused(withRequest(POST, { body: `${'['.repeat(30_000)}${']'.repeat(30_000)}` }), 400, '(config)');
    await refused(withRequest(POST, { body: `${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}` }), 400, 'a');
  });

  it('one key in two objects is not a repeat: published', async () => {
    const body = '{"seed": 3, "users": 10, "freeUploadsPerDay": {"mean": 2}, "premiumUploadsPerDay": {"mean": 2}}';
    expect((await h.api(withRequest(POST, { body }))).statusCode).toBe(201);
  });
});

describe('more API edges', () => {
  it('a query parameter given twice (API Gateway passes one value on) → 400 naming it', async () => {
    const event = { ...GET('/datasets', { seed: '8' }), multiValueQueryStringParameters: { seed: ['7', '8'] } };
    await refused(event, 400, 'seed');
    const post = {
      ...withRequest(POST, { body: '{"seed": 4, "users": 10}' }),
      multiValueQueryStringParameters: { x: ['1', '2'] },
    };
    await refused(post, 400, 'x');
  });

  it('an unknown (e.g. misspelt) query parameter on GET /datasets → 400 naming it', async () => {
    await refused(GET('/datasets', { seed: '7', limt: '5' }), 400, 'limt');
  });

  it('a body that is not UTF-8 → 400 (body), for a config and for predictions', async () => {
    const latin1 = Buffer.from('{"seed": 7, "engine": "r\xe9ference"}', 'latin1').toString('base64');
    await refused({ ...withRequest(POST, { body: latin1 }), isBase64Encoded: true }, 400, '(body)');
  });

  it('an unknown threshold on POST /datasets/{id}/evaluations → 400 naming it (the default would be used silently)', async () => {
    const id = 'seed-1-0000000000000000';
    await putHandMadeDataset(h.storage, 'tierdrift/seed=1/0000000000000000', { ...SCORING_DATASET, datasetId: id });
    const evaluate = (query: Record<string, string> | null, body = scoringPredictions()) =>
      withRequest(POST, { path: `/datasets/${id}/evaluations`, body, queryStringParameters: query });
    expect((await h.api(evaluate({ maxJustDowngraded: '0.01' }))).statusCode).toBe(200);
    await refused(evaluate({ maxJustDowngrade: '0.01' }), 400, 'maxJustDowngrade');
    const notText = Buffer.from(`${scoringPredictions()}\xff`, 'latin1').toString('base64');
    await refused({ ...evaluate(null, notText), isBase64Encoded: true }, 400, '(body)');
  });
});
