import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleEngineWorker } from './support/engine-worker-bundle.js';
import { parseConfig } from '../lambda/validation/validate.js';
import type { GenerationConfigInput } from '../lambda/config/schema.js';
import { TABLE_SPLIT } from '../lambda/threads/table-split.js';
import { userRows } from '../lambda/threads/user-rows-source.js';
import { USER_TABLES } from '../lambda/rows/user-tables.js';
import { publishDataset, type PublishOutcome } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';

const tmp = mkdtempSync(join(tmpdir(), 'tierdrift-workers-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
let counter = 0;

let workerUrl: URL;
beforeAll(async () => {
  const dir = join(tmp, 'bundle');
  workerUrl = await bundleEngineWorker(dir);
});

export const SPLIT_CONFIGS: Array<{ name: string; raw: GenerationConfigInput }> = [
  {
    name: 'default rates, 1001 users (not divisible by 2, 3 or 7)',
    raw: { engine: 'seedrandom', seed: 9, users: 1001 },
  },
  {
    name: 'high rates, cohort sizes',
    raw: {
      engine: 'seedrandom',
      seed: 4,
      users: 250,
      premiumUploadsPerDay: { mean: 120, std: 30 },
      cohortSizes: [10, 100, 40, 60, 40],
    },
  },
  {
    // Free-only users with a tiny rate: most blocks and shards have no uploads at all.
    name: 'almost no uploads (empty blocks)',
    raw: {
      engine: 'seedrandom',
      seed: 1,
      users: 500,
      freeUploadsPerDay: { mean: 0.0005, std: 0 },
      cohortSizes: [0, 500, 0, 0, 0],
    },
  },
  // A row writer that depends on the config: every thread must build its writers from it.
  { name: 'open-ended tiers', raw: { engine: 'seedrandom', seed: 6, users: 300, openEndedTiers: true } },
];

async function publish(
  raw: GenerationConfigInput,
  options: { workers?: number; worker?: boolean; blockUsers?: number },
) {
  const dir = join(tmp, `run-${++counter}`);
  const outcome = await publishDataset(parseConfig(raw), {
    storage: new LocalFolderStorage(dir),
    engineWorker: options.worker ? workerUrl : undefined,
    workers: options.workers,
    blockUsers: options.blockUsers,
  });
  return { dir, outcome };
}

function expectSameBytes(
  a: { dir: string; outcome: PublishOutcome },
  b: { dir: string; outcome: PublishOutcome },
): void {
  expect(b.outcome.manifest.files).toEqual(a.outcome.manifest.files);
  expect(b.outcome.manifest.checks).toEqual(a.outcome.manifest.checks);
  expect(b.outcome.manifest.summary).toEqual(a.outcome.manifest.summary);
  for (const file of a.outcome.manifest.files) {
    const x = readFileSync(join(a.dir, a.outcome.prefix, file.name));
    const y = readFileSync(join(b.dir, b.outcome.prefix, file.name));
    expect(x.equals(y), file.name).toBe(true);
  }
}

describe('generate with N worker threads', () => {
  describe.each(SPLIT_CONFIGS)('$name', ({ raw }) => {
    let single: Awaited<ReturnType<typeof publish>>;
    beforeAll(async () => {
      single = await publish(raw, {});
      const uploads = readFileSync(join(single.dir, single.outcome.prefix, 'uploads.csv'), 'latin1')
        .split('\r\n')
        .slice(1, -1);
      // txn ids are 1..n in file order, whatever the engine numbered them.
      uploads.forEach((line, i) => expect(line.split(',')[0]).toBe(String(i + 1)));
      expect(single.outcome.manifest.checksPassed).toBe(true);
    });

    it.each([1, 2, 3, 7])('%i workers write the same bytes as one thread', async (workers) => {
      expectSameBytes(single, await publish(raw, { workers, worker: true, blockUsers: 7 }));
    });

    it('the default block size and the in-process split give the same bytes', async () => {
      expectSameBytes(single, await publish(raw, { workers: 2, worker: true }));
      expectSameBytes(single, await publish(raw, { workers: 3, blockUsers: 50 }));
    });
  });

  it('has runs without any upload in whole blocks', async () => {
    const { dir, outcome } = await publish(SPLIT_CONFIGS[2].raw, {});
    const users = new Set(
      readFileSync(join(dir, outcome.prefix, 'uploads.csv'), 'latin1')
        .split('\r\n')
        .slice(1, -1)
        .map((l) => Math.floor((Number(l.split(',')[1]) - 1) / 7)),
    );
    // Blocks of 7 users at the minimum rate (0.01 uploads a day each): about half the 72 blocks
    // have no upload (p ≈ e^-0.7); at least 10 empty blocks is far inside that.
    expect(users.size).toBeLessThan(Math.ceil(500 / 7) - 10);
  });

  it('writes open-ended tiers from the worker threads', async () => {
    const { dir, outcome } = await publish(SPLIT_CONFIGS[3].raw, { workers: 2, worker: true, blockUsers: 7 });
    const tiers = readFileSync(join(dir, outcome.prefix, 'tiers.csv'), 'latin1')
      .split('\r\n')
      .slice(1, -1);
    const openRows = tiers.filter((line) => line.split(',')[2] === '');
    expect(openRows.map((line) => line.split(',')[0])).toEqual(Array.from({ length: 300 }, (_, i) => String(i + 1)));
  });
});

describe('the reference engine on two threads (split by table)', () => {
  const REFERENCE_CONFIGS: Array<{ name: string; raw: GenerationConfigInput }> = [
    { name: 'seed 42, 1001 users', raw: { seed: 42, users: 1001 } },
    {
      name: 'high rates (blocks of few users)',
      raw: { seed: 4, users: 250, premiumUploadsPerDay: { mean: 120, std: 30 }, cohortSizes: [10, 100, 40, 60, 40] },
    },
    {
      name: 'almost no uploads',
      raw: { seed: 1, users: 500, freeUploadsPerDay: { mean: 0.0005, std: 0 }, cohortSizes: [0, 500, 0, 0, 0] },
    },
    { name: 'open-ended tiers', raw: { seed: 6, users: 300, openEndedTiers: true } },
    { name: 'one user', raw: { seed: 3, users: 1 } },
  ];

  it('gives every per-user table to exactly one of the two threads', () => {
    const split = [...TABLE_SPLIT.engine, ...TABLE_SPLIT.companion];
    expect([...split].sort()).toEqual(USER_TABLES.map((t) => t.name).sort());
    // The uploads table carries the checks and the report: one thread only.
    expect(TABLE_SPLIT.companion).toContain('uploads');
  });

  describe.each(REFERENCE_CONFIGS)('$name', ({ raw }) => {
    let single: Awaited<ReturnType<typeof publish>>;
    beforeAll(async () => {
      single = await publish(raw, {});
      expect(single.outcome.manifest.checksPassed).toBe(true);
    });

    it.each([
      { workers: 2, blockUsers: 7 },
      { workers: 2, blockUsers: 1 },
      { workers: 5 }, // more than the two it can use
    ])('writes the same bytes as one thread (%j)', async (options) => {
      expectSameBytes(single, await publish(raw, { ...options, worker: true }));
    });
  });

  it('counts each user once in the progress it reports', async () => {
    const seen: number[] = [];
    await publishDataset(parseConfig({ seed: 8, users: 3000 }), {
      storage: new LocalFolderStorage(join(tmp, `run-${++counter}`)),
      engineWorker: workerUrl,
      workers: 2,
      blockUsers: 100,
      onProgress: (done, total) => {
        expect(total).toBe(3000);
        seen.push(done);
      },
    });
    expect(seen.at(-1)).toBe(3000);
    expect(seen.every((done, i) => done <= 3000 && (i === 0 || done >= seen[i - 1]))).toBe(true);
  });

  it('a failing companion ends the run with its error, nothing published and no thread left waiting', async () => {
    // A worker script that is the real one, except that the companion fails at once: the engine
    // thread then waits for acks that never come, and must not hold the run up.
    const failing = join(tmp, 'bundle', 'failing-companion.mjs');
    writeFileSync(
      failing,
      `import { parentPort, workerData } from 'node:worker_threads';
if (workerData.pair?.role === 'companion') parentPort.postMessage({ type: 'error', message: 'companion failed on purpose' });
else await import('./engine-worker.mjs');
`,
    );
    const dir = join(tmp, `run-${++counter}`);
    const run = publishDataset(parseConfig({ seed: 2, users: 20_000 }), {
      storage: new LocalFolderStorage(dir),
      engineWorker: pathToFileURL(failing),
      workers: 2,
      blockUsers: 10,
    });
    await expect(run).rejects.toThrow(/companion failed on purpose/);
    const left = existsSync(dir)
      ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())
      : [];
    expect(left.map((e) => e.name)).toEqual([]);
  });

  it('without a worker script, runs in this thread whatever the number of workers', async () => {
    const parts = [];
    for await (const part of userRows(parseConfig({ users: 10 }), { workers: 2 })) parts.push(part);
    expect(parts.filter((p) => p.report)).toHaveLength(1);
    expect(parts.reduce((n, p) => n + p.chunk.users, 0)).toBe(10);
  });
});
