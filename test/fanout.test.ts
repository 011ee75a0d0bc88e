import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../lambda/validation/validate.js';
import type { GenerationConfig, GenerationConfigInput } from '../lambda/config/schema.js';
import {
  cleanupStep,
  commitStep,
  countStep,
  offsetsStep,
  planStep,
  runFanoutLocally,
  shardStep,
} from '../lambda/fanout/fanout-steps.js';
import { userRowBytes } from '../lambda/catalog/output-estimate.js';
import { planShards } from '../lambda/fanout/plan-shards.js';
import { PART_TABLES } from '../lambda/fanout/run-shard.js';
import { publishDataset, readManifest, type PublishOutcome } from '../lambda/publish/publish-dataset.js';
import { verifyDataset } from '../lambda/publish/verify-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { createS3Client } from '../lambda/storage/s3-client.js';
import { S3Storage } from '../lambda/storage/s3-storage.js';
import { MIN_PART_BYTES } from '../lambda/storage/storage.js';
import { useLocalS3 } from './support/local-s3.js';
import { describeRequest, S3RequestLog } from './support/s3-request-log.js';

const CONFIGS: Array<{ name: string; raw: GenerationConfigInput }> = [
  { name: 'default rates, 1001 users', raw: { engine: 'seedrandom', seed: 9, users: 1001 } },
  {
    name: 'cohort sizes, high premium rate',
    raw: {
      engine: 'seedrandom',
      seed: 4,
      users: 250,
      premiumUploadsPerDay: { mean: 120, std: 30 },
      cohortSizes: [10, 100, 40, 60, 40],
    },
  },
  // Always free, tiny rate: most shards have no uploads at all.
  {
    name: 'almost no uploads',
    raw: {
      engine: 'seedrandom',
      seed: 1,
      users: 300,
      freeUploadsPerDay: { mean: 0.00001, std: 0 },
      cohortSizes: [0, 300, 0, 0, 0],
    },
  },
];

const tmp = mkdtempSync(join(tmpdir(), 'tierdrift-fanout-'));
const s3 = useLocalS3();
let log: S3RequestLog;
let bucketCounter = 0;
const storage = (bucket: string) => new S3Storage(createS3Client(), bucket);

async function freshBucket(failAt?: number): Promise<string> {
  const bucket = `fanout-${++bucketCounter}`;
  await s3.createBucket(bucket);
  log.restart(bucket, failAt);
  return bucket;
}

async function allKeys(bucket: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await storage(bucket).list('', { token });
    keys.push(...page.keys);
    token = page.nextToken;
  } while (token);
  return keys.sort();
}

/** A run planned and counted as the state machine does it: ready for its shard steps. */
async function countedRun(config: GenerationConfig, store: S3Storage, shardUsers: number) {
  const planned = await planStep(config, store, 'data', { shardUsers, minPartBytes: 0 });
  return offsetsStep(
    planned,
    planned.shards.map((s) => countStep(config, s)),
  );
}

const singleRuns = new Map<string, { dir: string; outcome: PublishOutcome }>();
/** The single-process run of a config (local folder), the bytes every fan-out must end in. */
async function single(config: GenerationConfig) {
  const key = JSON.stringify(config);
  if (!singleRuns.has(key)) {
    const dir = join(tmp, `single-${singleRuns.size}`);
    singleRuns.set(key, { dir, outcome: await publishDataset(config, { storage: new LocalFolderStorage(dir) }) });
  }
  return singleRuns.get(key)!;
}

async function expectSameAsSingle(
  config: GenerationConfig,
  bucket: string,
  outcome: PublishOutcome | undefined,
): Promise<void> {
  const reference = await single(config);
  expect(outcome?.status).toBe('created');
  expect(outcome!.prefix).toBe(`data/${reference.outcome.prefix}`);
  expect(outcome!.manifest.files).toEqual(reference.outcome.manifest.files);
  expect(outcome!.manifest.checks).toEqual(reference.outcome.manifest.checks);
  expect(outcome!.manifest.summary).toEqual(reference.outcome.manifest.summary);
  for (const file of reference.outcome.manifest.files) {
    const ours = await storage(bucket).read(`${outcome!.prefix}/${file.name}`);
    expect(ours?.equals(readFileSync(join(reference.dir, reference.outcome.prefix, file.name))), file.name).toBe(true);
  }
  const verified = await verifyDataset(storage(bucket), outcome!.prefix);
  expect(verified.complete && verified.ok).toBe(true);
  // Only the dataset is left: the run's parts and reports are gone.
  expect(await allKeys(bucket)).toEqual(
    [...reference.outcome.manifest.files.map((f) => `${outcome!.prefix}/${f.name}`), outcome!.manifestKey].sort(),
  );
}

