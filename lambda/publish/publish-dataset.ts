import { datasetAddress, type DatasetAddress } from '../config/dataset-id.js';
import type { GenerationConfig } from '../config/schema.js';
import { headerLine, itemLines } from '../rows/csv-format.js';
import {
  buildManifest,
  notedChecks,
  parseManifest,
  type Manifest,
  type ManifestCheck,
  type ManifestFile,
} from '../dataset/manifest.js';
import { ITEMS, TABLES } from '../layout/tables.js';
import { datasetKeys, fileKey } from '../layout/key-layout.js';
import { STALE_RUN_SECONDS } from '../settings/function-settings.js';
import { writeObjects, type DatasetStorage } from '../storage/storage.js';
import { DigestingFileWriter } from './file-digest.js';
import { writeSchemaFile } from './schema-file.js';
import { RangeTally, type RangeReport } from '../rows/user-rows.js';
import { userRows } from '../threads/user-rows-source.js';
import { datasetFiles, USER_TABLES } from '../rows/user-tables.js';
import { ParquetOutput } from './parquet-output.js';
import { REPORT_FILES, writeReportFiles } from './report-files.js';

export interface PublishOptions {
  storage: DatasetStorage;
  /** Key prefix under the storage root (e.g. an S3 root folder); empty for the root itself. */
  root?: string;
  /**
   * URL of the bundled engine-worker script: generate and format the rows on other threads while
   * this one hashes and writes (same bytes).
   */
  engineWorker?: URL;
  /**
   * URL of the bundled Parquet worker script: encode the Parquet parts on a thread of their own
   * (same bytes). Without it they are encoded in this thread.
   */
  parquetWorker?: URL;
  /**
   * Threads that generate and format (default 1). Above 1 the users are cut into blocks shared
   * among that many worker threads (with `engineWorker`; without, the same blocks run in this
   * thread); the engine must generate users independently (`seedrandom`). The bytes do not depend on it.
   */
  workers?: number;
  /** Users per block when `workers` > 1 (default: sized from the rates; tests make it small). */
  blockUsers?: number;
  /**
   * What dead runs left in the dataset's folder (temp files, incomplete multipart uploads) is
   * removed when older than this (default `STALE_RUN_SECONDS`).
   */
  staleSeconds?: number;
  /**
   * Any failed integrity check fails the run (FailedChecksError): the writers are aborted before
   * commit, so nothing is published; a dataset already published with failed checks is refused too.
   */
  strict?: boolean;
  /** Called now and then with the number of users written so far. */
  onProgress?: (usersDone: number, usersTotal: number) => void;
}

/** A strict run whose dataset fails integrity checks: nothing published by it. */
export class FailedChecksError extends Error {
  constructor(
    readonly datasetId: string,
    /** The failed checks, each with its note when its cause is known. */
    readonly failed: ManifestCheck[],
    /** True when the dataset was already published (with these failures) and was not regenerated. */
    readonly alreadyPublished: boolean,
  ) {
    const what = failed.map((c) => `${c.name} (${c.violations} violation${c.violations === 1 ? '' : 's'})`).join(', ');
    super(
      alreadyPublished
        ? `${datasetId} is already published with failed integrity checks: ${what}; not regenerated (strict)`
        : `${datasetId}: integrity checks failed: ${what}; nothing published (strict)`,
    );
    this.name = 'FailedChecksError';
  }
}

