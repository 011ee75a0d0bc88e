import { startedBatch, type UserBatch } from '../engine/user-batch.js';
import type { TaskSettings } from '../config/task-settings.js';
import { AnchorCursor, FREE } from './anchors.js';
import { LargeUploadLabeler } from './labels.js';
import { oracleProbability } from './oracle.js';
import { splitOf, type Split } from './split.js';
import { inTaskSample } from './user-sample.js';

/**
 * One user's task rows, in anchor order, without allocating: after `next()` returns true, the
 * fields describe the row. Whatever writes the task file (CSV text, Parquet columns) reads them
 * here, so the two cannot disagree. O(anchors + uploads + tiers) per user.
 */
export class TaskRowCursor {
  at = 0;
  /** Index of the tier interval in force at `at`. */
  tier = 0;
  /** Scenario code (`SCENARIOS`). */
  scenario = FREE;
  label: 0 | 1 = 0;
  probability = 0;
  split: Split = 'train';
  private batch: UserBatch | undefined;
  private readonly anchors = new AnchorCursor();
  private readonly labels = new LargeUploadLabeler();

  constructor(private readonly settings: TaskSettings) {}

  /** Starts a user; false when it has no rows (outside the task sample, `tasks.userFraction`). */
  start(batch: UserBatch): boolean {
    this.batch = batch;
    if (!inTaskSample(batch.userId, this.settings)) return false;
    this.anchors.reset(batch, this.settings);
    this.labels.reset(batch);
    return true;
  }

  /** Moves to the user's next row; false when there is none. */
  next(): boolean {
    const { anchors, settings } = this;
    if (!anchors.next()) return false;
    const batch = startedBatch(this.batch);
    this.at = anchors.at;
    this.tier = anchors.tier;
    this.scenario = anchors.scenario;
    this.probability = oracleProbability(this.at, batch, batch.premiumRatePerHour, settings);
    this.label = this.labels.label(this.at);
    this.split = splitOf(this.at, settings);
    return true;
  }
}

/**
 * `hours_in_tier`: whole seconds (>= 0) as ten-thousandths of an hour, what
 * `(seconds / 3600).toFixed(4)` shows: round(seconds · 25 / 9), half up, and seconds·25/9 is never
 * exactly halfway (its fraction is a ninth), so the double's rounding cannot flip it.
 */
export function hoursInTierTenThousandths(seconds: number): number {
  return Math.floor((seconds * 50 + 9) / 18);
}
