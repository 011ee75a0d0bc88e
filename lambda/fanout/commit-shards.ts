import { datasetAddress } from '../config/dataset-id.js';
import type { GenerationConfig } from '../config/schema.js';
import { headerLine, itemLines } from '../rows/csv-format.js';
import { mergeIntegrity } from '../rows/integrity-checks.js';
import { buildManifest, type ManifestFile } from '../dataset/manifest.js';
import { TABLES } from '../layout/tables.js';
import { ContentDigest } from '../publish/file-digest.js';
import { datasetKeys, fileKey as fileKeyOf, reportKey, runPrefixOf } from '../layout/key-layout.js';
import { readManifest, type PublishOutcome } from '../publish/publish-dataset.js';
import { writeSchemaFile } from '../publish/schema-file.js';
import { datasetFiles, USER_TABLES } from '../rows/user-tables.js';
import { MIN_PART_BYTES, writeObject, writeObjects, type ComposableStorage } from '../storage/storage.js';
import type { Shard } from './plan-shards.js';
import type { PartFigures, PartTable, ShardReport } from './run-shard.js';
import { buildDatasetSchema } from '../dataset/dataset-schema.js';
import { inTableOrder } from '../publish/parquet-output.js';
import { mergeAggregates, type ReportAggregates } from '../rows/report-aggregates.js';
import { REPORT_FILES, writeReportFiles } from '../publish/report-files.js';

export interface CommitOptions {
  root?: string;
  runId: string;
  /** When the run started (the plan), for the manifest's `generation`. */
  startedAt: string;
  minPartBytes?: number;
}

/**
 * Assembles the shards' parts into the dataset and publishes it:
 * 1. reads every shard's report and checks that the shards cover users 1..n in order and that
 *    their txn ids continue each other (the sequence is gap-free by construction: offsets are
 *    prefix sums of the counted uploads, and each report says how many it wrote from where);
 * 2. composes every per-user table (USER_TABLES) from the parts (S3 UploadPartCopy; shard 0's
 *    parts carry the headers) and writes items.csv (with `csv` in `formats`);
 * 3. re-reads each assembled file once and computes its size, rows and SHA-256 itself: SHA-256
 *    states cannot be combined, and the manifest's checksums must not rest on the shards' word;
 *    sizes and rows must match the reports'; likewise each Parquet part the shards wrote in place;
 * 4. writes schema.json; merges the shards' integrity checks (each ran the same checker on its
 *    rows as written), summaries and report aggregates, writes report-data.json and report.html,
 *    then manifest.json last (If-None-Match), and deletes the
 *    run's parts (also when the dataset is found published already: a retried commit finishes
 *    the deletion).
 * Any failure before the manifest leaves no manifest (files without one are not a dataset, and a
 * new commit overwrites them).
 */
