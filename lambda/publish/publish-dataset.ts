import { datasetAddress, type DatasetAddress } from '../config/dataset-id.js';
import type { GenerationConfig } from '../config/schema.js';
import type { Cohort } from '../engine/cohorts.js';
import { batchSource } from '../engine/batch-source.js';
import { headerLine, itemLines } from '../dataset/csv-format.js';
import { IntegrityChecker } from '../dataset/integrity-checks.js';
import { buildManifest, parseManifest, type Manifest, type ManifestFile } from '../dataset/manifest.js';
import { ITEMS, MANIFEST_FILE, TABLE_NAMES, TABLES, type TableName } from '../dataset/tables.js';
import type { DatasetStorage } from '../storage/storage.js';
import { parseUtcTimestamp } from '../time/utc-timestamp.js';
import { timedeltaFromFloat, US_PER_HOUR } from '../time/python-timedelta.js';
import { DigestingFileWriter } from './file-digest.js';
import { flushFull, writeBatch } from './batch-rows.js';

export interface PublishOptions {
  storage: DatasetStorage;
  /** Key prefix under the storage root (e.g. an S3 root folder); empty for the root itself. */
  root?: string;
  /** URL of the bundled engine-worker script: generate on a second thread (same bytes). */
  engineWorker?: URL;
  /**
   * Engine threads (default 1). Above 1 the users are generated in blocks on that many worker
   * threads (with `engineWorker`; without, the same blocks run in this thread); the engine must
   * generate users independently (`seedrandom`). The bytes do not depend on it.
   */
  workers?: number;
  /** Users per block when `workers` > 1 (default: sized from the rates; tests make it small). */
  blockUsers?: number;
  /** Called now and then with the number of users written so far. */
  onProgress?: (usersDone: number, usersTotal: number) => void;
}

export interface PublishOutcome {
  /** `created` by this run, or found `existing` (nothing regenerated). */
  status: 'created' | 'existing';
  address: DatasetAddress;
  /** Key of the dataset folder and of its manifest. */
  prefix: string;
  manifestKey: string;
  manifest: Manifest;
}

export function datasetKeys(address: DatasetAddress, root = ''): { prefix: string; manifestKey: string } {
  const prefix = root ? `${root.replace(/\/+$/, '')}/${address.prefix}` : address.prefix;
  return { prefix, manifestKey: `${prefix}/${MANIFEST_FILE}` };
}

/** The manifest of a published dataset, or undefined when there is none (not a dataset). */
export async function readManifest(storage: DatasetStorage, manifestKey: string): Promise<Manifest | undefined> {
  const bytes = await storage.read(manifestKey);
  return bytes && parseManifest(bytes);
}

/**
 * Generates the dataset of a validated config and publishes it: the four CSVs streamed to staged
 * writers, then the manifest, written last and only if absent, as the commit. A config that is
 * already published is returned as it is.
 */
export async function publishDataset(config: GenerationConfig, options: PublishOptions): Promise<PublishOutcome> {
  const { storage } = options;
  const address = datasetAddress(config);
  const { prefix, manifestKey } = datasetKeys(address, options.root);
  const existing = await readManifest(storage, manifestKey);
  if (existing) return { status: 'existing', address, prefix, manifestKey, manifest: existing };

  const startedAt = new Date();
  const writers = Object.fromEntries(
    TABLE_NAMES.map((table) => [table, storage.createWriter(`${prefix}/${TABLES[table].file}`)]),
  ) as Record<TableName, ReturnType<DatasetStorage['createWriter']>>;
  let files: ManifestFile[];
  let integrity: ReturnType<IntegrityChecker['finish']>;
  const usersPerCohort: Record<`${Cohort}`, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
  try {
    const out = Object.fromEntries(TABLE_NAMES.map((t) => [t, new DigestingFileWriter(writers[t])])) as Record<
      TableName,
      DigestingFileWriter
    >;
    const start = parseUtcTimestamp(config.start)!;
    const checker = new IntegrityChecker({
      start,
      end: parseUtcTimestamp(config.end)!,
      minGapUs: timedeltaFromFloat(config.minTierGapHours, US_PER_HOUR),
      users: config.users,
    });
    for (const table of TABLE_NAMES) out[table].appendText(headerLine(table), 0);
    out.items.appendText(itemLines(), ITEMS.length);
    for (const item of ITEMS) checker.addItem(item.itemId, item.sizeGb);

    const progressEvery = Math.max(1, Math.floor(config.users / 200));
    const rows = { users: out.users, tiers: out.tiers, uploads: out.uploads };
    let nextTxnId = 1;
    for await (const run of batchSource(config, { worker: options.engineWorker, workers: options.workers, blockUsers: options.blockUsers })) {
      for (const batch of run) {
        nextTxnId = writeBatch(batch, rows, checker, usersPerCohort, nextTxnId);
        if (rows.users.full || rows.tiers.full || rows.uploads.full) await flushFull(rows);
        if (options.onProgress && batch.userId % progressEvery === 0) options.onProgress(batch.userId, config.users);
      }
    }
    integrity = checker.finish();
    files = [];
    for (const table of TABLE_NAMES) {
      files.push({ name: TABLES[table].file, columns: [...TABLES[table].columns], ...(await out[table].close()) });
    }
    // Only once every file is fully written do they take their final names.
    for (const table of TABLE_NAMES) await writers[table].commit();
  } catch (error) {
    await Promise.allSettled(TABLE_NAMES.map((t) => writers[t].abort()));
    throw error;
  }

  const manifest = buildManifest({
    config,
    address,
    files,
    checks: integrity.checks,
    summary: { usersPerCohort, ...integrity.summary },
    startedAt,
  });
  if (await storage.putIfAbsent(manifestKey, `${JSON.stringify(manifest, null, 2)}\n`)) {
    return { status: 'created', address, prefix, manifestKey, manifest };
  }
  // Another run published the same config first; its files are byte-identical to ours.
  const winner = await readManifest(storage, manifestKey);
  return { status: 'existing', address, prefix, manifestKey, manifest: winner ?? manifest };
}
