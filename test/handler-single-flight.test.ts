import { setTimeout } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { datasetAddress } from '../lambda/config/dataset-id.js';
import { parseConfig } from '../lambda/validation/validate.js';
import type { DatasetDescription } from '../lambda/catalog/describe-dataset.js';
import { claimRun, endRun, type RunMarker } from '../lambda/catalog/run-marker.js';
import { runMarkerKey } from '../lambda/layout/key-layout.js';
import { useLocalS3 } from './support/local-s3.js';
import { apiEvent, createHarness, withRequest, type Harness } from './support/handler-harness.js';
import { describeRequest, S3RequestLog } from './support/s3-request-log.js';

const s3 = useLocalS3();
let log: S3RequestLog;
beforeAll(async () => {
  log = new S3RequestLog(s3);
});

const POST = apiEvent('api-post-default.json');
const post = (config: object) => withRequest(POST, { body: JSON.stringify(config) });
const prefixOf = (config: object) => `tierdrift/${datasetAddress(parseConfig(config)).prefix}`;
const getOf = (config: object) =>
  withRequest(POST, {
    httpMethod: 'GET',
    path: `/datasets/${datasetAddress(parseConfig(config)).datasetId}`,
    body: null,
  });
/** How many times a file of the dataset was written (a PutObject or a multipart upload started): one per generation. */
const writesOf = (h: Harness, file: string) =>
  log
    .requests(h.bucket)
    .filter((r) => ['PutObject', 'CreateMultipartUpload'].some((op) => describeRequest(r) === `${op} ${file}`)).length;
const markerOf = async (h: Harness, prefix: string) =>
  JSON.parse((await h.storage.read(runMarkerKey(prefix)))!.toString()) as RunMarker;
/** A run of the dataset under way in another invocation: its fresh, open marker. */
async function runElsewhere(h: Harness, config: object): Promise<RunMarker> {
  const marker: RunMarker = {
    datasetId: datasetAddress(parseConfig(config)).datasetId,
    startedAt: new Date().toISOString(),
    trigger: 'api',
  };
  expect(await claimRun(h.storage, prefixOf(config), marker, 900)).toBe(true);
  return marker;
}