export async function commitShards(
  config: GenerationConfig,
  shards: Shard[],
  storage: ComposableStorage,
  options: CommitOptions,
): Promise<PublishOutcome> {
  const address = datasetAddress(config);
  const { prefix, manifestKey } = datasetKeys(address, options.root);
  const runPrefix = runPrefixOf(prefix, options.runId);
  const existing = await readManifest(storage, manifestKey);
  if (existing) {
    // Published already, perhaps by this very commit, which then failed deleting the parts: retry that.
    await removeRun(storage, runPrefix);
    return { status: 'existing', address, prefix, manifestKey, manifest: existing };
  }

  // The shards' aggregates are merged as their reports are read, and not kept: only one shard's are in memory at once.
  const reports: Array<Omit<ShardReport, 'aggregates'>> = [];
  let aggregates: ReportAggregates | undefined;
  let nextUser = 1;
  let nextTxn = 1;
  for (const shard of shards) {
    const bytes = await storage.read(reportKey(runPrefix, shard.index));
    if (!bytes)
      throw new Error(`shard ${shard.index} has no report at ${storage.describe(reportKey(runPrefix, shard.index))}`);
    const report = JSON.parse(bytes.toString('utf8')) as ShardReport;
    if (
      report.index !== reports.length ||
      report.from !== nextUser ||
      report.to !== shard.to ||
      report.txnFrom !== nextTxn
    ) {
      throw new Error(
        `shard ${shard.index}: report covers users ${report.from}..${report.to} from txn ${report.txnFrom}, expected users ${nextUser}..${shard.to} from txn ${nextTxn}`,
      );
    }
    const { aggregates: shardAggregates, ...rest } = report;
    aggregates = aggregates ? mergeAggregates(aggregates, shardAggregates) : shardAggregates;
    reports.push(rest);
    nextUser = report.to + 1;
    nextTxn += report.uploads;
  }
  if (nextUser !== config.users + 1 || !aggregates)
    throw new Error(`the shards cover users 1..${nextUser - 1}, not 1..${config.users}`);

  const fileKey = (file: string) => fileKeyOf(prefix, file);
  const csvFiles = datasetFiles(config);
  /** A CSV's parts, one a shard. */
  const partsOf = (table: PartTable): PartFigures[] =>
    reports.map((r) => {
      const part = r.parts[table];
      if (!part) throw new Error(`shard ${r.index} reports no part of ${table}`);
      return part;
    });
  if (csvFiles.length > 0) {
    // A table the config has no file for (an empty part per shard) is left to the run's cleanup.
    for (const table of USER_TABLES.filter((t) => csvFiles.some((f) => f.file === t.file))) {
      const parts = partsOf(table.name).map((p) => ({ key: p.key, bytes: p.bytes }));
      await storage.compose(fileKey(table.file), parts, { minPartBytes: options.minPartBytes ?? MIN_PART_BYTES });
    }
    await writeObject(storage, fileKey(TABLES.items.file), (items) =>
      items.write(Buffer.from(headerLine('items') + itemLines(), 'latin1')),
    );
  }

  const files: ManifestFile[] = [];
  for (const file of csvFiles) {
    const measured = await measure(storage, fileKey(file.file));
    if (file.userTable !== undefined) {
      const expected = partsOf(USER_TABLES[file.userTable].name).reduce(
        (s, p) => ({ rows: s.rows + p.rows, bytes: s.bytes + p.bytes }),
        { rows: 0, bytes: 0 },
      );
      if (measured.rows !== expected.rows || measured.bytes !== expected.bytes) {
        throw new Error(
          `${file.file}: assembled ${measured.rows} rows, ${measured.bytes} bytes; the shards wrote ${expected.rows} rows, ${expected.bytes} bytes`,
        );
      }
    }
    files.push({
      name: file.file,
      columns: [...file.columns],
      rows: measured.rows,
      bytes: measured.bytes,
      sha256: measured.sha256,
    });
  }
  // The shards wrote the Parquet parts in place; their sizes and checksums are measured here too
  // (rows are the shards' word: a Parquet file has no lines to count).
  const parquet = inTableOrder(
    reports.flatMap((r) => r.parquet),
    buildDatasetSchema(config).tables,
  );
  for (const part of parquet) {
    const measured = await measure(storage, fileKey(part.name));
    if (measured.bytes !== part.bytes || measured.sha256 !== part.sha256)
      throw new Error(
        `${part.name}: ${measured.bytes} bytes with SHA-256 ${measured.sha256} in storage; the shard wrote ${part.bytes} bytes with ${part.sha256}`,
      );
    files.push(part);
  }
  files.push(await writeSchemaFile(storage, prefix, config));

  const { checks, summary } = mergeIntegrity(reports);
  const usersPerCohort = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
  for (const r of reports) for (const c of ['1', '2', '3', '4', '5'] as const) usersPerCohort[c] += r.usersPerCohort[c];
  const parts = {
    config,
    address,
    checks,
    summary: { usersPerCohort, ...summary },
    startedAt: new Date(options.startedAt),
  };
  files.push(
    ...(await writeObjects(storage, REPORT_FILES.map(fileKey), (writers) =>
      writeReportFiles(writers, buildManifest({ ...parts, files }), aggregates),
    )),
  );
  const manifest = buildManifest({ ...parts, files });
  const created = await storage.putIfAbsent(manifestKey, `${JSON.stringify(manifest, null, 2)}\n`);
  await removeRun(storage, runPrefix);
  if (created) return { status: 'created', address, prefix, manifestKey, manifest };
  const winner = await readManifest(storage, manifestKey);
  return { status: 'existing', address, prefix, manifestKey, manifest: winner ?? manifest };
}

/** Size, data rows (lines after the header) and SHA-256 of a stored file, read once. */
async function measure(
  storage: ComposableStorage,
  key: string,
): Promise<{ bytes: number; rows: number; sha256: string }> {
  const stream = await storage.readStream(key);
  if (!stream) throw new Error(`${storage.describe(key)} is missing after assembly`);
  const digest = new ContentDigest();
  let lines = 0;
  for await (const chunk of stream) {
    digest.update(chunk);
    for (let at = chunk.indexOf(0x0a); at >= 0; at = chunk.indexOf(0x0a, at + 1)) lines++;
  }
  const { bytes, sha256 } = digest.digest();
  return { bytes, rows: Math.max(0, lines - 1), sha256 };
}

/** Deletes everything under a run's prefix (its parts and reports), or under `_parts/` (every run's). */
export async function removeRun(storage: ComposableStorage, runPrefix: string): Promise<void> {
  let token: string | undefined;
  do {
    const page = await storage.list(`${runPrefix}/`, { token });
    await storage.remove(page.keys);
    token = page.nextToken;
  } while (token);
}
