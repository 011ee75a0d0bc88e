import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { datasetAddress } from '../lambda/config/dataset-id.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { LocalStateMachine, type Invoke } from '../lambda/dev/local-state-machine.js';
import { PART_TABLES } from '../lambda/fanout/run-shard.js';
import { GENERATE_JOB_KIND } from '../lambda/handler/background-job.js';
import { executionArnOf, stepFunctionsFanoutStarter } from '../lambda/handler/aws-adapters.js';
import { EnvironmentError, loadEnvironment } from '../lambda/handler/environment.js';
import {
  fanoutStarter,
  MAX_FANOUT_RETRIES,
  type ExecutionStatus,
  type FanoutExecutions,
} from '../lambda/handler/fanout-executions.js';
import { FANOUT_KINDS, type FanoutPlanJob } from '../lambda/fanout/fanout-payloads.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { localFanout } from '../infra/synthesize.js';
import { apiEvent, createHarness, readEvent, withRequest, type Harness } from './support/handler-harness.js';
import { useLocalS3 } from './support/local-s3.js';

const s3 = useLocalS3();
let fanout: ReturnType<typeof localFanout>;
const tmp = mkdtempSync(join(tmpdir(), 'tierdrift-handler-fanout-'));
beforeAll(async () => {
  fanout = localFanout(); // the state machine's definition as `cdk synth` writes it
});
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
});

/** Small shards, so a config of a thousand users fans out over several (plan options as the tests of the steps use them). */
const SMALL_SHARDS = { fanoutPlan: { shardUsers: 300, minPartBytes: 0 } };
const PLAN = readEvent('fanout-plan.json') as FanoutPlanJob;
const POST = apiEvent('api-post-default.json');

/** The synthesized fan-out state machine in the emulator, each task invoking `invoke`; retries do not wait. */
const emulated = (invoke: Invoke) => new LocalStateMachine({ ...fanout, invoke, retryDelayMs: 0 });

/** How often the definition retries a state after any error (its States.ALL retrier). */
function retriesOfAll(state: string): number {
  const states = fanout.definition.States as Record<
    string,
    { Retry: { ErrorEquals: string[]; MaxAttempts: number }[] }
  >;
  return states[state].Retry.find((r) => r.ErrorEquals.includes('States.ALL'))!.MaxAttempts;
}

