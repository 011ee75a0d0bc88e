import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it, vi } from 'vitest';
import { datasetAddress } from '../lambda/config/dataset-id.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { createHandler } from '../lambda/handler/create-handler.js';
import { dependenciesFromEnvironment } from '../lambda/handler/default-dependencies.js';
import { EnvironmentError, loadEnvironment } from '../lambda/handler/environment.js';
import { NightlyRunError } from '../lambda/handler/nightly-run.js';
import { apiEvent, createHarness, readEvent } from './support/handler-harness.js';
import { useLocalS3 } from './support/local-s3.js';
import { EXPECTED_FILES } from './support/expected-files.js';

const s3 = useLocalS3();

const prefixOf = (config: Record<string, unknown>, root = 'tierdrift') =>
  `${root}/${datasetAddress(parseConfig(config)).prefix}`;

it('every Lambda event sample in events/ is exercised by the handler tests', () => {
  const samples = readdirSync(new URL('../events/', import.meta.url)).filter((f) => !f.startsWith('config-'));
  const tests = [
    'handler-api.test.ts',
    'handler-triggers.test.ts',
    'handler-fanout.test.ts',
    'handler-evaluation.test.ts',
  ]
    .map((t) => readFileSync(new URL(t, import.meta.url), 'utf8'))
    .join('');
  expect(samples.filter((f) => !tests.includes(`'${f}'`))).toEqual([]);
  expect(samples).toHaveLength(10);
});

