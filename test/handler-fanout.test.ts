import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { datasetAddress } from '../lambda/config/dataset-id.js';
import { parseConfig } from '../lambda/config/validate.js';
import { runStateMachineLocally } from '../lambda/dev/local-state-machine.js';
import { GENERATE_JOB_KIND } from '../lambda/handler/async-job.js';
import { EnvironmentError, loadEnvironment } from '../lambda/handler/environment.js';
import { FANOUT_KINDS, type FanoutPlanJob } from '../lambda/handler/fanout-payloads.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { apiEvent, createHarness, readEvent, withRequest, type Harness } from './support/handler-harness.js';
import { startLocalS3, type LocalS3 } from './support/local-s3.js';

let s3: LocalS3;
const tmp = mkdtempSync(join(tmpdir(), 'tierdrift-handler-fanout-'));
beforeAll(async () => {
  s3 = await startLocalS3();
  s3.useAsSdkEndpoint();
});
afterAll(async () => {
  await s3?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

/** Small shards, so a config of a thousand users fans out over several (plan options as the tests of the steps use them). */
const SMALL_SHARDS = { fanoutPlan: { shardUsers: 300, minPartBytes: 0 } };
const PLAN = readEvent<FanoutPlanJob>('fanout-plan.json');
const POST = apiEvent('api-post-default.json');

/** Runs the state machine's steps through the handler, recording each payload's kind. */
async function runThroughHandler(h: Harness, input: FanoutPlanJob, duplicateShards = false) {
  const kinds: string[] = [];
  const report = await runStateMachineLocally(async (payload) => {
    const kind = (payload as { kind: string }).kind;
    kinds.push(kind);
    // A retried or twice-delivered shard task overwrites its parts with the same bytes.
    if (duplicateShards && kind === FANOUT_KINDS.shard) await h.handler(payload);
    return h.handler(payload);
  }, input);
  return { report, kinds };
}

/** Every file of a dataset equals the one publishDataset writes for the same config. */
async function expectBytesOfPublishDataset(h: Harness, input: FanoutPlanJob, prefix: string) {
  const dir = join(tmp, `single-${Math.random().toString(36).slice(2)}`);
  const single = await publishDataset(parseConfig(input.config), { storage: new LocalFolderStorage(dir) });
  for (const file of single.manifest.files) {
    const ours = await h.storage.read(`${prefix}/${file.name}`);
    expect(ours?.equals(readFileSync(join(dir, single.prefix, file.name))), file.name).toBe(true);
  }
  const manifest = JSON.parse((await h.storage.read(`${prefix}/manifest.json`))!.toString());
  expect(manifest.files).toEqual(single.manifest.files);
  expect(manifest.checksPassed).toBe(true);
}

describe('the fan-out steps through the handler (fanout-plan.json), as the state machine runs them', () => {
  it('plan → count each shard → offsets → shard each → commit: the bytes of publishDataset, the run marked over, no parts left', async () => {
    const h = await createHarness(s3, {}, SMALL_SHARDS);
    const { report, kinds } = await runThroughHandler(h, PLAN, true);
    const { datasetId, prefix } = datasetAddress(parseConfig(PLAN.config));
    expect(report).toEqual({ datasetId, status: 'created', prefix: `tierdrift/${prefix}` });
    const { plan, count, offsets, shard, commit } = FANOUT_KINDS;
    expect(kinds).toEqual([plan, count, count, count, count, offsets, shard, shard, shard, shard, commit]);
    await expectBytesOfPublishDataset(h, PLAN, report.prefix);
    const files = ['_run.json', 'items.csv', 'manifest.json', 'tiers.csv', 'uploads.csv', 'users.csv'];
    expect(await h.keys()).toEqual(files.map((f) => `${report.prefix}/${f}`));
    const marker = JSON.parse((await h.storage.read(`${report.prefix}/_run.json`))!.toString());
    expect(marker).toMatchObject({ datasetId, trigger: 'fanout', endedAt: expect.any(String) });

    // Started again once published: plan finds the manifest and plans no shards; commit reports it.
    const again = await runThroughHandler(h, PLAN);
    expect(again.kinds).toEqual([plan, offsets, commit]);
    expect(again.report).toEqual({ ...report, status: 'existing' });
  });

  it('each step returns the small JSON the next one takes', async () => {
    const h = await createHarness(s3, {}, SMALL_SHARDS);
    const run = (await h.handler(PLAN)) as { config: unknown; runId: string; startedAt: string; shards: unknown[] };
    expect(run).toEqual({ config: parseConfig(PLAN.config), runId: expect.stringMatching(/^[0-9a-f-]{36}$/), startedAt: expect.any(String), shards: expect.any(Array) });
    expect(run.shards[0]).toEqual({ index: 0, from: 1, to: 300 });
    expect(await h.handler({ kind: FANOUT_KINDS.count, config: run.config, shard: run.shards[1] })).toEqual({ index: 1, uploads: expect.any(Number) });
  });

  it('a malformed step payload fails the invocation (the state machine retries, then fails) and writes nothing', async () => {
    const h = await createHarness(s3);
    await expect(h.handler({ kind: FANOUT_KINDS.count, config: PLAN.config })).rejects.toThrow(/invalid job payload: shard: /);
    await expect(h.handler({ kind: FANOUT_KINDS.shard, config: { ...PLAN.config, users: 0 }, runId: 'r', shard: { index: 0, from: 1, to: 1, txnFrom: 1 } })).rejects.toThrow(
      /invalid job config: users/,
    );
    await expect(h.handler({ kind: FANOUT_KINDS.shard, config: PLAN.config, runId: '../x', shard: { index: 0, from: 1, to: 1, txnFrom: 1 } })).rejects.toThrow(/invalid run id/);
    expect(await h.keys()).toEqual([]);
  });
});

describe('POST at or above FANOUT_MIN_USERS: the state machine', () => {
  const body = JSON.stringify({ engine: 'seedrandom', seed: 13, users: 1200 });
  const post = withRequest(POST, { body });
  const datasetId = datasetAddress(parseConfig(JSON.parse(body))).datasetId;

  it('202, one execution named after the dataset with the plan payload, the run marker written; GET 202 until the commit, then 200', async () => {
    const h = await createHarness(s3, { FANOUT_MIN_USERS: '1000' }, SMALL_SHARDS);
    const response = await h.api(post);
    expect(response.statusCode).toBe(202);
    expect(response.json).toMatchObject({ datasetId, status: 'running' });
    expect(response.headers?.Location).toBe(`/prod/datasets/${datasetId}`);
    expect(h.executions).toEqual([{ name: datasetId, input: { kind: FANOUT_KINDS.plan, config: parseConfig(JSON.parse(body)), requestedAt: expect.any(String) } }]);
    expect(h.jobs).toEqual([]);
    const prefix = `tierdrift/${datasetAddress(parseConfig(JSON.parse(body))).prefix}`;
    expect(await h.keys()).toEqual([`${prefix}/_run.json`]);

    // While the run is fresh, the same POST starts nothing; once the marker is stale the POST
    // tries again, and StartExecution's name finds the execution: still just one.
    expect((await h.api(post)).statusCode).toBe(202);
    h.advance(901);
    expect((await h.api(post)).statusCode).toBe(202);
    expect(h.executions).toHaveLength(1);

    const get = withRequest(post, { httpMethod: 'GET', path: `/datasets/${datasetId}`, body: null });
    expect((await h.api(get)).statusCode).toBe(202);
    const { report } = await runThroughHandler(h, h.executions[0].input);
    expect(report.status).toBe('created');
    expect((await h.api(get)).statusCode).toBe(200);
    await expectBytesOfPublishDataset(h, h.executions[0].input, prefix);
    expect((await h.api(post)).statusCode).toBe(200);
  });

  it('the reference engine cannot be split: it keeps the single background run', async () => {
    const h = await createHarness(s3, { FANOUT_MIN_USERS: '1000', SYNC_MAX_USERS: '1000' });
    expect((await h.api(withRequest(POST, { body: JSON.stringify({ seed: 13, users: 1200 }) }))).statusCode).toBe(202);
    expect(h.jobs.map((j) => j.kind)).toEqual([GENERATE_JOB_KIND]);
    expect(h.executions).toEqual([]);
  });

  it('below FANOUT_MIN_USERS a seedrandom config takes the usual path', async () => {
    const h = await createHarness(s3, { FANOUT_MIN_USERS: '1201', SYNC_MAX_USERS: '1000' });
    expect((await h.api(post)).statusCode).toBe(202);
    expect(h.jobs).toHaveLength(1);
    expect(h.executions).toEqual([]);
  });

  it('a failed StartExecution: 500, and the run marker records the run as over, so a new POST may retry', async () => {
    const h = await createHarness(s3, { FANOUT_MIN_USERS: '1000' }, {
      startFanout: async () => {
        throw new Error('AccessDeniedException');
      },
    });
    expect((await h.api(post)).statusCode).toBe(500);
    const marker = JSON.parse((await h.storage.read(`tierdrift/${datasetAddress(parseConfig(JSON.parse(body))).prefix}/_run.json`))!.toString());
    expect(marker).toMatchObject({ datasetId, endedAt: expect.any(String), error: expect.stringMatching(/AccessDeniedException/) });
  });
});

describe('environment: FANOUT_MIN_USERS and STATE_MACHINE_ARN', () => {
  it('defaults to 1,000,000 users and no state machine; reads both', () => {
    expect(loadEnvironment({ BUCKET_NAME: 'my-bucket' }).fanout).toEqual({ minUsers: 1_000_000, stateMachineArn: undefined });
    const arn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Tierdrift-fanout';
    expect(loadEnvironment({ BUCKET_NAME: 'my-bucket', FANOUT_MIN_USERS: '5000', STATE_MACHINE_ARN: arn }).fanout).toEqual({ minUsers: 5000, stateMachineArn: arn });
  });

  it('names bad values', () => {
    try {
      loadEnvironment({ BUCKET_NAME: 'my-bucket', FANOUT_MIN_USERS: '0', STATE_MACHINE_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:x' });
      expect.unreachable();
    } catch (error) {
      expect((error as EnvironmentError).problems.map((p) => p.variable)).toEqual(['FANOUT_MIN_USERS', 'STATE_MACHINE_ARN']);
    }
  });
});
