import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { datasetAddress } from '../lambda/config/dataset-id.js';
import { parseConfig } from '../lambda/validation/validate.js';
import type { DatasetDescription } from '../lambda/catalog/describe-dataset.js';
import { GENERATE_JOB_KIND } from '../lambda/handler/background-job.js';
import { useLocalS3 } from './support/local-s3.js';
import { apiEvent, createHarness, withRequest, type Harness } from './support/handler-harness.js';
import { EXPECTED_FILES } from './support/expected-files.js';

const s3 = useLocalS3();

const POST = apiEvent('api-post-default.json');
const datasetIdOf = (body: string | null) => datasetAddress(parseConfig(JSON.parse(body!))).datasetId;
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const DATASET_KEYS = [...EXPECTED_FILES, 'manifest.json', '_run.json'].sort();

describe('POST /datasets (api-post-default.json), then the GET events', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(s3);
  });

  it('publishes the config: 201 with the manifest and a presigned URL per file, then 200 when asked again', async () => {
    const created = await h.api(POST);
    expect(created.statusCode).toBe(201);
    const body = created.json as unknown as DatasetDescription;
    expect(body.datasetId).toBe(datasetIdOf(POST.body));
    expect(created.headers?.Location).toBe(`/prod/datasets/${body.datasetId}`);
    expect(body.prefix).toBe(`tierdrift/seed=7/${body.manifest.configHash}`);
    expect(body.manifest.config.users).toBe(1000);
    expect(body.files.map((f) => f.name)).toEqual(EXPECTED_FILES);
    expect(await h.keys()).toEqual(DATASET_KEYS.map((f) => `${body.prefix}/${f}`));

    const again = await h.api(POST);
    expect(again.statusCode).toBe(200);
    expect((again.json as unknown as DatasetDescription).manifest).toEqual(body.manifest);
  });

  it('every presigned URL downloads the file the manifest describes, from the loopback server', async () => {
    const { json } = await h.api(POST);
    const body = json as unknown as DatasetDescription;
    for (const file of body.files) {
      expect(new URL(file.url).hostname).toBe('127.0.0.1');
      expect(file.url).toContain('X-Amz-Expires=900');
      const response = await fetch(file.url);
      expect(response.status, file.name).toBe(200);
      const bytes = new Uint8Array(await response.arrayBuffer());
      const listed = body.manifest.files.find((f) => f.name === file.name)!;
      expect([bytes.length, sha256(bytes)]).toEqual([listed.bytes, listed.sha256]);
    }
  });

  it('api-get-dataset.json: 200 with the same description', async () => {
    const event = apiEvent('api-get-dataset.json');
    expect(event.pathParameters?.datasetId).toBe(datasetIdOf(POST.body));
    const got = await h.api(event);
    expect(got.statusCode).toBe(200);
    expect((got.json as unknown as DatasetDescription).manifest.datasetId).toBe(event.pathParameters?.datasetId);
  });

  it('api-get-tiers.json: the merged tier timeline of user 42', async () => {
    const got = await h.api(apiEvent('api-get-tiers.json'));
    expect(got.statusCode).toBe(200);
    const tiers = got.json.tiers as { tier: string; from: string; until: string }[];
    expect(got.json.userId).toBe(42);
    expect(tiers.length).toBeGreaterThan(0);
    expect(tiers[0].from).toBe('2025-03-01T00:00:00Z');
    expect(tiers[tiers.length - 1].until).toBe('2025-03-11T00:00:00Z');
    for (let i = 1; i < tiers.length; i++) {
      expect(tiers[i].from).toBe(tiers[i - 1].until);
      expect(tiers[i].tier).not.toBe(tiers[i - 1].tier); // merged: no two adjacent spans of one tier
    }
  });

  it('tiers: 404 for a user outside the dataset and for an unknown dataset', async () => {
    const base = apiEvent('api-get-tiers.json');
    const id = base.pathParameters!.datasetId;
    const user = await h.api(withRequest(base, { path: `/datasets/${id}/users/1001/tiers` }));
    expect([user.statusCode, (user.json.errors as { field: string }[])[0].field]).toEqual([404, 'userId']);
    const dataset = await h.api(withRequest(base, { path: '/datasets/seed-7-0000000000000000/users/1/tiers' }));
    expect([dataset.statusCode, (dataset.json.errors as { field: string }[])[0].field]).toEqual([404, 'datasetId']);
    const bad = await h.api(withRequest(base, { path: `/datasets/${id}/users/abc/tiers` }));
    expect(bad.statusCode).toBe(400);
  });

  it('api-get-list.json: the datasets of seed 7, paginated', async () => {
    await h.api(withRequest(POST, { body: JSON.stringify({ seed: 7, users: 50 }) }));
    const event = apiEvent('api-get-list.json');
    const all = await h.api(event);
    expect(all.statusCode).toBe(200);
    const ids = (all.json.datasets as { datasetId: string; users: number }[]).map((d) => d.datasetId).sort();
    expect(ids).toEqual([datasetIdOf(POST.body), datasetAddress(parseConfig({ seed: 7, users: 50 })).datasetId].sort());
    expect(all.json.nextToken).toBeUndefined();

    const seen: string[] = [];
    let nextToken: string | undefined;
    do {
      const query = { seed: '7', limit: '1', ...(nextToken && { nextToken }) };
      const page = await h.api(withRequest(event, { queryStringParameters: query }));
      seen.push(...(page.json.datasets as { datasetId: string }[]).map((d) => d.datasetId));
      nextToken = page.json.nextToken as string | undefined;
    } while (nextToken);
    expect(seen.sort()).toEqual(ids);

    const other = await h.api(withRequest(event, { queryStringParameters: { seed: '8' } }));
    expect(other.json.datasets).toEqual([]);
  });
});