beforeAll(async () => {
  log = new S3RequestLog(s3);
});
afterAll(async () => {
  rmSync(tmp, { recursive: true, force: true });
});

describe('planShards', () => {
  it('cuts users into contiguous ranges whose users.csv part reaches the minimum part size', () => {
    const config = parseConfig({ engine: 'seedrandom', users: 10_000_000 });
    const shards = planShards(config, { shardUsers: 100_000 });
    expect(shards[0].from).toBe(1);
    expect(shards.at(-1)!.to).toBe(10_000_000);
    shards.forEach((s, i) => {
      if (i > 0) expect(s.from).toBe(shards[i - 1].to + 1);
      if (i < shards.length - 1) expect(userRowBytes(s.from, s.to)).toBeGreaterThanOrEqual(MIN_PART_BYTES);
    });
    expect(userRowBytes(1, 9)).toBe(9 * 12);
    expect(userRowBytes(999, 1000)).toBe(14 + 16);
    expect(planShards(parseConfig({ engine: 'seedrandom', users: 1000 }))).toEqual([{ index: 0, from: 1, to: 1000 }]);
    expect(planShards(parseConfig({ users: 5_000_000 }), { shardUsers: 1000 })).toHaveLength(1); // reference: one stream
  });
});

describe('fan-out: plan → count → shards → commit against the loopback S3', () => {
  describe.each(CONFIGS)('$name', ({ raw }) => {
    const config = parseConfig(raw);
    it.each([1, 2, 3, 7])('%i shards end in the bytes of a single-process run', async (shardCount) => {
      const bucket = await freshBucket();
      const shardUsers = Math.ceil(config.users / shardCount);
      expect(planShards(config, { shardUsers, minPartBytes: 0 })).toHaveLength(shardCount);
      const outcome = await runFanoutLocally(config, storage(bucket), { shardUsers, minPartBytes: 0, root: 'data' });
      await expectSameAsSingle(config, bucket, outcome);
    });
  });

  it('a shard failing once and retried ends in the same bytes', async () => {
    const config = parseConfig(CONFIGS[0].raw);
    const bucket = await freshBucket();
    const store = storage(bucket);
    const run = await countedRun(config, store, 300);
    expect(run.shards.map((s) => s.txnFrom)[0]).toBe(1);
    for (const shard of run.shards) {
      if (shard.index === 1) {
        log.restart(bucket, 3); // the shard's 3rd request fails
        await expect(shardStep(run, shard, store, 'data')).rejects.toThrow();
        log.restart(bucket);
      }
      await shardStep(run, shard, store, 'data');
    }
    await shardStep(run, run.shards[2], store, 'data'); // a duplicate delivery is harmless too
    await expectSameAsSingle(config, bucket, await commitStep(run, store, 'data'));
  });

  it('a failed commit leaves no manifest, and a retried commit publishes the same bytes', async () => {
    const config = parseConfig(CONFIGS[1].raw);
    const bucket = await freshBucket();
    const store = storage(bucket);
    const run = await countedRun(config, store, 100);
    for (const shard of run.shards) await shardStep(run, shard, store, 'data');
    for (const failAt of [2, 9, 20]) {
      log.restart(bucket, failAt);
      await expect(commitStep(run, store, 'data')).rejects.toThrow();
      log.restart(bucket);
      const { prefix, manifestKey } = (await single(config)).outcome;
      expect(await readManifest(store, `data/${manifestKey}`), `fault at request ${failAt}`).toBeUndefined();
      expect(prefix).toBeTruthy();
    }
    await expectSameAsSingle(config, bucket, await commitStep(run, store, 'data'));
  });

  it('a commit with a missing shard report publishes nothing', async () => {
    const config = parseConfig(CONFIGS[0].raw);
    const bucket = await freshBucket();
    const store = storage(bucket);
    const run = await countedRun(config, store, 400);
    await shardStep(run, run.shards[0], store, 'data');
    await shardStep(run, run.shards[2], store, 'data');
    await expect(commitStep(run, store, 'data')).rejects.toThrow(/shard 1 has no report/);
    expect((await allKeys(bucket)).some((k) => k.endsWith('manifest.json'))).toBe(false);
  });

  it("cleanup after a failed run deletes that run's parts and reports, and nothing else", async () => {
    const config = parseConfig(CONFIGS[0].raw);
    const bucket = await freshBucket();
    const store = storage(bucket);
    // A run that failed half way (shards 0 and 1 written), another run of the same dataset, and a published dataset.
    const failed = await countedRun(config, store, 300);
    const other = await countedRun(config, store, 300);
    for (const shard of failed.shards.slice(0, 2)) await shardStep(failed, shard, store, 'data');
    await shardStep(other, other.shards[0], store, 'data');
    const published = await runFanoutLocally(parseConfig(CONFIGS[1].raw), store, {
      shardUsers: 100,
      minPartBytes: 0,
      root: 'data',
    });
    const before = await allKeys(bucket);
    const runKeys = before.filter((k) => k.includes(`/_parts/${failed.runId}/`));
    expect(runKeys).toHaveLength(2 * (PART_TABLES.length + 1)); // 2 shards × (a part per table, the report)

    await cleanupStep(config, undefined, store, 'data'); // the plan failed: no run id, nothing to delete
    expect(await allKeys(bucket)).toEqual(before);
    await cleanupStep(config, failed.runId, store, 'data');
    expect(await allKeys(bucket)).toEqual(before.filter((k) => !runKeys.includes(k)));
    expect((await allKeys(bucket)).filter((k) => k.includes(`/_parts/${other.runId}/`))).toHaveLength(
      PART_TABLES.length + 1,
    );
    const verified = await verifyDataset(store, published!.prefix);
    expect(verified.complete && verified.ok).toBe(true);
  });

  it('a new plan first removes what earlier runs of the dataset left under _parts/ (a timed-out or stopped execution never reaches its cleanup)', async () => {
    const config = parseConfig(CONFIGS[0].raw);
    const bucket = await freshBucket();
    const store = storage(bucket);
    const dead = await countedRun(config, store, 300);
    for (const shard of dead.shards.slice(0, 3)) await shardStep(dead, shard, store, 'data');
    expect((await allKeys(bucket)).filter((k) => k.includes(`/_parts/${dead.runId}/`))).toHaveLength(
      3 * (PART_TABLES.length + 1),
    );
    const next = await planStep(config, store, 'data', { shardUsers: 300, minPartBytes: 0 });
    expect(next.runId).not.toBe(dead.runId);
    expect(await allKeys(bucket)).toEqual([]);
  });

  it('runFanoutLocally follows the state machine: a step that fails for good leaves no parts behind', async () => {
    const config = parseConfig(CONFIGS[0].raw);
    const bucket = await freshBucket();
    // The plan lists _parts/ and reads the manifest, shard 0 writes a part per table and its report: then shard 1 fails.
    log.restart(bucket, 2 + PART_TABLES.length + 1 + 1);
    await expect(
      runFanoutLocally(config, storage(bucket), { shardUsers: 300, minPartBytes: 0, root: 'data' }),
    ).rejects.toThrow();
    const ops = log.requests(bucket).map(describeRequest);
    // Shard 0 was written (its report last), then shard 1 failed; the cleanup listed the run and deleted it.
    expect(ops).toContain('PutObject 00000.json');
    expect(ops.slice(-2)).toEqual(['ListObjectsV2', 'DeleteObjects']);
    log.restart(bucket);
    expect(await allKeys(bucket)).toEqual([]);
  });

  it("a commit that finds the dataset published (its own earlier attempt, which failed deleting the parts) deletes the run's parts", async () => {
    const config = parseConfig(CONFIGS[0].raw);
    const bucket = await freshBucket();
    const store = storage(bucket);
    const run = await countedRun(config, store, 400);
    for (const shard of run.shards) await shardStep(run, shard, store, 'data');
    const first = await commitStep(run, store, 'data');
    for (const shard of run.shards) await shardStep(run, shard, store, 'data'); // the parts as a failed deletion left them
    expect((await allKeys(bucket)).some((k) => k.includes('/_parts/'))).toBe(true);
    const again = await commitStep(run, store, 'data');
    expect(again.status).toBe('existing');
    await expectSameAsSingle(config, bucket, first);
  });

  it('assembles parts of at least 5 MiB with UploadPartCopy (the production path)', async () => {
    // ~18 MiB of uploads in 3 shards: each uploads part is over 5 MiB and copied server-side;
    // the users and tiers parts are small and are merged (re-uploaded) instead.
    const config = parseConfig({
      engine: 'seedrandom',
      seed: 21,
      users: 600,
      freeUploadsPerDay: { mean: 120, std: 10 },
      premiumUploadsPerDay: { mean: 140, std: 10 },
    });
    const bucket = await freshBucket();
    const outcome = await runFanoutLocally(config, storage(bucket), { shardUsers: 200, minPartBytes: 0, root: 'data' });
    const ops = log.requests(bucket).map(describeRequest);
    expect(ops.filter((o) => o === 'UploadPartCopy uploads.csv').length).toBeGreaterThanOrEqual(2);
    expect(outcome!.manifest.files.find((f) => f.name === 'uploads.csv')!.bytes).toBeGreaterThan(3 * MIN_PART_BYTES);
    await expectSameAsSingle(config, bucket, outcome);
  });
});
