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
  parts: Record<PartTable, PartFigures>;
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
 * the integrity checks over its rows as written; then writes its report. Same input, same bytes:
 * a retried shard overwrites its parts and report with identical ones.
 */
export async function runShard(
  config: GenerationConfig,
  shard: Shard,
  storage: DatasetStorage,
  runPrefix: string,
): Promise<ShardReport> {
  const { txnFrom } = shard;
  if (txnFrom === undefined) throw new Error(`shard ${shard.index} has no txnFrom: count the shards' uploads first`);
  const keys = USER_TABLES.map((t) => partKey(runPrefix, t.name, shard.index));
  const { parts, rows } = await writeObjects(storage, keys, async (writers) => {
    const out = writers.map((w) => new DigestingFileWriter(w));
    if (shard.index === 0) USER_TABLES.forEach((t, i) => out[i].appendText(headerLine(t), 0));
    let rows: RangeReport | undefined;
    for (const { chunk, report } of formatRange(
      new RowFormatting(config),
      shard,
      txnFrom,
      engineRange(config, shard),
    )) {
      for (let i = 0; i < out.length; i++) await out[i].appendChunk(chunk.bytes[i], chunk.rows[i]);
      rows = report ?? rows;
    }
    const parts = {} as Record<PartTable, PartFigures>;
    for (let i = 0; i < out.length; i++) parts[USER_TABLES[i].name] = { key: keys[i], ...(await out[i].close()) };
    return { parts, rows: rows! };
  });
  const report: ShardReport = {
    index: shard.index,
    from: shard.from,
    to: shard.to,
    txnFrom,
    uploads: rows.uploads,
    parts,
    usersPerCohort: rows.usersPerCohort,
    checks: rows.checks,
    summary: rows.summary,
    aggregates: rows.aggregates,
  };
  await writeJsonObject(storage, reportKey(runPrefix, shard.index), report);
  return report;
}
