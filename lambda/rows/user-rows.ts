import type { GenerationConfig } from '../config/schema.js';
import { CsvBuffer } from './csv-buffer.js';
import { NO_ROWS, type UserRowWriter } from './csv-format.js';
import { IntegrityChecker, mergeIntegrity, type IntegrityContext, type IntegrityResult } from './integrity-checks.js';
import { ITEMS } from '../layout/tables.js';
import type { Cohort } from '../engine/cohorts.js';
import { tierName, type UserBatch } from '../engine/user-batch.js';
import { timedeltaFromFloat, US_PER_HOUR } from '../time/python-timedelta.js';
import { utcTimestampSeconds } from '../time/utc-timestamp.js';
import { USER_TABLES, type UserTableName } from './user-tables.js';
import { ReportCollector, mergeAggregates, type ReportAggregates } from './report-aggregates.js';
import { PopulationHistory } from '../tasks/population-history.js';
import { TaskRowWriter } from './task-files.js';
import { PackedBatches, type PackedBlock } from '../engine/packed-batches.js';

/** A piece of every per-user table, for users in order: bytes and rows per table, in `USER_TABLES` order. */
export interface RowsChunk {
  bytes: Uint8Array[];
  rows: number[];
  /** Users whose rows this chunk completes (a user with more rows than a chunk holds spans several). */
  users: number;
  /**
   * With Parquet in the formats, from the thread that reports: the batches of the users added
   * since the last chunk, their uploads numbered from `txnFrom` (what the Parquet columns are
   * built from, with no text in between).
   */
  batches?: UserBlock;
}

/** Consecutive users' batches, and the txn id of their first upload. */
export interface UserBlock {
  block: PackedBlock;
  txnFrom: number;
}

/** What a range of users added up to, for whoever assembles ranges in order. */
export interface RangeReport extends IntegrityResult {
  from: number;
  to: number;
  txnFrom: number;
  uploads: number;
  usersPerCohort: Record<`${Cohort}`, number>;
  /** What the dataset's report is drawn from, over this range. */
  aggregates: ReportAggregates;
}

export interface UserRange {
  from: number;
  to: number;
}

/** Chunks are cut once a table's buffer holds this many bytes, inside a user if need be: a chunk's table holds less than this plus one row. */
export const CHUNK_BYTES = 1 << 20;

/** Memory for a chunk's bytes of table `table` (index in `USER_TABLES`): at least `bytes` long. */
export type ChunkMemory = (table: number, bytes: number) => Uint8Array;

export interface RowFormattingOptions {
  /** Where chunks are copied to (default: fresh buffers; a worker reuses the ones its parent hands back). */
  chunkMemory?: ChunkMemory;
  /**
   * The tables this thread formats (default: all); the others' bytes stay empty. The thread that
   * formats `uploads` also numbers txn ids, runs the integrity checks, counts users and reports
   * the range: another thread formatting the other tables of the same users reports nothing.
   */
  tables?: readonly UserTableName[];
}

/**
 * What formatting needs in a thread, built once from the config and reused by every range: the
 * row writers of its tables, their buffers, and the integrity checks' context.
 */
export class RowFormatting {
  readonly writers: UserRowWriter[];
  readonly buffers: CsvBuffer[];
  readonly checks: Omit<IntegrityContext, 'users' | 'firstUser'>;
  readonly chunkMemory: ChunkMemory | undefined;
  /** Whether this thread formats the uploads table, and so checks, counts and reports. */
  readonly reports: boolean;
  readonly config: GenerationConfig;
  /** The task file's writer, where this thread formats it: it tells the range's report collector of each row. */
  readonly taskWriter: TaskRowWriter | undefined;
  /** Whether chunks carry their users' batches (`RowsChunk.batches`). */
  readonly packsBatches: boolean;
  /**
   * The population's hourly counts for the baselines (lambda/rows/baseline-sample.ts), where this
   * thread reports and there is a task file: one per thread, over all the ranges it formats,
   * reported with its last range. A sum, so threads' totals add up to the same in any grouping,
   * and a range's report need not carry a window's worth of hours (many small blocks would).
   */
  readonly population: PopulationHistory | undefined;

  constructor(config: GenerationConfig, options: RowFormattingOptions = {}) {
    const tables = new Set<string>(options.tables ?? USER_TABLES.map((t) => t.name));
    // With no CSVs, only the task file's writer runs (without text): the report reads its rows.
    this.writers = USER_TABLES.map((t) => {
      const writer = tables.has(t.name) ? t.rowWriter(config) : NO_ROWS;
      return config.formats.includes('csv') || writer instanceof TaskRowWriter ? writer : NO_ROWS;
    });
    this.buffers = USER_TABLES.map(() => new CsvBuffer(CHUNK_BYTES + (CHUNK_BYTES >> 3)));
    this.checks = {
      start: utcTimestampSeconds(config.start),
      end: utcTimestampSeconds(config.end),
      minGapUs: timedeltaFromFloat(config.minTierGapHours, US_PER_HOUR),
    };
    this.chunkMemory = options.chunkMemory;
    this.reports = tables.has('uploads');
    this.config = config;
    this.taskWriter = this.writers.find((w) => w instanceof TaskRowWriter);
    this.packsBatches = this.reports && config.formats.includes('parquet');
    if (this.reports && config.tasks.enabled) {
      const { start, end } = this.checks;
      this.population = new PopulationHistory({ start, end });
    }
  }
}