describe('single flight: concurrent identical synchronous POSTs', () => {
  it('20 at once cause one generation: one 201, the others 200 (or 202 with Location), one manifest', async () => {
    const h = await createHarness(s3);
    const config = { seed: 5, users: 5000 };
    log.restart(h.bucket);
    const responses = await Promise.all(Array.from({ length: 20 }, () => h.api(post(config))));

    expect(writesOf(h, 'uploads.csv')).toBe(1);
    const statuses = responses.map((r) => r.statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(1);
    expect(
      statuses.every((s) => s === 201 || s === 200 || s === 202),
      String(statuses),
    ).toBe(true);
    const created = responses.find((r) => r.statusCode === 201)!.json as unknown as DatasetDescription;
    for (const r of responses) {
      expect(r.headers?.Location).toBe(`/prod/datasets/${created.datasetId}`);
      if (r.statusCode === 200) expect((r.json as unknown as DatasetDescription).manifest).toEqual(created.manifest);
      if (r.statusCode === 202) expect(r.json).toMatchObject({ datasetId: created.datasetId, status: 'running' });
    }
    const keys = await h.keys();
    expect(keys.filter((k) => k.endsWith('/manifest.json'))).toEqual([`${created.prefix}/manifest.json`]);
    expect(await markerOf(h, created.prefix)).toMatchObject({
      datasetId: created.datasetId,
      endedAt: expect.any(String),
    });
    expect((await markerOf(h, created.prefix)).error).toBeUndefined();
  }, 120_000);

  it('while an identical run is under way elsewhere, a POST waits SYNC_WAIT_SECONDS and answers 202 with Location; once that run is stale, a POST takes over', async () => {
    const h = await createHarness(s3, { SYNC_WAIT_SECONDS: '1' });
    const config = { seed: 6, users: 300 };
    const { datasetId } = await runElsewhere(h, config);
    log.restart(h.bucket);

    const waited = await h.api(post(config));
    expect(waited.statusCode).toBe(202);
    expect(waited.json).toMatchObject({ datasetId, status: 'running', prefix: prefixOf(config) });
    expect(waited.headers?.Location).toBe(`/prod/datasets/${datasetId}`);
    expect(writesOf(h, 'uploads.csv')).toBe(0);
    expect(await h.keys()).toEqual([runMarkerKey(prefixOf(config))]);
    expect((await h.api(getOf(config))).statusCode).toBe(202); // the Location says "running" too

    // The other run died (e.g. its Lambda was killed): past RUN_MARKER_STALE_SECONDS its marker means nothing.
    h.advance(901);
    expect((await h.api(getOf(config))).statusCode).toBe(404);
    const taken = await h.api(post(config));
    expect(taken.statusCode).toBe(201);
    expect(writesOf(h, 'uploads.csv')).toBe(1);
  }, 60_000);

  it('a waiting POST answers 200 with the dataset once the other run publishes it', async () => {
    const h = await createHarness(s3, { SYNC_WAIT_SECONDS: '25' });
    const config = { seed: 8, users: 300 };
    const marker = await runElsewhere(h, config);
    log.restart(h.bucket);
    const waiting = h.api(post(config));
    await untilWaiting(h);
    // The other run, as a background job runs it: publishes, then ends the marker.
    expect(await h.handler({ kind: 'tierdrift.generate', config: parseConfig(config) })).toMatchObject({
      status: 'created',
    });
    const answered = await waiting;
    expect(answered.statusCode).toBe(200);
    expect((answered.json as unknown as DatasetDescription).manifest.datasetId).toBe(marker.datasetId);
  }, 60_000);

  it('a waiting POST answers 503 with Retry-After when the other run ends without publishing', async () => {
    const h = await createHarness(s3, { SYNC_WAIT_SECONDS: '25' });
    const config = { seed: 9, users: 300 };
    const marker = await runElsewhere(h, config);
    log.restart(h.bucket);
    const waiting = h.api(post(config));
    await untilWaiting(h);
    await endRun(h.storage, prefixOf(config), marker, new Date(), 'Error: boom');
    const answered = await waiting;
    expect(answered.statusCode).toBe(503);
    expect(answered.headers?.['Retry-After']).toBe('1');
    expect(JSON.stringify(answered.json)).not.toContain('boom'); // 5xx bodies stay generic
    // The next request retries at once.
    expect((await h.api(post(config))).statusCode).toBe(201);
  }, 60_000);

  it('a claimed run that fails ends its marker with the error, so the next request retries at once', async () => {
    const h = await createHarness(s3);
    const config = { seed: 10, users: 300 };
    const prefix = prefixOf(config);
    // Requests: 1 GET manifest, 2 PUT the marker (If-None-Match), 3 on: the generation. Fail its first.
    log.restart(h.bucket, 3);
    const failed = await h.api(post(config));
    expect(failed.statusCode).toBe(500);
    expect(await markerOf(h, prefix)).toMatchObject({
      endedAt: expect.any(String),
      error: expect.stringContaining('InjectedFault'),
    });
    log.restart(h.bucket);
    const retried = await h.api(post(config));
    expect(retried.statusCode).toBe(201);
    expect(writesOf(h, 'uploads.csv')).toBe(1);
    expect((await markerOf(h, prefix)).error).toBeUndefined();
  }, 60_000);
});

/** Resolves once a POST (started after `log.restart`) has found the run taken and polls its marker: its second read of it. */
async function untilWaiting(h: Harness): Promise<void> {
  while (log.requests(h.bucket).filter((r) => describeRequest(r) === 'GetObject _run.json').length < 2)
    await setTimeout(10);
}