describe('bad requests: the answer lists each problem and nothing is written', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness(s3, { MAX_BODY_BYTES: '4096' });
  });

  const errorsOf = (json: Record<string, unknown>) => json.errors as { field: string; rule: string }[];

  it('api-post-invalid.json: 400 naming every broken field, the user cap among them', async () => {
    const response = await h.api(apiEvent('api-post-invalid.json'));
    expect(response.statusCode).toBe(400);
    expect(response.headers?.['content-type']).toMatch(/^application\/json/);
    const errors = errorsOf(response.json);
    expect(errors.map((e) => e.field).sort()).toEqual(['end', 'seed', 'user', 'users']);
    // 5,000,000 users of the reference engine: over what one invocation publishes (it cannot be split).
    expect(errors.find((e) => e.field === 'users')?.rule).toBe(
      'must be at most 1000000 on this deployment (SINGLE_RUN_MAX_USERS: what one invocation publishes; only seedrandom configs can be split, up to 10000000 (MAX_USERS))',
    );
  });

  it.each([
    ['bad JSON', withRequest(POST, { body: '{"seed": 7,' }), 400, '(body)'],
    ['an empty body', withRequest(POST, { body: null }), 400, '(body)'],
    ['a config that is not an object', withRequest(POST, { body: '[1, 2]' }), 400, '(config)'],
    [
      'users above SINGLE_RUN_MAX_USERS alone (reference engine)',
      withRequest(POST, { body: '{"users": 1000001}' }),
      400,
      'users',
    ],
    [
      'a body over MAX_BODY_BYTES',
      withRequest(POST, { body: JSON.stringify({ seed: 7, pad: ' '.repeat(5000) }) }),
      413,
      '(body)',
    ],
    ['an unknown route', withRequest(POST, { httpMethod: 'GET', path: '/jobs' }), 404, '(path)'],
    [
      'a wrong method on a known path',
      withRequest(POST, { httpMethod: 'DELETE', path: '/datasets/seed-7-458e8dd1c9773e6a' }),
      405,
      '(method)',
    ],
    [
      'a malformed dataset id',
      withRequest(POST, { httpMethod: 'GET', path: '/datasets/seed-7-XYZ' }),
      400,
      'datasetId',
    ],
    [
      'an unknown dataset',
      withRequest(POST, { httpMethod: 'GET', path: '/datasets/seed-7-0123456789abcdef' }),
      404,
      'datasetId',
    ],
    ['a list without seed', withRequest(POST, { httpMethod: 'GET', queryStringParameters: null }), 400, 'seed'],
    [
      'a list with a bad limit',
      withRequest(POST, { httpMethod: 'GET', queryStringParameters: { seed: '7', limit: '0' } }),
      400,
      'limit',
    ],
  ])('%s → %i', async (_name, event, status, field) => {
    const response = await h.api(event);
    expect(response.statusCode).toBe(status);
    expect(errorsOf(response.json).map((e) => e.field)).toContain(field);
    expect(typeof response.json.message).toBe('string');
    if (status === 405) expect(response.headers?.Allow).toBe('GET');
    expect(await h.keys()).toEqual([]);
  });

  it('a base64-encoded body is decoded like API Gateway sends binary bodies', async () => {
    const event = withRequest(POST, { body: Buffer.from('{"seed": "x"}').toString('base64') });
    const response = await h.api({ ...event, isBase64Encoded: true });
    expect([response.statusCode, errorsOf(response.json)[0].field]).toEqual([400, 'seed']);
    expect(await h.keys()).toEqual([]);
  });
});

