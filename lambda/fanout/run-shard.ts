import type { GenerationConfig } from '../config/schema.js';
import { headerLine } from '../rows/csv-format.js';
import type { CheckResult, IntegritySummary } from '../rows/integrity-checks.js';
import type { Cohort } from '../engine/cohorts.js';
import { engineRange } from '../engine/engine-range.js';
import { DigestingFileWriter } from '../publish/file-digest.js';
import { formatRange, RowFormatting, type RangeReport } from '../rows/user-rows.js';
import { USER_TABLES } from '../rows/user-tables.js';
import { partKey, reportKey } from '../layout/key-layout.js';
import { writeJsonObject } from '../storage/json-object.js';
import { writeObjects, type DatasetStorage } from '../storage/storage.js';
import type { Shard } from './plan-shards.js';
import type { ManifestFile } from '../dataset/manifest.js';
import { ParquetOutput } from '../publish/parquet-output.js';
import type { ReportAggregates } from '../rows/report-aggregates.js';

/** The tables written in parts by shards (the per-user tables); items.csv is two fixed rows, written by the commit. */
export const PART_TABLES = USER_TABLES.map((t) => t.name);
export type PartTable = (typeof PART_TABLES)[number];

export interface PartFigures {
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** What a shard reports for the commit: its parts, its rows' integrity checks and summary, its report aggregates. */
export interface ShardReport {
  index: number;
  from: number;
  to: number;
  txnFrom: number;
  uploads: number;
  /** The CSV parts (none when `formats` has no `csv`). */
  parts: Partial<Record<PartTable, PartFigures>>;
  /** The Parquet parts the shard wrote in the dataset's folder (with `parquet` in `formats`). */
  parquet: ManifestFile[];
  usersPerCohort: Record<`${Cohort}`, number>;
  checks: CheckResult[];
  summary: IntegritySummary;
  aggregates: ReportAggregates;
}

/** Phase 1 of a shard: how many uploads its users have (generated, not formatted or written). */
export function countShardUploads(config: GenerationConfig, shard: Shard): number {
  let uploads = 0;
  for (const batch of engineRange(config, shard)) uploads += batch.uploadCount;
  return uploads;
}

/**
 * Phase 2 of a shard: generates its users into one part per table, without headers except for
 * shard 0 (whose parts start the files), with txn ids numbered from the shard's `txnFrom`, and runs
 * the integrity checks over its rows as written; then writes its report. With Parquet, it writes
 * the Parquet parts of its users (a shard is whole Parquet parts, see planShards) in the dataset's
 * folder `datasetPrefix`. Same input, same bytes: a retried shard overwrites its parts and report
 * with identical ones.
 */
export async function runShard(
  config: GenerationConfig,
  shard: Shard,
  storage: DatasetStorage,
  runPrefix: string,
  datasetPrefix: string,
): Promise<ShardReport> {
  const { txnFrom } = shard;
  if (txnFrom === undefined) throw new Error(`shard ${shard.index} has no txnFrom: count the shards' uploads first`);
  const tables = config.formats.includes('csv') ? USER_TABLES : [];
  const keys = tables.map((t) => partKey(runPrefix, t.name, shard.index));
  const parquetOut = config.formats.includes('parquet')
    ? new ParquetOutput(storage, datasetPrefix, config, shard)
    : undefined;
  const { parts, parquet, rows } = await writeObjects(storage, keys, async (writers) => {
    const out = writers.map((w) => new DigestingFileWriter(w));
    if (shard.index === 0)
      tables.forEach((t, i) => {
        out[i].appendText(headerLine(t), 0);
      });
    let rows: RangeReport | undefined;
    for (const { chunk, report } of formatRange(
      new RowFormatting(config),
      shard,
      txnFrom,
      engineRange(config, shard),
    )) {
      for (let i = 0; i < out.length; i++) await out[i].appendChunk(chunk.bytes[i], chunk.rows[i]);
      if (chunk.batches) await parquetOut?.append(chunk.batches);
      rows = report ?? rows;
    }
    const parts: ShardReport['parts'] = {};
    for (let i = 0; i < out.length; i++) parts[tables[i].name] = { key: keys[i], ...(await out[i].close()) };
    if (!rows) throw new Error(`shard ${shard.index} of ${config.users} users formatted no rows report`);
    return { parts, parquet: (await parquetOut?.finish()) ?? [], rows };
  }).catch(async (error: unknown) => {
    await parquetOut?.abort();
    throw error;
  });
  const report: ShardReport = {
    index: shard.index,
    from: shard.from,
    to: shard.to,
    txnFrom,
    uploads: rows.uploads,
    parts,
    parquet,
    usersPerCohort: rows.usersPerCohort,
    checks: rows.checks,
    summary: rows.summary,
    aggregates: rows.aggregates,
  };
  await writeJsonObject(storage, reportKey(runPrefix, shard.index), report);
  return report;
}