/**
 * Formats the rows of a range of consecutive users (the whole run, a block, a shard) into every
 * per-user table, and runs the integrity checks over them as written. It numbers the uploads' txn
 * ids from `txnFrom`: txn ids are one gap-free sequence over all users in order, so whoever starts
 * a range must know how many uploads the users before it have.
 */
export class RangeFormatter {
  private readonly writers: UserRowWriter[];
  private readonly buffers: CsvBuffer[];
  private readonly chunkMemory: ChunkMemory | undefined;
  private readonly rows: number[];
  /** Only where this thread reports (see `RowFormatting.reports`). */
  private readonly checker: IntegrityChecker | undefined;
  private readonly collector: ReportCollector | undefined;
  private readonly usersPerCohort: Record<`${Cohort}`, number> = { 1: 0, 2: 0, 3: 0, 4: 0, 5: 0 };
  /** The users' batches since the last take (see `RowsChunk.batches`), and their first txn id. */
  private readonly packed: PackedBatches | undefined;
  private packedTxnFrom = 0;
  private nextUser: number;
  private nextTxnId: number;
  private chunkUsers = 0;
  /** Whether the last user added has rows still to write (its batch is still in use). */
  private userOpen = false;

  constructor(
    formatting: RowFormatting,
    private readonly range: UserRange,
    private readonly txnFrom: number,
  ) {
    this.writers = formatting.writers;
    this.buffers = formatting.buffers;
    this.chunkMemory = formatting.chunkMemory;
    for (const b of this.buffers) if (b.length > 0) throw new Error('the row buffers hold rows of another range');
    this.rows = USER_TABLES.map(() => 0);
    if (formatting.reports) {
      this.checker = new IntegrityChecker({
        ...formatting.checks,
        users: range.to - range.from + 1,
        firstUser: range.from,
      });
      for (const item of ITEMS) this.checker.addItem(item.itemId, item.sizeGb);
      // The report's task figures come from the rows as written, so the thread that reports writes them.
      // (With tasks.enabled false there are none, and the report says so.)
      const { taskWriter, config } = formatting;
      if (!taskWriter && config.tasks.enabled)
        throw new Error('the thread that formats uploads must format the task file too');
      this.collector = new ReportCollector(config, formatting.population);
      if (taskWriter) taskWriter.sink = this.collector;
    }
    this.nextUser = range.from;
    this.nextTxnId = txnFrom;
    if (formatting.packsBatches) this.packed = new PackedBatches();
  }

  /**
   * Numbers the user's uploads, checks its rows and formats them, until they are all written or
   * a table's buffer is `full`; then `take` carries on with them. Users must come in order, each
   * once the one before is written (while `full`, take before adding).
   */
  add(batch: UserBatch): void {
    if (this.userOpen)
      throw new Error(
        `users ${this.range.from}..${this.range.to}: user ${batch.userId} added before user ${this.nextUser - 1}'s rows were all taken`,
      );
    if (batch.userId !== this.nextUser)
      throw new Error(
        `users ${this.range.from}..${this.range.to}: the engine gave user ${batch.userId}, expected ${this.nextUser}`,
      );
    this.nextUser++;
    if (this.packed) {
      if (this.packed.size === 0) this.packedTxnFrom = this.nextTxnId;
      this.packed.add(batch);
    }
    const txnIds = batch.uploadTxnId;
    for (let j = 0; j < batch.uploadCount; j++) txnIds[j] = this.nextTxnId + j;
    this.nextTxnId += batch.uploadCount;
    this.usersPerCohort[batch.cohort]++;
    const checker = this.checker;
    if (checker) {
      checker.addUser(batch.userId);
      for (let t = 0; t < batch.tierCount; t++)
        checker.addTier(batch.userId, batch.tierFrom[t], batch.tierUntil[t], tierName(batch.tierIsPremium[t]));
      for (let j = 0; j < batch.uploadCount; j++)
        checker.addUpload(txnIds[j], batch.userId, batch.uploadItemId[j], batch.uploadAt[j]);
      this.collector?.addUser(batch);
    }
    for (let i = 0; i < this.writers.length; i++) this.writers[i].start(batch);
    this.userOpen = true;
    this.resume();
  }

  /** Writes the open user's rows on; a writer stops early only when its buffer is full. */
  private resume(): void {
    let open = false;
    for (let i = 0; i < this.writers.length; i++) {
      const writer = this.writers[i];
      if (!writer.done) this.rows[i] += writer.write(this.buffers[i], CHUNK_BYTES);
      if (!writer.done) open = true;
    }
    if (!open) {
      this.userOpen = false;
      this.chunkUsers++;
    }
  }