describe('POST over the sync threshold: a background job', () => {
  it('api-post-background.json: 202 with a Location, the job handed off once, the run marker written, nothing else', async () => {
    const h = await createHarness(s3);
    const event = apiEvent('api-post-background.json');
    const datasetId = datasetIdOf(event.body);
    const response = await h.api(event);
    expect(response.statusCode).toBe(202);
    expect(response.json).toMatchObject({ datasetId, status: 'running' });
    expect(response.headers?.Location).toBe(`/prod/datasets/${datasetId}`);
    expect(h.jobs).toEqual([
      { kind: GENERATE_JOB_KIND, config: parseConfig(JSON.parse(event.body!)), requestedAt: expect.any(String) },
    ]);
    const prefix = `tierdrift/seed=7/${datasetId.split('-')[2]}`;
    expect(await h.keys()).toEqual([`${prefix}/_run.json`]);

    // The same request while the run is under way does not start another one.
    expect((await h.api(event)).statusCode).toBe(202);
    expect(h.jobs).toHaveLength(1);
    const get = withRequest(event, { httpMethod: 'GET', path: `/datasets/${datasetId}`, body: null });
    expect((await h.api(get)).statusCode).toBe(202);

    // A marker older than the function's timeout is a dead run: not found, and a new POST restarts it.
    h.advance(901);
    expect((await h.api(get)).statusCode).toBe(404);
    expect((await h.api(event)).statusCode).toBe(202);
    expect(h.jobs).toHaveLength(2);
  });

  it('GET answers 202 while the job has not run and 200 once it has; the marker records the run as over', async () => {
    const h = await createHarness(s3, { SYNC_MAX_USERS: '1000' });
    const post = withRequest(POST, { body: JSON.stringify({ seed: 11, users: 3000 }) });
    expect((await h.api(post)).statusCode).toBe(202);
    const datasetId = datasetIdOf(post.body);
    const get = withRequest(POST, { httpMethod: 'GET', path: `/datasets/${datasetId}`, body: null });
    expect((await h.api(get)).json).toMatchObject({ status: 'running' });

    const report = await h.handler(h.jobs[0]);
    expect(report).toMatchObject({ datasetId, status: 'created' });
    const done = await h.api(get);
    expect(done.statusCode).toBe(200);
    expect((done.json as unknown as DatasetDescription).files).toHaveLength(EXPECTED_FILES.length);
    const marker = JSON.parse(
      (await h.storage.read(`tierdrift/seed=11/${datasetId.split('-')[2]}/_run.json`))!.toString(),
    );
    expect(marker).toMatchObject({ datasetId, trigger: 'job', endedAt: expect.any(String) });
    // Published: a new POST answers 200 at once instead of starting a run.
    expect((await h.api(post)).statusCode).toBe(200);
    expect(h.jobs).toHaveLength(1);
  });

  it('a config with few users but a huge upload rate also runs in the background', async () => {
    const h = await createHarness(s3);
    const body = JSON.stringify({
      users: 100,
      freeUploadsPerDay: { mean: 100000 },
      premiumUploadsPerDay: { mean: 100000 },
    });
    expect((await h.api(withRequest(POST, { body }))).statusCode).toBe(202);
    expect(h.jobs).toHaveLength(1);
  });
});

describe('ten concurrent identical POSTs', () => {
  it('publish one dataset with one manifest: 201 once, 200 for the others, the same bytes for all', async () => {
    const h = await createHarness(s3);
    const event = withRequest(POST, { body: JSON.stringify({ seed: 3, users: 2000 }) });
    const responses = await Promise.all(Array.from({ length: 10 }, () => h.api(event)));
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 200, 200, 200, 200, 200, 201]);
    const manifests = responses.map((r) => (r.json as unknown as DatasetDescription).manifest);
    for (const m of manifests) expect(m).toEqual(manifests[0]);
    const prefix = (responses[0].json as unknown as DatasetDescription).prefix;
    expect(await h.keys()).toEqual(DATASET_KEYS.map((f) => `${prefix}/${f}`));
    for (const file of manifests[0].files) {
      expect(sha256((await h.storage.read(`${prefix}/${file.name}`))!)).toBe(file.sha256);
    }
  });
});
