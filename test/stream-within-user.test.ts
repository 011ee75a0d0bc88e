import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEngineWorker } from './support/engine-worker-bundle.js';
import type { GenerationConfigInput } from '../lambda/config/schema.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { CsvBuffer } from '../lambda/rows/csv-buffer.js';
import { createEngine } from '../lambda/engine/create-engine.js';
import { MAX_USER_UPLOADS } from '../lambda/engine/upload-bound.js';
import { CHUNK_BYTES, formatRange, RowFormatting } from '../lambda/rows/user-rows.js';
import { USER_TABLES } from '../lambda/rows/user-tables.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { REPO } from './support/run-cli.js';

/**
 * A user with more rows than a chunk holds (a 1-second task grid; thousands of uploads an hour)
 * streams like any other: chunks are cut inside the user, no buffer grows with its rows, and the
 * bytes are those of writing the user's rows in one go.
 */

// Longer than any row of any table (a task row is at most ~130 bytes).
const MAX_ROW = 256;
const ONE_SECOND = 1 / 3600;

const tmp = mkdtempSync(join(tmpdir(), 'tierdrift-stream-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** One user's rows of every table written whole, each table into one buffer that grows as needed: the reference bytes. */
function unchunked(raw: GenerationConfigInput): Buffer[] {
  const config = parseConfig(raw);
  const out = USER_TABLES.map(() => new CsvBuffer(1 << 16));
  const writers = USER_TABLES.map((t) => t.rowWriter(config));
  let txnId = 1;
  for (const batch of createEngine(config)) {
    for (let j = 0; j < batch.uploadCount; j++) batch.uploadTxnId[j] = txnId++;
    writers.forEach((w, i) => {
      w.start(batch);
      w.write(out[i], Infinity);
      expect(w.done).toBe(true);
    });
  }
  return out.map((b) => b.take());
}

describe('a user with more rows than a chunk', () => {
  for (const engine of ['reference', 'seedrandom'] as const) {
    it(`${engine}: is cut into chunks of at most CHUNK_BYTES plus one row per table, with the bytes of writing it whole`, () => {
      // 3 days on a 1-second grid (~255,600 task rows, ~20 MB) and ~600,000 uploads (~25 MB).
      const raw: GenerationConfigInput = {
        engine,
        users: 1,
        end: '2025-03-04T00:00:00Z',
        minTierGapHours: 1,
        freeUploadsPerDay: { mean: 200_000, std: 0 },
        premiumUploadsPerDay: { mean: 200_000, std: 0 },
        tasks: { gridHours: ONE_SECOND },
      };
      const config = parseConfig(raw);
      const hashes = USER_TABLES.map(() => createHash('sha256'));
      const rows = USER_TABLES.map(() => 0);
      const chunksWithRows = USER_TABLES.map(() => 0);
      let users = 0;
      for (const { chunk } of formatRange(new RowFormatting(config), { from: 1, to: 1 }, 1, createEngine(config))) {
        chunk.bytes.forEach((bytes, i) => {
          expect(bytes.length).toBeLessThan(CHUNK_BYTES + MAX_ROW);
          hashes[i].update(bytes);
          rows[i] += chunk.rows[i];
          if (chunk.rows[i] > 0) chunksWithRows[i]++;
        });
        users += chunk.users;
      }
      // The user is counted once, in the chunk that completes it.
      expect(users).toBe(1);
      const tasks = USER_TABLES.findIndex((t) => t.name === 'tasks_upload_50gb_next_hour');
      const uploads = USER_TABLES.findIndex((t) => t.name === 'uploads');
      expect(rows[tasks]).toBeGreaterThan(250_000);
      expect(chunksWithRows[tasks]).toBeGreaterThan(15);
      expect(chunksWithRows[uploads]).toBeGreaterThan(15);
      const whole = unchunked(raw);
      expect(hashes.map((h) => h.digest('hex'))).toEqual(whole.map(sha256));
    }, 120_000);
  }
});

describe('every path writes the same bytes when chunks are cut inside users', () => {
  let workerUrl: URL;
  beforeAll(async () => {
    const dir = join(tmp, 'bundle');
    workerUrl = await bundleEngineWorker(dir);
  }, 120_000);

  // Three users of ~170,000 task rows each (~13 MB): every user spans several chunks.
  const cases: Array<{ name: string; raw: GenerationConfigInput; workers: number; blockUsers?: number }> = [
    {
      name: 'seedrandom, blocks of one user on 2 workers',
      raw: {
        engine: 'seedrandom',
        seed: 3,
        users: 3,
        end: '2025-03-03T00:00:00Z',
        minTierGapHours: 1,
        tasks: { gridHours: ONE_SECOND },
      },
      workers: 2,
      blockUsers: 1,
    },
    {
      name: 'reference, tables split over 2 workers',
      raw: { seed: 3, users: 3, end: '2025-03-03T00:00:00Z', minTierGapHours: 1, tasks: { gridHours: ONE_SECOND } },
      workers: 2,
    },
  ];
  for (const { name, raw, workers, blockUsers } of cases) {
    it(
      name,
      async () => {
        const config = parseConfig(raw);
        const one = await publishDataset(config, { storage: new LocalFolderStorage(join(tmp, `${name}-1`)) });
        const many = await publishDataset(config, {
          storage: new LocalFolderStorage(join(tmp, `${name}-n`)),
          engineWorker: workerUrl,
          workers,
          blockUsers,
        });
        expect(one.manifest.files.find((f) => f.name.startsWith('tasks/'))!.rows).toBeGreaterThan(3 * 150_000);
        expect(many.manifest.files).toEqual(one.manifest.files);
        expect(many.manifest.summary).toEqual(one.manifest.summary);
      },
      120_000,
    );
  }

  it('a user over the per-user upload limit fails a worker run with the one-line error, not a stack', async () => {
    for (const engine of ['reference', 'seedrandom'] as const) {
      // Validation refuses these rates; built by hand, they reach the engines' own limit.
      const config = {
        ...parseConfig({ engine, users: 2 }),
        freeUploadsPerDay: { mean: 1e6, std: 0 },
        premiumUploadsPerDay: { mean: 1e6, std: 0 },
      };
      const run = publishDataset(config, {
        storage: new LocalFolderStorage(join(tmp, `over-${engine}`)),
        engineWorker: workerUrl,
        workers: 2,
        blockUsers: 1,
      });
      await expect(run).rejects.toThrow(
        new RegExp(
          `^generating user \\d: more than ${MAX_USER_UPLOADS} uploads, the most one user may have \\([^\\n]*\\)$`,
        ),
      );
      await expect(run).rejects.toHaveProperty('name', 'OperationError');
    }
  }, 120_000);
});

/** The CLI in its own process, which prints its peak RSS (all threads) as it exits. */
function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string; peakRssMb: number }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', './test/support/report-peak-rss.mjs', 'bin/tierdrift.mjs', ...args],
      { cwd: REPO, env: { ...process.env, NO_COLOR: '1' }, timeout: 240_000, maxBuffer: 16 << 20 },
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

it('the CLI streams one user with 3.4 million task rows (a 1-second grid over 40 days) in far less memory than the file, the same bytes on 1 and 2 workers', async () => {
  const config = { users: 1, end: '2025-04-10T00:00:00Z', tasks: { gridHours: ONE_SECOND } };
  const configFile = join(tmp, 'one-user.json');
  writeFileSync(configFile, JSON.stringify(config));
  // The same user on an hourly grid (960 task rows): what a run costs whatever its rows (the
  // runtime, the threads, the report's renderer), run first, so that it also takes any one-off cost.
  const hourlyFile = join(tmp, 'one-user-hourly.json');
  writeFileSync(hourlyFile, JSON.stringify({ ...config, tasks: { gridHours: 1 } }));
  const hourly = await cli(['generate', '--config', hourlyFile, '--dest', join(tmp, 'cli-hourly'), '--workers', '1']);
  expect(hourly.code, hourly.stderr).toBe(0);
  const manifests = [];
  for (const workers of ['1', '2']) {
    const dest = join(tmp, `cli-${workers}`);
    const run = await cli(['generate', '--config', configFile, '--dest', dest, '--workers', workers, '--json']);
    expect(run.code, run.stderr).toBe(0);
    const manifest = JSON.parse(run.stdout) as {
      files: { name: string; rows: number; bytes: number; sha256: string }[];
    };
    const tasks = manifest.files.find((f) => f.name === 'tasks/upload_50gb_next_hour.csv')!;
    expect(tasks.rows).toBeGreaterThan(3_400_000);
    expect(tasks.bytes).toBeGreaterThan(250e6);
    // Whole in one buffer, the user's task rows alone would take more than the file's size (~640 MB peak before).
    console.log(
      `one user, ${tasks.rows} task rows (${(tasks.bytes / 1e6).toFixed(0)} MB) on ${workers} worker(s): peak RSS ${run.peakRssMb.toFixed(0)} MB; on an hourly grid ${hourly.peakRssMb.toFixed(0)} MB`,
    );
    expect(run.peakRssMb).toBeGreaterThan(0);
    // 3,600 times the rows, not the memory: within 100 MB of the hourly run (the rows' text alone is 268 MiB).
    expect(run.peakRssMb - hourly.peakRssMb).toBeLessThan(100);
    expect(run.peakRssMb).toBeLessThan(tasks.bytes / 2 ** 20);
    manifests.push(manifest.files);
    rmSync(dest, { recursive: true, force: true });
  }
  expect(manifests[1]).toEqual(manifests[0]);
}, 300_000);