/** A strict run's refusal of a dataset with these check results, or undefined when every check passed. */
export function strictRefusal(
  dataset: Pick<Manifest, 'datasetId' | 'checks'> & { generator: Pick<Manifest['generator'], 'engine'> },
  alreadyPublished: boolean,
): FailedChecksError | undefined {
  const failed = notedChecks(dataset.generator.engine, dataset.checks).filter((c) => !c.passed);
  return failed.length > 0 ? new FailedChecksError(dataset.datasetId, failed, alreadyPublished) : undefined;
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

/** Chunks handed back to the worker threads together, once written. */
const HAND_BACK_EVERY = 4;

/** The manifest of a published dataset, or undefined when there is none (not a dataset). */
export async function readManifest(storage: DatasetStorage, manifestKey: string): Promise<Manifest | undefined> {
  const bytes = await storage.read(manifestKey);
  return bytes && parseManifest(bytes);
}

/**
 * Generates the dataset of a validated config and publishes it: the CSVs streamed to staged
 * writers and schema.json, then the manifest, written last and only if absent, as the commit. A
 * config that is already published is returned as it is.
 */
export async function publishDataset(config: GenerationConfig, options: PublishOptions): Promise<PublishOutcome> {
  const { storage } = options;
  const address = datasetAddress(config);
  const { prefix, manifestKey } = datasetKeys(address, options.root);
  const existing = await readManifest(storage, manifestKey);
  if (existing) {
    const refusal = options.strict ? strictRefusal(existing, true) : undefined;
    if (refusal) throw refusal;
    return { status: 'existing', address, prefix, manifestKey, manifest: existing };
  }

  await storage.removeStale(prefix, options.staleSeconds ?? STALE_RUN_SECONDS);
  const startedAt = new Date();
  const manifestOf = (total: RangeReport) => ({
    config,
    address,
    checks: total.checks,
    summary: { usersPerCohort: total.usersPerCohort, ...total.summary },
    startedAt,
  });
  const csvFiles = datasetFiles(config);
  const parquet = config.formats.includes('parquet')
    ? new ParquetOutput(storage, prefix, config, { from: 1, to: config.users }, options.parquetWorker)
    : undefined;
  // Only once every CSV and report file is fully written do they take their final names
  // (writeObjects commits them); each Parquet part does as soon as it is whole (see ParquetOutput).
  const { files, total } = await writeObjects(
    storage,
    [...csvFiles.map((f) => f.file), ...REPORT_FILES].map((file) => fileKey(prefix, file)),
    async (writers) => {
      const out = writers.slice(0, csvFiles.length).map((w) => new DigestingFileWriter(w));
      for (const [i, f] of csvFiles.entries()) out[i].appendText(headerLine(f), 0);
      const itemsOut = csvFiles.findIndex((f) => f.file === TABLES.items.file);
      if (itemsOut >= 0) out[itemsOut].appendText(itemLines(), ITEMS.length);
      // Where each per-user table's bytes go: the file writer of its entry (none for a file the config has not).
      const userTableOut = USER_TABLES.map(
        (_, t) => out[csvFiles.findIndex((f) => f.userTable === t)] as DigestingFileWriter | undefined,
      );

      const tally = new RangeTally();
      let usersDone = 0;
      let written: Array<() => void> = [];
      for await (const { chunk, report, handBack } of userRows(config, {
        worker: options.engineWorker,
        workers: options.workers,
        blockUsers: options.blockUsers,
      })) {
        for (let t = 0; t < USER_TABLES.length; t++) await userTableOut[t]?.appendChunk(chunk.bytes[t], chunk.rows[t]);
        if (chunk.batches) await parquet?.append(chunk.batches);
        if (handBack) written.push(handBack);
        if (written.length >= HAND_BACK_EVERY) {
          // Chunk memory goes back to the worker threads once the writers have let go of it (not waited for here).
          const batch = written;
          written = [];
          void Promise.all(out.map((o) => o.released())).then(
            (released) => released.every(Boolean) && batch.forEach((h) => h()),
          );
        }
        if (report) tally.add(report);
        usersDone += chunk.users;
        options.onProgress?.(usersDone, config.users);
      }
      const total = tally.total(config.users);
      // Known only now, with every row written, and before anything takes its final name.
      const refusal = options.strict
        ? strictRefusal({ datasetId: address.datasetId, generator: config, checks: total.checks }, false)
        : undefined;
      if (refusal) throw refusal;
      const files: ManifestFile[] = [];
      for (let i = 0; i < csvFiles.length; i++) {
        files.push({ name: csvFiles[i].file, columns: [...csvFiles[i].columns], ...(await out[i].close()) });
      }
      if (parquet) files.push(...(await parquet.finish()));
      // The report is staged with the CSVs (committed or aborted with them), before schema.json,
      // the one file written on its own, so that any failure leaves nothing behind.
      const report = buildManifest({ ...manifestOf(total), files });
      const reportFiles = await writeReportFiles(writers.slice(csvFiles.length), report, total.aggregates);
      files.push(await writeSchemaFile(storage, prefix, config), ...reportFiles);
      return { files, total };
    },
  ).catch(async (error: unknown) => {
    await parquet?.abort();
    throw error;
  });

  const manifest = buildManifest({ ...manifestOf(total), files });
  if (await storage.putIfAbsent(manifestKey, `${JSON.stringify(manifest, null, 2)}\n`)) {
    return { status: 'created', address, prefix, manifestKey, manifest };
  }
  // Another run published the same config first; its files are byte-identical to ours.
  const winner = await readManifest(storage, manifestKey);
  return { status: 'existing', address, prefix, manifestKey, manifest: winner ?? manifest };
}
