import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { beforeAll, expect, it } from 'vitest';
import { PART_BYTES } from '../lambda/storage/s3-storage.js';
import { useLocalS3 } from './support/local-s3.js';
import { describeRequest, S3RequestLog } from './support/s3-request-log.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));
// The bound for the S3 path at any size (npm run bench measures 1,000,000 users too).
const PEAK_RSS_LIMIT_MB = 300;

const s3 = useLocalS3();
let log: S3RequestLog;

beforeAll(async () => {
  log = new S3RequestLog(s3);
  await s3.createBucket('big');
});

/** Runs the CLI in its own process, which prints its peak RSS (all threads) as it exits. */
function cli(...args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; peakRssMb: number }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', './test/support/report-peak-rss.mjs', 'bin/tierdrift.mjs', ...args],
      { cwd: REPO, env: { ...process.env }, timeout: 240_000, maxBuffer: 16 << 20 },
      (error, stdout, stderr) => {
        const peakKb = Number(/^peak-rss-kb (\d+)$/m.exec(stderr)?.[1]);
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : null) : 0,
          stdout,
          stderr,
          peakRssMb: peakKb / 1024,
        });
      },
    );
  });
}

it(`publishes 200,000 users to S3 through multipart uploads in under ${PEAK_RSS_LIMIT_MB} MB peak RSS, and the dataset verifies`, async () => {
  const run = await cli('generate', '--users', '200000', '--dest', 's3://big/root', '--json');
  expect(run.code, run.stderr).toBe(0);
  const manifest = JSON.parse(run.stdout) as {
    datasetId: string;
    configHash: string;
    files: { name: string; bytes: number }[];
  };
  const uploads = manifest.files.find((f) => f.name === 'uploads.csv')!;
  expect(uploads.bytes).toBeGreaterThan(100 << 20);
  // The CSVs went up in parts, never whole.
  const requests = log.requests('big').map(describeRequest);
  expect(requests.filter((r) => r === 'UploadPart uploads.csv').length).toBe(Math.ceil(uploads.bytes / PART_BYTES));
  expect(requests).not.toContain('PutObject uploads.csv');
  console.log(
    `200,000 users: uploads.csv ${(uploads.bytes / 2 ** 20).toFixed(0)} MiB, peak RSS ${run.peakRssMb.toFixed(0)} MB`,
  );
  expect(run.peakRssMb).toBeGreaterThan(0);
  expect(run.peakRssMb).toBeLessThan(PEAK_RSS_LIMIT_MB);

  const verify = await cli('verify', `s3://big/root/seed=42/${manifest.configHash}`);
  expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  expect(verify.stdout).toMatch(/all 9 files verified/);
  // ~0.9 GB written and re-read (the task file is about twice uploads.csv) on a shared machine.
}, 300_000);