  /** A table's buffer is big enough to hand on. */
  get full(): boolean {
    for (const b of this.buffers) if (b.length >= CHUNK_BYTES) return true;
    return (this.packed?.byteLength ?? 0) >= CHUNK_BYTES;
  }

  /** The rows formatted since the last take; then the open user's rows go on (`full` again if they fill a buffer). */
  take(): RowsChunk {
    const memory = this.chunkMemory;
    const bytes = this.buffers.map((b, i) => (memory ? b.takeInto(memory(i, b.length)) : b.take()));
    const chunk: RowsChunk = { bytes, rows: [...this.rows], users: this.checker ? this.chunkUsers : 0 };
    if (this.packed && this.packed.size > 0) {
      chunk.batches = { block: this.packed.pack(), txnFrom: this.packedTxnFrom };
      this.packed.clear();
    }
    this.rows.fill(0);
    this.chunkUsers = 0;
    if (this.userOpen) this.resume();
    return chunk;
  }

  /**
   * The range's report (none where another thread reports); call once, after the last user (and
   * take the last chunk). `last`: the last range this thread formats, whose report carries the
   * thread's population counts (see `RowFormatting.population`).
   */
  finish(last = true): RangeReport | undefined {
    const { from, to } = this.range;
    if (this.nextUser !== to + 1)
      throw new Error(`users ${from}..${to}: the engine stopped at user ${this.nextUser - 1}`);
    if (this.userOpen) throw new Error(`users ${from}..${to}: user ${to}'s rows were not all taken`);
    if (!this.checker || !this.collector) return undefined;
    return {
      from,
      to,
      txnFrom: this.txnFrom,
      uploads: this.nextTxnId - this.txnFrom,
      usersPerCohort: { ...this.usersPerCohort },
      aggregates: this.collector.finish(last),
      ...this.checker.finish(),
    };
  }
}

/** A chunk of rows; the last chunk of a range carries the range's report (from the thread that reports). */
export interface RowsPart {
  chunk: RowsChunk;
  report?: RangeReport;
  /** Hands the chunk's memory back to the thread that made it, for reuse: only once its bytes are written out and let go. */
  handBack?: () => void;
}

/**
 * The rows of users `range` (from `batches`, in user order, txn ids from `txnFrom`) as chunks of
 * at most about `CHUNK_BYTES` per table, cut inside a user when its rows are more; the last one, possibly empty, carries the range's report (if
 * this thread reports). `last`: whether this is the last range `formatting` formats (see `RangeFormatter.finish`).
 */
export function* formatRange(
  formatting: RowFormatting,
  range: UserRange,
  txnFrom: number,
  batches: Iterable<UserBatch>,
  last = true,
): Generator<RowsPart> {
  const formatter = new RangeFormatter(formatting, range, txnFrom);
  for (const batch of batches) {
    formatter.add(batch);
    while (formatter.full) yield { chunk: formatter.take() };
  }
  yield lastPart(formatter, last);
}

/** The last chunk of a range, with the range's report if the formatter makes one. */
export function lastPart(formatter: RangeFormatter, last = true): RowsPart {
  const chunk = formatter.take();
  const report = formatter.finish(last);
  return report ? { chunk, report } : { chunk };
}

/**
 * Reports of consecutive ranges, checked to follow each other (users and txn ids continue) and
 * summed up as one report over all of them.
 */
export class RangeTally {
  private merged: RangeReport | undefined;

  get nextUser(): number {
    return this.merged ? this.merged.to + 1 : 1;
  }

  add(report: RangeReport): void {
    const m = this.merged;
    if (!m) {
      if (report.from !== 1 || report.txnFrom !== 1)
        throw new Error(`the first range starts at user ${report.from}, txn ${report.txnFrom}, not at 1`);
      this.merged = report;
      return;
    }
    if (report.from !== m.to + 1 || report.txnFrom !== m.txnFrom + m.uploads) {
      throw new Error(
        `a range of users ${report.from}..${report.to} from txn ${report.txnFrom} does not follow users ..${m.to} and txn ..${m.txnFrom + m.uploads - 1}`,
      );
    }
    const usersPerCohort = { ...m.usersPerCohort };
    for (const c of ['1', '2', '3', '4', '5'] as const) usersPerCohort[c] += report.usersPerCohort[c];
    this.merged = {
      from: m.from,
      to: report.to,
      txnFrom: m.txnFrom,
      uploads: m.uploads + report.uploads,
      usersPerCohort,
      aggregates: mergeAggregates(m.aggregates, report.aggregates),
      ...mergeIntegrity([m, report]),
    };
  }

  /** The report over every range; `users` must be covered. */
  total(users: number): RangeReport {
    if (!this.merged || this.merged.to !== users)
      throw new Error(`the ranges cover users 1..${this.merged?.to ?? 0}, not 1..${users}`);
    return this.merged;
  }
}
