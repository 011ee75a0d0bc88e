import { beforeAll, describe, expect, it } from 'vitest';
import { datasetAddress } from '../lambda/config/dataset-id.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { evaluatePredictions } from '../lambda/evaluation/evaluate.js';
import { parsePredictions } from '../lambda/evaluation/predictions.js';
import { apiEvent, createHarness, withRequest, type Harness } from './support/handler-harness.js';
import { useLocalS3 } from './support/local-s3.js';
import { putHandMadeDataset, SCORING_DATASET, scoringPredictions } from './support/task-dataset.js';

const s3 = useLocalS3();
let h: Harness;
let keys: string[];
const ID = 'seed-1-0000000000000000';
const PREFIX = 'tierdrift/seed=1/0000000000000000';

beforeAll(async () => {
  h = await createHarness(s3, { MAX_BODY_BYTES: '2048' });
  await putHandMadeDataset(h.storage, PREFIX, { ...SCORING_DATASET, datasetId: ID });
  keys = await h.keys();
});

const post = (body: string | null, path = `/datasets/${ID}/evaluations`) =>
  withRequest(apiEvent('api-get-tiers.json'), { httpMethod: 'POST', path, body });
const errorsOf = (json: Record<string, unknown>) => json.errors as { field: string; rule: string }[];

describe('POST /datasets/{datasetId}/evaluations', () => {
  it('200 with the report the CLI writes, for a text body and a base64 one', async () => {
    const text = scoringPredictions();
    const expected = await evaluatePredictions(h.storage, PREFIX, ID, parsePredictions(text));
    const response = await h.api(post(text));
    expect(response.statusCode).toBe(200);
    expect(response.json).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(response.json).toMatchObject({ datasetId: ID, rows: 6, expectationsPassed: true });

    const encoded = await h.api({ ...post(Buffer.from(text).toString('base64')), isBase64Encoded: true });
    expect([encoded.statusCode, encoded.json]).toEqual([200, response.json]);
  });

  it('thresholds from the query string; a bad one is a 400 naming it', async () => {
    const strict = await h.api(
      withRequest(post(scoringPredictions()), {
        queryStringParameters: { minJustUpgraded: '0.95', maxJustDowngraded: '0' },
      }),
    );
    expect(strict.statusCode).toBe(200);
    expect(strict.json.expectations).toMatchObject([
      { scenario: 'just_downgraded', threshold: 0, passed: true },
      { scenario: 'just_upgraded', threshold: 0.95, passed: false },
      { scenario: 'premium_long', threshold: expect.closeTo(0.3, 15), passed: true },
    ]);
    const bad = await h.api(
      withRequest(post(scoringPredictions()), {
        queryStringParameters: { maxJustDowngraded: '2', minPremiumLongRatio: 'x' },
      }),
    );
    expect(bad.statusCode).toBe(400);
    expect(errorsOf(bad.json)).toEqual([
      { field: 'maxJustDowngraded', rule: 'must be a number from 0 to 1' },
      { field: 'minPremiumLongRatio', rule: 'must be a number >= 0' },
    ]);
  });

  const lines = scoringPredictions().trim().split('\n');
  it.each([
    ['an empty body', null, '(file)'],
    ['a missing column', 'user_id,anchor_time\n1,2025-03-01T12:00:00Z\n', 'header'],
    ['a probability outside [0, 1]', scoringPredictions([0.6, 0.6, 0.2, 0.1, 1.2, 0]), 'line 6'],
    ['a non-numeric probability', scoringPredictions([0.6, 'NaN', 0.2, 0.1, 0.9, 0]), 'line 3'],
    ['a duplicate row', [...lines, lines[1]].join('\n'), 'line 8'],
    ['a missing row', lines.slice(0, -1).join('\n'), 'user 3 at 2025-03-01T18:30:00Z'],
    ['an unknown anchor', [...lines, '1,2025-03-01T13:00:00Z,0.5'].join('\n'), 'line 8'],
  ])('%s: 400 naming the rows', async (_name, body, field) => {
    const response = await h.api(post(body));
    expect(response.statusCode).toBe(400);
    expect(response.json.message).toBe('invalid predictions');
    expect(errorsOf(response.json).map((e) => e.field)).toContain(field);
  });

  it.each([
    [
      'an unknown dataset',
      post(scoringPredictions(), '/datasets/seed-7-0123456789abcdef/evaluations'),
      404,
      'datasetId',
    ],
    ['a malformed dataset id', post(scoringPredictions(), '/datasets/seed-7-XYZ/evaluations'), 400, 'datasetId'],
    ['a body over MAX_BODY_BYTES', post(`${scoringPredictions()}${'\n'.repeat(2048)}`), 413, '(body)'],
    ['GET', withRequest(post(null), { httpMethod: 'GET' }), 405, '(method)'],
  ])('%s → %i', async (_name, event, status, field) => {
    const response = await h.api(event);
    expect(response.statusCode).toBe(status);
    expect(errorsOf(response.json).map((e) => e.field)).toContain(field);
    if (status === 405) expect(response.headers?.Allow).toBe('POST');
  });

  it('404 for a dataset whose manifest lists no task file (published before there were tasks)', async () => {
    const { start, end } = SCORING_DATASET;
    const manifest = { datasetId: 'seed-3-0000000000000000', config: { start, end }, files: [{ name: 'users.csv' }] };
    await h.storage.putIfAbsent('tierdrift/seed=3/0000000000000000/manifest.json', JSON.stringify(manifest));
    const response = await h.api(post(scoringPredictions(), '/datasets/seed-3-0000000000000000/evaluations'));
    expect(response.statusCode).toBe(404);
    expect(errorsOf(response.json)[0].rule).toContain('tasks/upload_50gb_next_hour.csv');
    keys = await h.keys();
  });

  it('writes nothing', async () => {
    await h.api(post(scoringPredictions()));
    expect(await h.keys()).toEqual(keys);
  });
});

