import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../lambda/validation/validate.js';
import { PackedBatches } from '../lambda/engine/packed-batches.js';
import { createEngine } from '../lambda/engine/create-engine.js';
import type { UserBatch } from '../lambda/engine/user-batch.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { bundleEngineWorker } from './support/engine-worker-bundle.js';

const tmp = mkdtempSync(join(tmpdir(), 'tierdrift-worker-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const snapshot = (b: UserBatch) => ({
  userId: b.userId,
  cohort: b.cohort,
  rates: [b.freeRatePerHour, b.premiumRatePerHour],
  tiers: Array.from({ length: b.tierCount }, (_, t) => [b.tierFrom[t], b.tierUntil[t], b.tierIsPremium[t]]),
  uploads: Array.from({ length: b.uploadCount }, (_, j) => [b.uploadTxnId[j], b.uploadItemId[j], b.uploadAt[j]]),
});

describe('packed batches', () => {
  it.each(['reference', 'seedrandom'] as const)(
    'replays every batch unchanged, after growth and reuse (%s)',
    (engine) => {
      const config = parseConfig({ engine, seed: 5, users: 300, premiumUploadsPerDay: { mean: 400, std: 50 } });
      // Txn ids are not kept: the formatter numbers them.
      const withoutTxn = (b: UserBatch) => ({
        ...snapshot(b),
        uploads: snapshot(b).uploads.map(([, item, at]) => [item, at]),
      });
      const direct: ReturnType<typeof withoutTxn>[] = [];
      for (const b of createEngine(config)) direct.push(withoutTxn(b));
      const store = new PackedBatches(); // starts far smaller than 300 users' uploads at these rates: grows
      const replayed: ReturnType<typeof withoutTxn>[] = [];
      let kept = 0;
      for (const b of createEngine(config)) {
        store.add(b);
        kept += b.uploadCount;
        if (b.userId % 70 === 0) {
          expect(store.uploads).toBe(kept);
          for (const u of store.batches()) replayed.push(withoutTxn(u));
          store.clear();
          kept = 0;
        }
      }
      for (const u of store.batches()) replayed.push(withoutTxn(u));
      expect(direct).toHaveLength(300);
      expect(direct.reduce((s, u) => s + u.uploads.length, 0)).toBeGreaterThan(1 << 15);
      expect(replayed).toEqual(direct);
    },
  );
});

describe('generation on a worker thread', () => {
  let workerUrl: URL;
  beforeAll(async () => {
    const dir = join(tmp, 'bundle');
    workerUrl = await bundleEngineWorker(dir);
  });

  it.each([{ seed: 42 }, { seed: 3, users: 2500, premiumUploadsPerDay: { mean: 300, std: 80 } }])(
    'publishes the same bytes as the in-process engine (%j)',
    async (raw) => {
      const config = parseConfig(raw);
      const inProcess = await publishDataset(config, { storage: new LocalFolderStorage(join(tmp, 'a')) });
      const threaded = await publishDataset(config, {
        storage: new LocalFolderStorage(join(tmp, 'b')),
        engineWorker: workerUrl,
      });
      expect(threaded.status).toBe('created');
      expect(threaded.manifest.files).toEqual(inProcess.manifest.files);
      for (const file of inProcess.manifest.files) {
        const a = readFileSync(join(tmp, 'a', inProcess.prefix, file.name));
        expect(a.equals(readFileSync(join(tmp, 'b', threaded.prefix, file.name))), file.name).toBe(true);
      }
    },
  );
});
