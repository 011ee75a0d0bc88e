import { startedBatch, tierName, type UserBatch } from '../engine/user-batch.js';
import { SCENARIOS } from '../tasks/anchors.js';
import { SPLITS } from '../tasks/split.js';
import { hoursInTierTenThousandths, TaskRowCursor } from '../tasks/task-row-cursor.js';
import type { TaskSettings } from '../config/task-settings.js';
import { CategoryColumn, DoubleColumn, Int64Column, type ColumnSet } from './parquet-columns.js';

/**
 * Writes one user's rows of a table as column values (the Parquet output), resumably like a
 * `UserRowWriter` but counted in rows: `start` a user, then `write` until `done`, each call
 * writing at most `limit` rows (what is left of the row group).
 */
export interface UserColumnWriter {
  /** `txnFrom`: the txn id of the user's first upload. */
  start(batch: UserBatch, txnFrom: number): void;
  write(limit: number): number;
  readonly done: boolean;
}

/** A table with `count(batch)` rows per user, row `i` written by `row`. */
export class IndexedRowsWriter implements UserColumnWriter {
  private batch: UserBatch | undefined;
  private txnFrom = 0;
  private next = 0;
  private total = 0;

  constructor(
    private readonly count: (batch: UserBatch) => number,
    private readonly row: (batch: UserBatch, i: number, txnFrom: number) => void,
  ) {}

  get done(): boolean {
    return this.next >= this.total;
  }

  start(batch: UserBatch, txnFrom: number): void {
    this.batch = batch;
    this.txnFrom = txnFrom;
    this.next = 0;
    this.total = this.count(batch);
  }

  write(limit: number): number {
    const batch = startedBatch(this.batch);
    const end = Math.min(this.total, this.next + limit);
    for (let i = this.next; i < end; i++) this.row(batch, i, this.txnFrom);
    const written = end - this.next;
    this.next = end;
    return written;
  }
}

/** The task file's rows as columns, from the same cursor as its CSV rows. */
export class TaskColumnWriter implements UserColumnWriter {
  done = true;
  private batch: UserBatch | undefined;
  private readonly rows: TaskRowCursor;
  private readonly userId: Int64Column;
  private readonly anchorTime: Int64Column;
  private readonly scenario: CategoryColumn;
  private readonly tier: CategoryColumn;
  private readonly hoursInTier: DoubleColumn;
  private readonly label: Int64Column;
  private readonly probability: DoubleColumn;
  private readonly split: CategoryColumn;
  /** Dictionary indexes by scenario code, tier (premium 0/1) and split. */
  private readonly scenarioIndex: number[];
  private readonly tierIndex: number[];
  private readonly splitIndex: Record<string, number>;

  constructor(settings: TaskSettings, columns: ColumnSet) {
    this.rows = new TaskRowCursor(settings);
    this.userId = columns.get('user_id', Int64Column);
    this.anchorTime = columns.get('anchor_time', Int64Column);
    this.scenario = columns.get('scenario', CategoryColumn);
    this.tier = columns.get('tier_at_anchor', CategoryColumn);
    this.hoursInTier = columns.get('hours_in_tier', DoubleColumn);
    this.label = columns.get('label', Int64Column);
    this.probability = columns.get('oracle_probability', DoubleColumn);
    this.split = columns.get('split', CategoryColumn);
    this.scenarioIndex = SCENARIOS.map((s) => this.scenario.indexOf(s));
    this.tierIndex = [0, 1].map((premium) => this.tier.indexOf(tierName(premium)));
    this.splitIndex = Object.fromEntries(SPLITS.map((s) => [s, this.split.indexOf(s)]));
  }

  start(batch: UserBatch): void {
    this.batch = batch;
    this.done = !this.rows.start(batch);
  }

  write(limit: number): number {
    const { rows } = this;
    const batch = startedBatch(this.batch);
    let count = 0;
    while (count < limit) {
      if (!rows.next()) {
        this.done = true;
        break;
      }
      this.userId.push(batch.userId);
      this.anchorTime.push(rows.at);
      this.scenario.push(this.scenarioIndex[rows.scenario]);
      this.tier.push(this.tierIndex[batch.tierIsPremium[rows.tier]]);
      // The double the CSV's four decimals read as: the quotient of two exact integers, correctly rounded.
      this.hoursInTier.push(hoursInTierTenThousandths(rows.at - batch.tierFrom[rows.tier]) / 10_000);
      this.label.push(rows.label);
      this.probability.push(rows.probability);
      this.split.push(this.splitIndex[rows.split]);
      count++;
    }
    return count;
  }
}