describe('events/api-post-evaluation.json', () => {
  it('scores its predictions for the dataset {"seed": 7, "users": 3}: 200 with a report of every task row', async () => {
    const h = await createHarness(s3); // the default MAX_BODY_BYTES
    const event = apiEvent('api-post-evaluation.json');
    const config = { seed: 7, users: 3 };
    const { datasetId } = datasetAddress(parseConfig(config));
    expect(event.pathParameters?.datasetId).toBe(datasetId);
    expect(
      (await h.api(withRequest(apiEvent('api-post-default.json'), { body: JSON.stringify(config) }))).statusCode,
    ).toBe(201);

    const response = await h.api(event);
    expect(response.statusCode).toBe(200);
    const prefix = `tierdrift/seed=7/${datasetId.split('-')[2]}`;
    const expected = await evaluatePredictions(h.storage, prefix, datasetId, parsePredictions(event.body!));
    expect(response.json).toEqual(JSON.parse(JSON.stringify(expected)));
    const manifest = JSON.parse((await h.storage.read(`${prefix}/manifest.json`))!.toString());
    expect(response.json.rows).toBe(
      manifest.files.find((f: { name: string }) => f.name === 'tasks/upload_50gb_next_hour.csv').rows,
    );
  });
});

describe('a dataset generated with tasks.enabled false', () => {
  it('POST /datasets publishes it without a task file; its evaluations answer 404 saying why', async () => {
    const h = await createHarness(s3);
    const config = { seed: 8, users: 3, tasks: { enabled: false } };
    const { datasetId } = datasetAddress(parseConfig(config));
    const created = await h.api(withRequest(apiEvent('api-post-default.json'), { body: JSON.stringify(config) }));
    expect(created.statusCode).toBe(201);
    const names = (created.json.files as { name: string }[]).map((f) => f.name);
    expect(names).not.toContain('tasks/upload_50gb_next_hour.csv');
    expect(names).toContain('truth/users.csv');

    const response = await h.api(post(scoringPredictions(), `/datasets/${datasetId}/evaluations`));
    expect(response.statusCode).toBe(404);
    expect(errorsOf(response.json)[0].rule).toMatch(
      /has no task to score or predict: it was generated with tasks\.enabled false/,
    );
  });
});