/** Runs the state machine through the handler, recording each payload's kind. */
async function runThroughHandler(h: Harness, input: FanoutPlanJob, duplicateShards = false) {
  const kinds: string[] = [];
  const report = await emulated(async (payload) => {
    const kind = (payload as { kind: string }).kind;
    kinds.push(kind);
    // A retried or twice-delivered shard task overwrites its parts with the same bytes.
    if (duplicateShards && kind === FANOUT_KINDS.shard) await h.handler(payload);
    return h.handler(payload);
  }).run(input);
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
    // The dataset's files, its manifest and the run marker: no parts or reports left.
    const listed = (
      JSON.parse((await h.storage.read(`${report.prefix}/manifest.json`))!.toString()) as { files: { name: string }[] }
    ).files.map((f) => f.name);
    expect(await h.keys()).toEqual(
      ['_run.json', 'manifest.json', ...listed].map((f) => `${report.prefix}/${f}`).sort(),
    );
    const marker = JSON.parse((await h.storage.read(`${report.prefix}/_run.json`))!.toString());
    expect(marker).toMatchObject({ datasetId, trigger: 'fanout', endedAt: expect.any(String) });

    // Started again once published: plan finds the manifest and plans no shards; commit reports it.
    const again = await runThroughHandler(h, PLAN);
    expect(again.kinds).toEqual([plan, offsets, commit]);
    expect(again.report).toEqual({ ...report, status: 'existing' });
  });

  it("a shard task that fails once (after writing its parts) is retried by the definition's Retry: the same bytes are published", async () => {
    const h = await createHarness(s3, {}, SMALL_SHARDS);
    const attempts: number[] = [];
    const report = await emulated(async (payload) => {
      const result = await h.handler(payload);
      const { kind, shard } = payload as { kind: string; shard?: { index: number } };
      if (kind === FANOUT_KINDS.shard) {
        attempts.push(shard!.index);
        if (shard!.index === 2 && attempts.filter((i) => i === 2).length === 1)
          throw new Error('injected: shard 2 failed once');
      }
      return result;
    }).run(PLAN);
    expect(report.status).toBe('created');
    expect(attempts.sort()).toEqual([0, 1, 2, 2, 3]);
    await expectBytesOfPublishDataset(h, PLAN, report.prefix);
    expect((await h.keys()).some((k) => k.includes('/_parts/'))).toBe(false);
  });

  it('each step returns the small JSON the next one takes', async () => {
    const h = await createHarness(s3, {}, SMALL_SHARDS);
    const run = (await h.handler(PLAN)) as { config: unknown; runId: string; startedAt: string; shards: unknown[] };
    expect(run).toEqual({
      config: parseConfig(PLAN.config),
      runId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      startedAt: expect.any(String),
      shards: expect.any(Array),
    });
    expect(run.shards[0]).toEqual({ index: 0, from: 1, to: 300 });
    expect(await h.handler({ kind: FANOUT_KINDS.count, config: run.config, shard: run.shards[1] })).toEqual({
      index: 1,
      uploads: expect.any(Number),
    });
  });

  it('a malformed step payload fails the invocation (the state machine retries, then fails) and writes nothing', async () => {
    const h = await createHarness(s3);
    await expect(h.handler({ kind: FANOUT_KINDS.count, config: PLAN.config })).rejects.toThrow(
      /invalid job payload: shard: /,
    );
    await expect(
      h.handler({
        kind: FANOUT_KINDS.shard,
        config: { ...PLAN.config, users: 0 },
        runId: 'r',
        shard: { index: 0, from: 1, to: 1, txnFrom: 1 },
      }),
    ).rejects.toThrow(/invalid job config: users/);
    await expect(
      h.handler({
        kind: FANOUT_KINDS.shard,
        config: PLAN.config,
        runId: '../x',
        shard: { index: 0, from: 1, to: 1, txnFrom: 1 },
      }),
    ).rejects.toThrow(/invalid run id/);
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
    expect(h.executions).toEqual([
      {
        name: datasetId,
        input: { kind: FANOUT_KINDS.plan, config: parseConfig(JSON.parse(body)), requestedAt: expect.any(String) },
      },
    ]);
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

  it('the reference engine cannot be split: it keeps the single background job', async () => {
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
    const h = await createHarness(
      s3,
      { FANOUT_MIN_USERS: '1000' },
      {
        startFanout: async () => {
          throw new Error('AccessDeniedException');
        },
      },
    );
    expect((await h.api(post)).statusCode).toBe(500);
    const marker = JSON.parse(
      (await h.storage.read(`tierdrift/${datasetAddress(parseConfig(JSON.parse(body))).prefix}/_run.json`))!.toString(),
    );
    expect(marker).toMatchObject({
      datasetId,
      endedAt: expect.any(String),
      error: expect.stringMatching(/AccessDeniedException/),
    });
  });
});