describe('the nightly schedule (schedule-nightly.json)', () => {
  it('publishes each fixture, seedFromDate from the scheduled time, and points latest/<name>.json at it; idempotent', async () => {
    const h = await createHarness(s3);
    const payload = readEvent('schedule-nightly.json');
    const report = await h.handler(payload);
    expect(report).toMatchObject({
      runDate: '2026-11-24T03:00:00.000Z',
      fixtures: [
        { name: 'notebook', ok: true, status: 'created' },
        { name: 'rolling', ok: true, status: 'created' },
      ],
    });
    const notebook = prefixOf({ seed: 42 });
    // Date-seeded fixtures go under the rolling root, which the bucket's lifecycle expires.
    const rolling = prefixOf({ users: 1000, seed: 20261124 }, 'tierdrift/rolling');
    const pointer = JSON.parse((await h.storage.read('tierdrift/latest/rolling.json'))!.toString());
    expect(pointer).toEqual({
      name: 'rolling',
      datasetId: datasetAddress(parseConfig({ users: 1000, seed: 20261124 })).datasetId,
      prefix: rolling,
      manifestKey: `${rolling}/manifest.json`,
      publishedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(await h.keys()).toContain(`${notebook}/manifest.json`);
    expect(await h.keys()).toContain(`${rolling}/manifest.json`);
    expect(await h.keys()).toContain('tierdrift/latest/notebook.json');

    const again = await h.handler(payload);
    expect(again).toMatchObject({ fixtures: [{ status: 'existing' }, { status: 'existing' }] });
  });

  it('without a scheduled time, seedFromDate uses the current UTC date', async () => {
    const h = await createHarness(s3);
    const report = await h.handler({ fixtures: [{ name: 'today', config: { users: 10 }, seedFromDate: true }] });
    const d = new Date();
    const seed = d.getUTCFullYear() * 10000 + (d.getUTCMonth() + 1) * 100 + d.getUTCDate();
    expect(report).toMatchObject({
      fixtures: [{ ok: true, pointer: { datasetId: expect.stringMatching(new RegExp(`^seed-${seed}-`)) } }],
    });
  });

  it('one bad fixture: the others are still published and pointed to, then the invocation fails', async () => {
    const h = await createHarness(s3);
    const { fixtures } = readEvent('schedule-nightly.json') as { fixtures: unknown[] };
    const payload = {
      fixtures: [
        fixtures[0],
        { name: 'broken', config: { users: 0 } },
        { name: 'dated', config: { seed: 1 }, seedFromDate: true },
        fixtures[1],
      ],
      scheduledTime: '2026-11-24T03:00:00Z',
    };
    const failure = await h.handler(payload).then(
      () => undefined,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(NightlyRunError);
    expect((failure as Error).message).toMatch(
      /^2 of 4 fixtures failed: broken \(users: .*\), dated \(seed: must not be given with seedFromDate\)/,
    );
    const keys = await h.keys();
    expect(keys).toContain('tierdrift/latest/notebook.json');
    expect(keys).toContain('tierdrift/latest/rolling.json');
    expect(keys).toContain(`${prefixOf({ users: 1000, seed: 20261124 }, 'tierdrift/rolling')}/manifest.json`);
    expect(keys.filter((k) => k.includes('broken') || k.includes('dated'))).toEqual([]);
  });

  it('a malformed payload (bad or duplicate names) is refused whole, before anything is written', async () => {
    const h = await createHarness(s3);
    const payload = {
      fixtures: [
        { name: 'Bad_Name', config: {} },
        { name: 'a', config: {} },
        { name: 'a', config: {} },
      ],
    };
    await expect(h.handler(payload)).rejects.toThrow(
      /fixtures\.0\.name: must be 1 to 63 lowercase.*fixtures\.2\.name: duplicate fixture name "a"/,
    );
    expect(await h.keys()).toEqual([]);
  });
});

describe('the background job (background-job.json)', () => {
  it('publishes the config and records the run as over', async () => {
    const h = await createHarness(s3);
    const job = readEvent('background-job.json') as { config: Record<string, unknown> };
    const prefix = prefixOf(job.config);
    expect(await h.handler(job)).toEqual({
      datasetId: datasetAddress(parseConfig(job.config)).datasetId,
      status: 'created',
      prefix,
    });
    const keys = await h.keys();
    const files = ['_run.json', ...EXPECTED_FILES, 'manifest.json'].sort();
    expect(keys).toEqual(files.map((f) => `${prefix}/${f}`));
    const marker = JSON.parse((await h.storage.read(`${prefix}/_run.json`))!.toString());
    expect(marker.endedAt >= marker.startedAt).toBe(true);
  });

  it('an invalid job fails the invocation (Lambda then retries it) and writes nothing', async () => {
    const h = await createHarness(s3);
    await expect(h.handler({ kind: 'tierdrift.generate', config: { users: -1 } })).rejects.toThrow(
      /invalid job config: users/,
    );
    expect(await h.keys()).toEqual([]);
  });

  it('an event of no known shape is refused', async () => {
    const h = await createHarness(s3);
    await expect(h.handler({ hello: 'world' })).rejects.toThrow(/unrecognised event/);
  });
});

describe('observability', () => {
  it('logs each run as structured JSON and flushes EMF metrics (namespace tierdrift) once per invocation', async () => {
    const bucket = 'observability-test';
    await s3.createBucket(bucket);
    const lines: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    });
    try {
      delete process.env.POWERTOOLS_METRICS_DISABLED;
      const deps = dependenciesFromEnvironment({ BUCKET_NAME: bucket });
      const handler = createHandler({
        ...deps,
        logger: new Logger({ serviceName: 'tierdrift' }),
        metrics: new Metrics({ namespace: 'tierdrift', serviceName: 'tierdrift' }),
      });
      await handler({ kind: 'tierdrift.generate', config: { seed: 5, users: 200 } });
    } finally {
      write.mockRestore();
    }
    const records = lines
      .flatMap((l) => l.split('\n'))
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const log = records.find((r) => r.message === 'dataset published');
    expect(log).toMatchObject({
      level: 'INFO',
      datasetId: datasetAddress(parseConfig({ seed: 5, users: 200 })).datasetId,
      trigger: 'job',
    });
    expect(log?.rows).toBeGreaterThan(200);
    expect(log?.bytes).toBeGreaterThan(0);
    expect(typeof log?.durationMs).toBe('number');
    const emf = records.filter((r) => r._aws !== undefined);
    expect(emf).toHaveLength(1);
    const directive = (
      emf[0]._aws as { CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[] }
    ).CloudWatchMetrics[0];
    expect(directive.Namespace).toBe('tierdrift');
    expect(directive.Metrics.map((m) => m.Name).sort()).toEqual(['bytes', 'duration', 'rows']);
    expect(directive.Dimensions[0]).toContain('trigger');
    expect(emf[0]).toMatchObject({ trigger: 'job', rows: log?.rows, bytes: log?.bytes });
  });
});

describe('environment', () => {
  it('fills the defaults', () => {
    expect(loadEnvironment({ BUCKET_NAME: 'my-bucket' })).toEqual({
      bucket: 'my-bucket',
      root: 'tierdrift',
      rollingRoot: 'tierdrift/rolling',
      maxUsers: 10_000_000,
      singleRunMaxUsers: 1_000_000,
      singleRunMaxBytes: 8_000_000_000,
      maxOutputBytes: 50_000_000_000,
      sync: { maxUsers: 200_000, maxRows: 10_000_000 },
      syncWaitSeconds: 10,
      fanout: { minUsers: 1_000_000, stateMachineArn: undefined },
      maxBodyBytes: 65_536,
      runMarkerStaleSeconds: 900,
      presignExpiresSeconds: 900,
      functionName: undefined,
    });
  });

  it('names every bad variable and its rule', () => {
    const error = (() => {
      try {
        loadEnvironment({
          BUCKET_NAME: 'Not_A_Bucket',
          ROOT_PREFIX: '/x/',
          ROLLING_PREFIX: 'a//b',
          MAX_USERS: '20000000',
          SYNC_MAX_USERS: 'lots',
          PRESIGN_EXPIRES_SECONDS: '0',
        });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(EnvironmentError);
    expect((error as EnvironmentError).problems.map((p) => p.variable)).toEqual([
      'BUCKET_NAME',
      'ROOT_PREFIX',
      'ROLLING_PREFIX',
      'MAX_USERS',
      'SYNC_MAX_USERS',
      'PRESIGN_EXPIRES_SECONDS',
    ]);
    expect((error as Error).message).toContain('MAX_USERS: must be an integer from 1 to 10000000 (got "20000000")');
    expect(() => loadEnvironment({})).toThrow('BUCKET_NAME: is required');
  });

  it('the exported Lambda handler is wired from the environment at cold start', async () => {
    const bucket = 'cold-start-test';
    await s3.createBucket(bucket);
    vi.stubEnv('BUCKET_NAME', bucket);
    vi.stubEnv('POWERTOOLS_LOG_LEVEL', 'SILENT');
    vi.stubEnv('POWERTOOLS_METRICS_DISABLED', 'true');
    try {
      const { handler } = await import('../lambda/handler/index.js');
      const list = apiEvent('api-get-list.json');
      const response = await handler(list);
      expect([response.statusCode, JSON.parse(response.body).datasets]).toEqual([200, []]);
    } finally {
      vi.unstubAllEnvs();
    }
  });
});
