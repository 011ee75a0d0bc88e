import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../lambda/validation/validate.js';
import { MANIFEST_FILE } from '../lambda/layout/tables.js';
import { publishDataset, readManifest, type PublishOutcome } from '../lambda/publish/publish-dataset.js';
import { verifyDataset } from '../lambda/publish/verify-dataset.js';
import { createS3Client } from '../lambda/storage/s3-client.js';
import { S3Storage } from '../lambda/storage/s3-storage.js';
import { bundleEngineWorker } from './support/engine-worker-bundle.js';
import { useLocalS3 } from './support/local-s3.js';
import { describeRequest, S3RequestLog } from './support/s3-request-log.js';
import { EXPECTED_FILES } from './support/expected-files.js';

// 12,000 users make an uploads.csv of 8.04 MiB, two 5 MiB parts, so a run holds multipart uploads
// (create, parts, complete) beside single PutObjects, the manifest read and write.
const config = parseConfig({ users: 12_000 });

const s3 = useLocalS3();
let log: S3RequestLog;
let clean: PublishOutcome;
let cleanRequests: string[];

let engineWorker: URL;

const storage = (bucket: string) => new S3Storage(createS3Client(), bucket);
const publish = (bucket: string) => publishDataset(config, { storage: storage(bucket), root: 'data', engineWorker });

/** Every key in a bucket, page by page. */
async function allKeys(bucket: string): Promise<string[]> {
  const store = storage(bucket);
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await store.list('', { token });
    keys.push(...page.keys);
    token = page.nextToken;
  } while (token);
  return keys;
}

beforeAll(async () => {
  const bundle = mkdtempSync(join(tmpdir(), 'tierdrift-s3-publish-'));
  engineWorker = await bundleEngineWorker(bundle);
  log = new S3RequestLog(s3);
  await s3.createBucket('clean');
  log.restart('clean');
  clean = await publish('clean');
  cleanRequests = log.requests('clean').map(describeRequest);
});

describe('publishing to S3 with the k-th request failing', () => {
  it('a clean run: its requests, and a dataset that verifies', async () => {
    // The order of the middle requests varies from run to run (the files upload concurrently).
    expect([...cleanRequests].sort()).toEqual(
      [
        'GetObject manifest.json',
        'ListMultipartUploads', // what dead runs left under the dataset's folder
        'PutObject users.csv',
        'PutObject tiers.csv',
        'PutObject items.csv',
        'CreateMultipartUpload uploads.csv',
        'UploadPart uploads.csv',
        'UploadPart uploads.csv',
        'CompleteMultipartUpload uploads.csv',
        'PutObject users.csv', // truth/users.csv
        // The task file: ~20 rows of ~70 bytes a user, 4 parts at 12,000 users.
        'CreateMultipartUpload upload_50gb_next_hour.csv',
        'UploadPart upload_50gb_next_hour.csv',
        'UploadPart upload_50gb_next_hour.csv',
        'UploadPart upload_50gb_next_hour.csv',
        'UploadPart upload_50gb_next_hour.csv',
        'CompleteMultipartUpload upload_50gb_next_hour.csv',
        'PutObject schema.json',
        'PutObject report-data.json',
        'PutObject report.html',
        'PutObject manifest.json',
      ].sort(),
    );
    expect(cleanRequests[0]).toBe('GetObject manifest.json'); // looked for first
    expect(cleanRequests.at(-1)).toBe('PutObject manifest.json'); // written last
    const verified = await verifyDataset(storage('clean'), clean.prefix);
    expect(verified.complete && verified.ok).toBe(true);
  });

  it('whichever request fails: the run rejects, no manifest without every file, no open upload; the retry publishes the same bytes', async () => {
    // Each k in its own bucket (requests are counted per bucket), all at once: the engine runs on
    // worker threads, so the runs overlap.
    const ks = Array.from({ length: cleanRequests.length }, (_, i) => i + 1);
    await Promise.all(ks.map((k) => failThenRetry(k)));
    // 20 requests (9 files), so 20 failing runs and their retries: minutes on a loaded 2-core machine.
  }, 480_000);
});

async function failThenRetry(k: number): Promise<void> {
  const bucket = `fault-${k}`;
  await s3.createBucket(bucket);
  log.restart(bucket, k);
  await expect(publish(bucket), `k=${k}`).rejects.toThrow(
    /^S3 InjectedFault \(400\) on \w+( \d+)? of s3:\/\/fault-\d+\/\S+$/,
  );
  expect(
    log.requests(bucket).filter((r) => r.faulted),
    `k=${k}`,
  ).toHaveLength(1);
  expect(await allKeys(bucket), `k=${k}`).not.toContain(clean.manifestKey);
  expect(s3.incompleteUploads(bucket).length, `k=${k}`).toBe(0);

  log.restart(bucket);
  const retry = await publish(bucket);
  expect(retry.status, `k=${k}`).toBe('created');
  expect(retry.manifest.files, `k=${k}`).toEqual(clean.manifest.files);
  const verified = await verifyDataset(storage(bucket), retry.prefix);
  expect(verified.complete && verified.ok, `k=${k}`).toBe(true);
  expect(s3.incompleteUploads(bucket).length, `k=${k}`).toBe(0);
}

describe('ten identical publishes at once', () => {
  it('one creates, nine find it existing; one manifest, the winner’s, and every file verifies', async () => {
    await s3.createBucket('race');
    const small = parseConfig({ users: 800, seed: 9 });
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => publishDataset(small, { storage: storage('race'), root: 'r' })),
    );
    expect(outcomes.filter((o) => o.status === 'created')).toHaveLength(1);
    expect(outcomes.filter((o) => o.status === 'existing')).toHaveLength(9);
    const winner = outcomes.find((o) => o.status === 'created')!;
    const keys = await allKeys('race');
    expect(keys.filter((k) => k.endsWith(MANIFEST_FILE))).toEqual([winner.manifestKey]);
    const files = [...EXPECTED_FILES, MANIFEST_FILE];
    expect(keys.sort()).toEqual(files.map((f) => `${winner.prefix}/${f}`).sort());
    expect(await readManifest(storage('race'), winner.manifestKey)).toEqual(winner.manifest);
    for (const outcome of outcomes) expect(outcome.manifest).toEqual(winner.manifest);
    const verified = await verifyDataset(storage('race'), winner.prefix);
    expect(verified.complete && verified.ok).toBe(true);
  });
});