describe('default limits: the fan-out is reachable', () => {
  const postOf = (config: Record<string, unknown>) => withRequest(POST, { body: JSON.stringify(config) });

  it('a seedrandom config from FANOUT_MIN_USERS (1,000,000) up to the schema maximum (10,000,000) goes to the state machine', async () => {
    const h = await createHarness(s3);
    for (const users of [10_000_000, 1_000_000])
      expect((await h.api(postOf({ engine: 'seedrandom', seed: 5, users }))).statusCode).toBe(202);
    expect(h.executions.map((e) => e.input.config.users)).toEqual([10_000_000, 1_000_000]);
    expect(h.jobs).toEqual([]);
  });

  it('what is not split runs on one invocation, up to SINGLE_RUN_MAX_USERS: seedrandom below FANOUT_MIN_USERS, the reference engine', async () => {
    const h = await createHarness(s3);
    expect((await h.api(postOf({ engine: 'seedrandom', seed: 5, users: 999_999 }))).statusCode).toBe(202);
    expect((await h.api(postOf({ seed: 5, users: 1_000_000 }))).statusCode).toBe(202);
    expect(h.jobs.map((j) => [j.config.engine, j.config.users])).toEqual([
      ['seedrandom', 999_999],
      ['reference', 1_000_000],
    ]);
    expect(h.executions).toEqual([]);
  });

  it('refuses what no path publishes, naming the cap: the reference engine above SINGLE_RUN_MAX_USERS, anything above MAX_USERS', async () => {
    const h = await createHarness(s3, { MAX_USERS: '5000000' });
    const usersRule = async (config: Record<string, unknown>) => {
      const response = await h.api(postOf(config));
      expect(response.statusCode).toBe(400);
      return (response.json.errors as { field: string; rule: string }[]).find((e) => e.field === 'users')?.rule;
    };
    expect(await usersRule({ seed: 5, users: 1_000_001 })).toMatch(
      /^must be at most 1000000 on this deployment \(SINGLE_RUN_MAX_USERS: .*only seedrandom configs can be split, up to 5000000/,
    );
    // Reported with the config's other problems: the cap is read from the request as given.
    expect(await usersRule({ seed: -1, users: 2_000_000 })).toMatch(
      /^must be at most 1000000 on this deployment \(SINGLE_RUN_MAX_USERS/,
    );
    expect(await usersRule({ engine: 'seedrandom', seed: 5, users: 5_000_001 })).toBe(
      'must be at most 5000000 on this deployment (MAX_USERS)',
    );
    expect(h.jobs).toEqual([]);
    expect(h.executions).toEqual([]);
    expect(await h.keys()).toEqual([]);
  });
});

describe('execution names: an ended execution does not block its dataset for 90 days', () => {
  /** Executions by name with statuses the test sets, like Step Functions' (a name is never reused). */
  function recordedExecutions() {
    const statuses = new Map<string, ExecutionStatus>();
    const executions: FanoutExecutions = {
      start: async (name) => !statuses.has(name) && Boolean(statuses.set(name, 'RUNNING')),
      status: async (name) => statuses.get(name)!,
    };
    return { statuses, executions };
  }

  it('a running (or redriven) execution is left alone; a failed, timed-out, aborted or succeeded one is followed by <id>-r1, -r2, …, a bounded number of times', async () => {
    const { statuses, executions } = recordedExecutions();
    const start = fanoutStarter(executions);
    const id = 'seed-13-0123456789abcdef';
    expect(await start(id, PLAN)).toBe('started');
    expect(await start(id, PLAN)).toBe('already-running');
    statuses.set(id, 'PENDING_REDRIVE');
    expect(await start(id, PLAN)).toBe('already-running');
    const ends: ExecutionStatus[] = ['FAILED', 'TIMED_OUT', 'ABORTED', 'SUCCEEDED', 'FAILED'];
    for (const [attempt, ended] of ends.entries()) {
      statuses.set([...statuses.keys()].at(-1)!, ended);
      expect(await start(id, PLAN), ended).toBe('started');
      expect([...statuses.keys()].at(-1)).toBe(`${id}-r${attempt + 1}`);
    }
    expect(await start(id, PLAN)).toBe('already-running'); // <id>-r5 runs
    statuses.set(`${id}-r${MAX_FANOUT_RETRIES}`, 'FAILED');
    await expect(start(id, PLAN)).rejects.toThrow(
      `the fan-out of ${id} ended without a dataset ${MAX_FANOUT_RETRIES + 1} times`,
    );
    expect(statuses.size).toBe(MAX_FANOUT_RETRIES + 1);
  });

  it('on Step Functions: StartExecution, then DescribeExecution of the execution ARN after ExecutionAlreadyExists (a loopback endpoint)', async () => {
    const machineArn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Tierdrift-fanout';
    const id = 'seed-13-0123456789abcdef';
    const statuses = new Map<string, string>([[executionArnOf(machineArn, id), 'TIMED_OUT']]);
    const calls: string[] = [];
    // The awsJson1_0 protocol of Step Functions: POST /, X-Amz-Target names the operation.
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const operation = String(req.headers['x-amz-target']).split('.')[1];
        const input = JSON.parse(body) as { name?: string; stateMachineArn?: string; executionArn?: string };
        calls.push(`${operation} ${input.name ?? input.executionArn}`);
        const arn = input.executionArn ?? executionArnOf(input.stateMachineArn!, input.name!);
        const reply = (status: number, value: unknown) =>
          res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(value));
        if (operation === 'DescribeExecution')
          return reply(200, {
            executionArn: arn,
            stateMachineArn: machineArn,
            status: statuses.get(arn),
            startDate: 1_700_000_000,
          });
        if (statuses.has(arn))
          return reply(400, {
            __type: 'com.amazonaws.swf.service.v2.model#ExecutionAlreadyExists',
            message: `Execution Already Exists: '${arn}'`,
          });
        statuses.set(arn, 'RUNNING');
        return reply(200, { executionArn: arn, startDate: 1_700_000_000 });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    vi.stubEnv('AWS_ENDPOINT_URL_SFN', `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    vi.stubEnv('AWS_REGION', 'eu-west-1');
    try {
      const start = stepFunctionsFanoutStarter(machineArn);
      expect(await start(id, PLAN)).toBe('started');
      expect(await start(id, PLAN)).toBe('already-running');
      expect(calls).toEqual([
        `StartExecution ${id}`,
        `DescribeExecution ${executionArnOf(machineArn, id)}`,
        `StartExecution ${id}-r1`,
        `StartExecution ${id}`,
        `DescribeExecution ${executionArnOf(machineArn, id)}`,
        `StartExecution ${id}-r1`,
        `DescribeExecution arn:aws:states:eu-west-1:123456789012:execution:Tierdrift-fanout:${id}-r1`,
      ]);
    } finally {
      vi.unstubAllEnvs();
      server.close();
    }
  });

  it('through the API and the local state machine: a failed run is cleaned up and marked failed; the next POST starts <id>-r1, which publishes', async () => {
    const body = JSON.stringify({ engine: 'seedrandom', seed: 17, users: 1100 });
    const post = withRequest(POST, { body });
    const { datasetId, prefix: relative } = datasetAddress(parseConfig(JSON.parse(body)));
    const prefix = `tierdrift/${relative}`;
    const get = withRequest(post, { httpMethod: 'GET', path: `/datasets/${datasetId}`, body: null });
    let failCommit = true;
    let partsBeforeCleanup = 0;
    let commits = 0;
    const machine = emulated(async (payload) => {
      const kind = (payload as { kind: string }).kind;
      if (kind === FANOUT_KINDS.commit) commits++;
      if (kind === FANOUT_KINDS.commit && failCommit) throw new Error('injected: the commit failed');
      if (kind === FANOUT_KINDS.cleanup)
        partsBeforeCleanup = (await h.keys()).filter((k) => k.includes('/_parts/')).length;
      return h.handler(payload);
    });
    const h: Harness = await createHarness(
      s3,
      { FANOUT_MIN_USERS: '1000' },
      { ...SMALL_SHARDS, startFanout: fanoutStarter(machine) },
    );

    expect((await h.api(post)).statusCode).toBe(202);
    await machine.settled();
    expect(machine.list()).toEqual([{ name: datasetId, status: 'FAILED' }]);
    // The commit was tried as often as the definition's Retry allows, then caught.
    expect(commits).toBe(1 + retriesOfAll('Commit'));
    // The shards had written their parts; the cleanup deleted them and marked the run failed.
    expect(partsBeforeCleanup).toBe(4 * (PART_TABLES.length + 1)); // 4 shards × (a part per table, the report)
    expect(await h.keys()).toEqual([`${prefix}/_run.json`]);
    const marker = JSON.parse((await h.storage.read(`${prefix}/_run.json`))!.toString());
    expect(marker).toMatchObject({
      datasetId,
      trigger: 'fanout',
      endedAt: expect.any(String),
      error: 'Error: injected: the commit failed',
    });
    expect((await h.api(get)).statusCode).toBe(404);

    failCommit = false;
    expect((await h.api(post)).statusCode).toBe(202);
    await machine.settled();
    expect(machine.list()).toEqual([
      { name: datasetId, status: 'FAILED' },
      { name: `${datasetId}-r1`, status: 'SUCCEEDED' },
    ]);
    expect((await h.api(get)).statusCode).toBe(200);
    await expectBytesOfPublishDataset(h, { ...PLAN, config: parseConfig(JSON.parse(body)) }, prefix);
    expect((await h.keys()).some((k) => k.includes('/_parts/'))).toBe(false);
  });

  it('a plan that fails has no run id: the run is marked failed, nothing else', async () => {
    const h = await createHarness(s3, {}, SMALL_SHARDS);
    const failing = { ...PLAN, config: { ...PLAN.config, seed: 99 } };
    await expect(
      emulated(async (payload) => {
        if ((payload as { kind: string }).kind === FANOUT_KINDS.plan) throw new Error('injected: the plan failed');
        return h.handler(payload);
      }).run(failing),
    ).rejects.toThrow('injected: the plan failed');
    const prefix = `tierdrift/${datasetAddress(parseConfig(failing.config)).prefix}`;
    expect(await h.keys()).toEqual([`${prefix}/_run.json`]);
    expect(JSON.parse((await h.storage.read(`${prefix}/_run.json`))!.toString())).toMatchObject({
      trigger: 'fanout',
      error: 'Error: injected: the plan failed',
    });
  });
});

describe('the run marker of a fan-out longer than RUN_MARKER_STALE_SECONDS', () => {
  const body = JSON.stringify({ engine: 'seedrandom', seed: 19, users: 1200 });
  const post = withRequest(POST, { body });
  const { datasetId } = datasetAddress(parseConfig(JSON.parse(body)));
  const get = withRequest(post, { httpMethod: 'GET', path: `/datasets/${datasetId}`, body: null });

  it('every step after the plan refreshes it: a run of 11 steps 10 minutes apart (110 min) reads as running throughout', async () => {
    const h = await createHarness(s3, { FANOUT_MIN_USERS: '1000' }, SMALL_SHARDS);
    expect((await h.api(post)).statusCode).toBe(202);
    const answers: number[] = [];
    // One step at a time (the Map states run up to 3 at once), so each is 10 minutes after the last.
    let previous = Promise.resolve();
    await emulated((payload) => {
      const step = previous.then(async () => {
        h.advance(600); // below the 900 s, but the run's total is far above it
        answers.push((await h.api(get)).statusCode);
        return h.handler(payload);
      });
      previous = step.then(
        () => undefined,
        () => undefined,
      );
      return step;
    }).run(h.executions[0].input);
    expect(answers).toEqual(Array(11).fill(202));
    expect((await h.api(get)).statusCode).toBe(200);
  });

  it('a run that stops sending signs of life reads as over once the last one is RUN_MARKER_STALE_SECONDS old', async () => {
    const h = await createHarness(s3, { FANOUT_MIN_USERS: '1000' }, SMALL_SHARDS);
    expect((await h.api(post)).statusCode).toBe(202);
    const run = (await h.handler(h.executions[0].input)) as { config: unknown; shards: unknown[] };
    h.advance(800);
    await h.handler({ kind: FANOUT_KINDS.count, config: run.config, shard: run.shards[0] });
    h.advance(800); // 1600 s after the plan, 800 s after the count
    expect((await h.api(get)).statusCode).toBe(202);
    h.advance(101);
    expect((await h.api(get)).statusCode).toBe(404);
  });
});

describe('environment: FANOUT_MIN_USERS and STATE_MACHINE_ARN', () => {
  it('defaults to 1,000,000 users and no state machine; reads both', () => {
    expect(loadEnvironment({ BUCKET_NAME: 'my-bucket' }).fanout).toEqual({
      minUsers: 1_000_000,
      stateMachineArn: undefined,
    });
    const arn = 'arn:aws:states:eu-west-1:123456789012:stateMachine:Tierdrift-fanout';
    expect(
      loadEnvironment({ BUCKET_NAME: 'my-bucket', FANOUT_MIN_USERS: '5000', STATE_MACHINE_ARN: arn }).fanout,
    ).toEqual({ minUsers: 5000, stateMachineArn: arn });
  });

  it('MAX_USERS defaults to the schema maximum, SINGLE_RUN_MAX_USERS to 1,000,000; FANOUT_MIN_USERS may not leave a gap above it', () => {
    expect(loadEnvironment({ BUCKET_NAME: 'my-bucket' })).toMatchObject({
      maxUsers: 10_000_000,
      singleRunMaxUsers: 1_000_000,
    });
    expect(
      loadEnvironment({ BUCKET_NAME: 'my-bucket', SINGLE_RUN_MAX_USERS: '2000000', FANOUT_MIN_USERS: '2000001' }),
    ).toMatchObject({
      singleRunMaxUsers: 2_000_000,
      fanout: { minUsers: 2_000_001 },
    });
    expect(() => loadEnvironment({ BUCKET_NAME: 'my-bucket', FANOUT_MIN_USERS: '2000000' })).toThrow(
      'FANOUT_MIN_USERS: must be at most SINGLE_RUN_MAX_USERS + 1 (1000001; got 2000000)',
    );
  });

  it('names bad values', () => {
    try {
      loadEnvironment({
        BUCKET_NAME: 'my-bucket',
        FANOUT_MIN_USERS: '0',
        STATE_MACHINE_ARN: 'arn:aws:lambda:eu-west-1:123456789012:function:x',
      });
      expect.unreachable();
    } catch (error) {
      expect((error as EnvironmentError).problems.map((p) => p.variable)).toEqual([
        'FANOUT_MIN_USERS',
        'STATE_MACHINE_ARN',
      ]);
    }
  });
});
