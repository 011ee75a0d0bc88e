import { CreateMultipartUploadCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../lambda/validation/validate.js';
import { MANIFEST_FILE } from '../lambda/layout/tables.js';
import { datasetKeys } from '../lambda/layout/key-layout.js';
import { publishDataset, type PublishOutcome } from '../lambda/publish/publish-dataset.js';
import { STALE_RUN_SECONDS } from '../lambda/settings/function-settings.js';
import { datasetAddress } from '../lambda/config/dataset-id.js';
import { createS3Client, type S3Timeouts } from '../lambda/storage/s3-client.js';
import { S3Storage } from '../lambda/storage/s3-storage.js';
import { startFaultProxy, type FaultProxy } from './support/fault-proxy.js';
import { useLocalS3 } from './support/local-s3.js';
import { runCli } from './support/run-cli.js';

// S3 faults injected by a TCP proxy in front of the loopback S3 server, with short timeouts (the
// production ones are minutes). 12,000 users: uploads.csv is 2 parts, the task file 4, the rest
// single PutObjects.
const SHORT: S3Timeouts = { connectMs: 1_000, requestMs: 5_000, idleMs: 1_500, maxAttempts: 3, abortMs: 5_000 };
const config = parseConfig({ users: 12_000 });
const { prefix } = datasetKeys(datasetAddress(config), 'data');
const keyPattern = (bucket: string, file: string, datasetPrefix = prefix) =>
  `s3://${bucket}/${datasetPrefix}/${file}`.replace(/[.?*+^$()[\]{}|\\/]/g, '\\$&');

let proxy: FaultProxy;
let direct: S3Client;
let clock = 0; // added to the loopback server's clock: how old its multipart uploads look
const s3 = useLocalS3({ now: () => Date.now() + clock });
let clean: PublishOutcome;

const viaProxy = (bucket: string) => new S3Storage(createS3Client(SHORT), bucket, { timeouts: SHORT });
const publish = (bucket: string) => publishDataset(config, { storage: viaProxy(bucket), root: 'data' });

/** What the loopback server holds for the dataset, read past the proxy. */
async function leftovers(bucket: string): Promise<{ manifest: boolean; incompleteUploads: number }> {
  const keys = (await new S3Storage(direct, bucket).list(`${prefix}/`)).keys;
  return {
    manifest: keys.includes(`${prefix}/${MANIFEST_FILE}`),
    incompleteUploads: s3.incompleteUploads(bucket).length,
  };
}

/** The run fails with `message`, leaving no manifest and no incomplete upload; healed, it publishes the clean bytes. */
async function failsThenHeals(bucket: string, message: RegExp): Promise<void> {
  await expect(publish(bucket)).rejects.toThrow(message);
  expect(await leftovers(bucket)).toEqual({ manifest: false, incompleteUploads: 0 });
  proxy.set({ kind: 'pass' });
  await succeedsIdentical(bucket);
}

async function succeedsIdentical(bucket: string): Promise<void> {
  const run = await publish(bucket);
  expect(run.status).toBe('created');
  expect(run.manifest.files).toEqual(clean.manifest.files);
  expect(await leftovers(bucket)).toEqual({ manifest: true, incompleteUploads: 0 });
}

beforeAll(async () => {
  direct = new S3Client({
    endpoint: s3.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  proxy = await startFaultProxy(s3.endpoint);
  process.env.AWS_ENDPOINT_URL_S3 = proxy.endpoint;
  for (const bucket of [
    'clean',
    'stall',
    'stall-once',
    'reset',
    'reset-once',
    'throttled',
    'slow',
    'slow-manifest',
    'slow-parquet',
    'outage',
    'dead-network',
    'killed',
    'cli-slow',
  ]) {
    await s3.createBucket(bucket);
  }
  clean = await publish('clean');
});
afterAll(async () => {
  direct.destroy();
  await proxy.close();
});

describe('S3 faults through a proxy, publishing with S3Storage', () => {
  it('a connection that stalls mid-part on every attempt: one line naming the part, the upload aborted, no manifest', async () => {
    proxy.set({ kind: 'stall', match: /^PUT \S*\/uploads\.csv\?\S*partNumber=1&/, afterBytes: 1 << 20 });
    await failsThenHeals(
      'stall',
      new RegExp(
        `^S3 connection stalled \\(no bytes for 1\\.5 s\\) on UploadPart 1 of ${keyPattern('stall', 'uploads.csv')} after 3 attempts$`,
      ),
    );
  }, 60_000);

  it('a connection that stalls once: the retry goes through and the bytes are the same', async () => {
    proxy.set({ kind: 'stall', match: /^PUT \S*\/uploads\.csv\?\S*partNumber=1&/, afterBytes: 1 << 20, times: 1 });
    await succeedsIdentical('stall-once');
    expect(proxy.picked).toBe(1);
  }, 60_000);

  it('a connection reset at byte K of every attempt: one line naming the part and ECONNRESET, nothing left', async () => {
    proxy.set({ kind: 'reset', match: /^PUT \S*\/upload_50gb_next_hour\.csv\?\S*partNumber=1&/, afterBytes: 3 << 20 });
    await failsThenHeals(
      'reset',
      new RegExp(
        `^S3 connection reset \\(ECONNRESET\\) on UploadPart 1 of ${keyPattern('reset', 'tasks/upload_50gb_next_hour.csv')} after 3 attempts$`,
      ),
    );
  }, 60_000);

  it('a connection reset once: retried, same bytes', async () => {
    proxy.set({ kind: 'reset', match: /^PUT \S*\/uploads\.csv\?\S*partNumber=1&/, afterBytes: 100_000, times: 1 });
    await succeedsIdentical('reset-once');
    expect(proxy.picked).toBe(1);
  }, 60_000);

  it('transient 503 SlowDown: retried, same bytes', async () => {
    proxy.set({ kind: 'slowDown', match: /partNumber=/, times: 2 });
    await succeedsIdentical('throttled');
    expect(proxy.picked).toBe(2);
  }, 60_000);

  it('persistent 503 SlowDown on a part: `S3 SlowDown (503) on UploadPart 1 of … after 3 attempts`, nothing left', async () => {
    proxy.set({ kind: 'slowDown', match: /^PUT \S*\/uploads\.csv\?\S*partNumber=1&/ });
    await failsThenHeals(
      'slow',
      new RegExp(`^S3 SlowDown \\(503\\) on UploadPart 1 of ${keyPattern('slow', 'uploads.csv')} after 3 attempts$`),
    );
    expect(proxy.picked).toBe(0); // healed: nothing picked since
  }, 60_000);

  it('persistent 503 SlowDown on the manifest: named, and no manifest', async () => {
    proxy.set({ kind: 'slowDown', match: /^PUT \S*\/manifest\.json/ });
    await failsThenHeals(
      'slow-manifest',
      new RegExp(
        `^S3 SlowDown \\(503\\) on PutObject of ${keyPattern('slow-manifest', MANIFEST_FILE)} after 3 attempts$`,
      ),
    );
  }, 60_000);

  it('persistent 503 SlowDown on a Parquet part: named in one line, no manifest, nothing incomplete; healed, the same bytes as before', async () => {
    const withParquet = parseConfig({ users: 12_000, formats: ['csv', 'parquet'] });
    const parquetPrefix = datasetKeys(datasetAddress(withParquet), 'data').prefix;
    const run = () => publishDataset(withParquet, { storage: viaProxy('slow-parquet'), root: 'data' });
    proxy.set({ kind: 'slowDown', match: /^PUT \S*\/parquet\/uploads\/part-00000\.parquet/ });
    await expect(run()).rejects.toThrow(
      new RegExp(
        `^S3 SlowDown \\(503\\) on PutObject of ${keyPattern('slow-parquet', 'parquet/uploads/part-00000.parquet', parquetPrefix)} after 3 attempts$`,
      ),
    );
    const keys = (await new S3Storage(direct, 'slow-parquet').list(`${parquetPrefix}/`)).keys;
    expect(keys).not.toContain(`${parquetPrefix}/${MANIFEST_FILE}`);
    expect(s3.incompleteUploads('slow-parquet')).toEqual([]);
    proxy.set({ kind: 'pass' });
    const healed = await run();
    expect(healed.status).toBe('created');
    const unfaulted = await publishDataset(withParquet, { storage: new S3Storage(direct, 'clean'), root: 'data' });
    expect(healed.manifest.files).toEqual(unfaulted.manifest.files);
  }, 60_000);

  it('an outage mid-upload fails in one line; the next run aborts the upload the dead connection left', async () => {
    proxy.set({ kind: 'pass' });
    clock = -(STALE_RUN_SECONDS + 1) * 1000; // the uploads of this run look as old as a dead run's by the next
    try {
      const run = publish('outage');
      // Once a multipart upload is open, the network goes away: the run's abort cannot reach S3.
      while (s3.incompleteUploads('outage').length === 0) await new Promise((r) => setTimeout(r, 20));
      proxy.set({ kind: 'outage' });
      await expect(run).rejects.toThrow(
        /^S3 connection (reset|refused|closed) \(E[A-Z]+\) on \w+( \d+)? of s3:\/\/outage\/\S+ after 3 attempts$/,
      );
    } finally {
      clock = 0;
    }
    expect(await leftovers('outage')).toMatchObject({ manifest: false });
    expect(s3.incompleteUploads('outage').length).toBeGreaterThan(0);

    proxy.set({ kind: 'pass' });
    await succeedsIdentical('outage');
  }, 60_000);

  it('the whole network stalls mid-upload, aborts included: the run still ends in one line, and the next run cleans up', async () => {
    proxy.set({ kind: 'pass' });
    clock = -(STALE_RUN_SECONDS + 1) * 1000;
    try {
      const run = publish('dead-network');
      while (s3.incompleteUploads('dead-network').length === 0) await new Promise((r) => setTimeout(r, 20));
      proxy.set({ kind: 'stall', afterBytes: 0 }); // every request from now on: not one byte through
      await expect(run).rejects.toThrow(
        /^S3 connection stalled \(no bytes for 1\.5 s\) on \w+( \d+)? of s3:\/\/dead-network\/\S+ after 3 attempts$/,
      );
    } finally {
      clock = 0;
    }
    expect(await leftovers('dead-network')).toMatchObject({ manifest: false });
    proxy.set({ kind: 'pass' });
    await succeedsIdentical('dead-network');
  }, 60_000);

  it("a killed run's leftover uploads are aborted by the next run; a live run's fresh upload is left alone", async () => {
    proxy.set({ kind: 'pass' });
    const create = (key: string) => direct.send(new CreateMultipartUploadCommand({ Bucket: 'killed', Key: key }));
    clock = -(STALE_RUN_SECONDS + 60) * 1000; // started 16 minutes ago
    await create(`${prefix}/uploads.csv`);
    await create(`${prefix}/tasks/upload_50gb_next_hour.csv`);
    await create('data/seed=1/other-dataset/uploads.csv'); // another dataset's: not this run's to judge
    clock = 0;
    const live = await create(`${prefix}/uploads.csv`); // a concurrent run, just started
    expect(s3.incompleteUploads('killed')).toHaveLength(4);

    await publish('killed');
    expect(
      s3
        .incompleteUploads('killed')
        .map((u) => [u.key, u.uploadId])
        .sort(),
    ).toEqual(
      [
        ['data/seed=1/other-dataset/uploads.csv', expect.any(String)],
        [`${prefix}/uploads.csv`, live.UploadId],
      ].sort(),
    );
  }, 60_000);
});

describe('S3 faults through the CLI', () => {
  it('persistent 503 SlowDown: exit 1 and the one line on stderr', async () => {
    proxy.set({ kind: 'slowDown', match: /^PUT \S*\/uploads\.csv\?\S*partNumber=1&/ });
    const run = await runCli(['generate', '--users', '12000', '--dest', 's3://cli-slow/data'], {
      AWS_ENDPOINT_URL_S3: proxy.endpoint,
    });
    proxy.set({ kind: 'pass' });
    expect(run.code).toBe(1);
    const first = run.stderr.split('\n').find((line) => line.includes('S3 ')) ?? run.stderr;
    expect(first).toMatch(
      new RegExp(`S3 SlowDown \\(503\\) on UploadPart 1 of ${keyPattern('cli-slow', 'uploads.csv')} after 3 attempts$`),
    );
    expect(run.stderr).not.toMatch(/AbortError/);
    expect(await leftovers('cli-slow')).toEqual({ manifest: false, incompleteUploads: 0 });
  }, 90_000);
});
