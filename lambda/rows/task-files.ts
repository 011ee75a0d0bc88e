import { startedBatch, tierName, type UserBatch } from '../engine/user-batch.js';
import { floatText, type CsvBuffer } from './csv-buffer.js';
import type { UserRowWriter } from './csv-format.js';
import { AnchorCursor, SCENARIOS } from '../tasks/anchors.js';
import { LargeUploadLabeler } from '../tasks/labels.js';
import { oracleProbability } from '../tasks/oracle.js';
import { splitOf, SPLITS, type Split } from '../tasks/split.js';
import { inTaskSample } from '../tasks/user-sample.js';
import type { TaskSettings } from '../config/task-settings.js';
import type { TaskRowSink } from './report-aggregates.js';

/** The ground truth behind the task: the latent rates the engine drew per user. */
export const TRUTH_USERS_FILE = {
  file: 'truth/users.csv',
  columns: ['user_id', 'cohort', 'free_rate_per_hour', 'premium_rate_per_hour'],
} as const;

/** The benchmark task: will the user upload a 50 GB item within the hour after the anchor? */
export const UPLOAD_50GB_TASK_FILE = {
  file: 'tasks/upload_50gb_next_hour.csv',
  columns: [
    'user_id',
    'anchor_time',
    'scenario',
    'tier_at_anchor',
    'hours_in_tier',
    'label',
    'oracle_probability',
    'split',
  ],
} as const;

/** `user_id,cohort,free_rate_per_hour,premium_rate_per_hour`, the rates as floats (`floatText`). */
export function writeTruthUserRow(batch: UserBatch, out: CsvBuffer): void {
  const free = floatText(batch.freeRatePerHour);
  const premium = floatText(batch.premiumRatePerHour);
  out.reserve(24 + free.length + premium.length);
  out.uint(batch.userId);
  out.comma();
  out.uint(batch.cohort);
  out.comma();
  out.ascii(free);
  out.comma();
  out.ascii(premium);
  out.eol();
}

// Worst-case bytes of a task row without its oracle probability (`floatText`, at most 24).
const MAX_TASK_ROW = 8 + 1 + 20 + 1 + 15 + 1 + 7 + 1 + 14 + 1 + 1 + 1 + 24 + 1 + 5 + 2;

// The row's fixed texts with their commas, as bytes: `,scenario,tier,` by scenario code and tier,
// `,label,` by label, `,split\r\n` by split (copying bytes is cheaper than encoding strings per row).
const latin1 = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const SCENARIO_TIER = SCENARIOS.map((scenario) =>
  [0, 1].map((premium) => latin1(`,${scenario},${tierName(premium)},`)),
);
const LABEL = [latin1(',0,'), latin1(',1,')];
const SPLIT_EOL = Object.fromEntries(SPLITS.map((split) => [split, latin1(`,${split}\r\n`)])) as Record<
  Split,
  Uint8Array
>;

/**
 * Writes one user's rows of the task file, in anchor order, resumably (a 1-second grid gives a
 * user millions of rows); reused across users (no per-row allocation but the probability's
 * text). O(anchors + uploads + tiers) per user.
 */
export class TaskRowWriter implements UserRowWriter {
  done = true;
  private batch: UserBatch | undefined;
  private readonly anchors = new AnchorCursor();
  private readonly labels = new LargeUploadLabeler();
  // Most rows repeat the previous row's probability (0 while free, 1 − e^(−r·s) through a premium
  // period): reuse its text rather than format the same double again.
  private lastProbability = Number.NaN;
  private lastText = '';
  /** Told of every row written (the report's aggregates), where set. */
  sink: TaskRowSink | undefined;

  constructor(private readonly settings: TaskSettings) {}

  start(batch: UserBatch): void {
    this.batch = batch;
    // A user outside the task sample (tasks.userFraction) has no rows.
    this.done = !inTaskSample(batch.userId, this.settings);
    if (this.done) return;
    this.anchors.reset(batch, this.settings);
    this.labels.reset(batch);
  }

  write(out: CsvBuffer, limit: number): number {
    const { anchors, labels, settings } = this;
    const batch = startedBatch(this.batch);
    let rows = 0;
    // The limit is checked before the cursor moves: the next call resumes at the next anchor.
    while (out.length < limit) {
      if (!anchors.next()) {
        this.done = true;
        break;
      }
      const at = anchors.at;
      const tier = anchors.tier;
      const p = oracleProbability(at, batch, batch.premiumRatePerHour, settings);
      if (p !== this.lastProbability) {
        this.lastProbability = p;
        this.lastText = floatText(p);
      }
      const probability = this.lastText;
      const label = labels.label(at);
      const split = splitOf(at, settings);
      out.reserve(MAX_TASK_ROW + probability.length);
      out.uint(batch.userId);
      out.comma();
      out.timestamp(at);
      out.bytes(SCENARIO_TIER[anchors.scenario][batch.tierIsPremium[tier]]);
      writeHoursFixed4(at - batch.tierFrom[tier], out);
      out.bytes(LABEL[label]);
      out.ascii(probability);
      out.bytes(SPLIT_EOL[split]);
      this.sink?.taskRow(batch, tier, at, anchors.scenario, split, label, p);
      rows++;
    }
    return rows;
  }
}

/**
 * Whole seconds (>= 0) as hours with four decimals, the text of `(seconds / 3600).toFixed(4)`
 * without the string: ten-thousandths = round(seconds · 25 / 9), half up, and seconds·25/9 is
 * never exactly halfway (its fraction is a ninth), so the double's rounding cannot flip it.
 */
export function writeHoursFixed4(seconds: number, out: CsvBuffer): void {
  const tenThousandths = Math.floor((seconds * 50 + 9) / 18);
  const whole = Math.floor(tenThousandths / 10_000);
  out.uint(whole);
  out.ascii('.');
  out.uint(tenThousandths - whole * 10_000, 4);
}
