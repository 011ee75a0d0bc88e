import type { GenerationConfig } from '../config/schema.js';
import { headerLine } from '../dataset/csv-format.js';
import { IntegrityChecker, type CheckResult, type IntegritySummary } from '../dataset/integrity-checks.js';
import { ITEMS } from '../dataset/tables.js';
import type { Cohort } from '../engine/cohorts.js';
import { engineRange } from '../engine/engine-range.js';
import { flushFull, writeBatch, type RowTables } from '../publish/batch-rows.js';
import { DigestingFileWriter } from '../publish/file-digest.js';
import type { DatasetStorage, StagedWriter } from '../storage/storage.js';
import { timedeltaFromFloat, US_PER_HOUR } from '../time/python-timedelta.js';
import { parseUtcTimestamp } from '../time/utc-timestamp.js';
import type { Shard } from './plan-shards.js';

/** The tables written in parts by shards; items.csv is two fixed rows, written by the commit. */
export const PART_TABLES = ['users', 'tiers', 'uploads'] as const;
export type PartTable = (typeof PART_TABLES)[number];

export interface PartFigures {
  key: string;
  rows: number;
  bytes: number;
  sha256: string;
}

/** What a shard reports for the commit: its parts, its rows' integrity checks and summary. */
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
}

/** Where one fan-out run keeps its parts and reports: under the dataset's prefix, per run. */
export function runPrefixOf(datasetPrefix: string, runId: string): string {
  if (!/^[A-Za-z0-9._-]{1,80}$/.test(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}`);
  return `${partsPrefixOf(datasetPrefix)}/${runId}`;
}

/** Where every run of a dataset keeps its parts. */
export const partsPrefixOf = (datasetPrefix: string): string => `${datasetPrefix}/_parts`;

export const partKey = (runPrefix: string, table: PartTable, index: number): string => `${runPrefix}/${table}/${String(index).padStart(5, '0')}.csv`;
export const reportKey = (runPrefix: string, index: number): string => `${runPrefix}/reports/${String(index).padStart(5, '0')}.json`;

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
export async function runShard(config: GenerationConfig, shard: Shard, storage: DatasetStorage, runPrefix: string): Promise<ShardReport> {
  if (shard.txnFrom === undefined) throw new Error(`shard ${shard.index} has no txnFrom: count the shards' uploads first`);
  const writers = Object.fromEntries(PART_TABLES.map((t) => [t, storage.createWriter(partKey(runPrefix, t, shard.index))])) as Record<
    PartTable,
    StagedWriter
  >;
  try {
    const out = Object.fromEntries(PART_TABLES.map((t) => [t, new DigestingFileWriter(writers[t])])) as RowTables;
    if (shard.index === 0) for (const t of PART_TABLES) out[t].appendText(headerLine(t), 0);
    const checker = new IntegrityChecker({
      start: parseUtcTimestamp(config.start)!,
      end: parseUtcTimestamp(config.end)!,
      minGapUs: timedeltaFromFloat(config.minTierGapHours, US_PER_HOUR),
      users: config.users,
    });
    for (const item of ITEMS) checker.addItem(item.itemId, item.sizeGb);
    const usersPerCohort: Record<`${Cohort}`, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
    let next = shard.txnFrom;
    let expectUser = shard.from;
    for (const batch of engineRange(config, shard)) {
      if (batch.userId !== expectUser) throw new Error(`shard ${shard.index}: engine gave user ${batch.userId}, expected ${expectUser}`);
      expectUser++;
      next = writeBatch(batch, out, checker, usersPerCohort, next);
      if (out.users.full || out.tiers.full || out.uploads.full) await flushFull(out);
    }
    if (expectUser !== shard.to + 1) throw new Error(`shard ${shard.index}: engine stopped at user ${expectUser - 1}, expected ${shard.to}`);
    const { checks, summary } = checker.finish();
    const parts = {} as Record<PartTable, PartFigures>;
    for (const t of PART_TABLES) parts[t] = { key: partKey(runPrefix, t, shard.index), ...(await out[t].close()) };
    for (const t of PART_TABLES) await writers[t].commit();
    const report: ShardReport = {
      index: shard.index,
      from: shard.from,
      to: shard.to,
      txnFrom: shard.txnFrom,
      uploads: next - shard.txnFrom,
      parts,
      usersPerCohort,
      checks,
      summary,
    };
    await putJson(storage, reportKey(runPrefix, shard.index), report);
    return report;
  } catch (error) {
    await Promise.allSettled(PART_TABLES.map((t) => writers[t].abort()));
    throw error;
  }
}

/** Writes (or overwrites) a small JSON object through a staged writer. */
export async function putJson(storage: DatasetStorage, key: string, value: unknown): Promise<void> {
  const writer = storage.createWriter(key);
  try {
    await writer.write(Buffer.from(`${JSON.stringify(value)}\n`));
    await writer.commit();
  } catch (error) {
    await writer.abort();
    throw error;
  }
}
