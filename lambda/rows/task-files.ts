import { startedBatch, tierName, type UserBatch } from '../engine/user-batch.js';
import { floatText, type CsvBuffer } from './csv-buffer.js';
import type { UserRowWriter } from './csv-format.js';
import { SCENARIOS } from '../tasks/anchors.js';
import { SPLITS, type Split } from '../tasks/split.js';
import { hoursInTierTenThousandths, TaskRowCursor } from '../tasks/task-row-cursor.js';
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
 * text). Without `text` (a dataset with no CSVs) it writes nothing and only tells `sink` of each
 * row, which the report needs whatever the formats.
 */
export class TaskRowWriter implements UserRowWriter {
  done = true;
  private batch: UserBatch | undefined;
  private readonly rows: TaskRowCursor;
  // Most rows repeat the previous row's probability (0 while free, 1 − e^(−r·s) through a premium
  // period): reuse its text rather than format the same double again.
  private lastProbability = Number.NaN;
  private lastText = '';
  /** Told of every row written (the report's aggregates), where set. */
  sink: TaskRowSink | undefined;

  constructor(
    settings: TaskSettings,
    private readonly text = true,
  ) {
    this.rows = new TaskRowCursor(settings);
  }

  start(batch: UserBatch): void {
    this.batch = batch;
    this.done = !this.rows.start(batch);
  }

  write(out: CsvBuffer, limit: number): number {
    const { rows, sink } = this;
    const batch = startedBatch(this.batch);
    let count = 0;
    // The limit is checked before the cursor moves: the next call resumes at the next anchor.
    while (!this.text || out.length < limit) {
      if (!rows.next()) {
        this.done = true;
        break;
      }
      const { at, tier, probability: p } = rows;
      sink?.taskRow(batch, tier, at, rows.scenario, rows.split, rows.label, p);
      count++;
      if (!this.text) continue;
      if (p !== this.lastProbability) {
        this.lastProbability = p;
        this.lastText = floatText(p);
      }
      const probability = this.lastText;
      out.reserve(MAX_TASK_ROW + probability.length);
      out.uint(batch.userId);
      out.comma();
      out.timestamp(at);
      out.bytes(SCENARIO_TIER[rows.scenario][batch.tierIsPremium[tier]]);
      writeHoursFixed4(at - batch.tierFrom[tier], out);
      out.bytes(LABEL[rows.label]);
      out.ascii(probability);
      out.bytes(SPLIT_EOL[rows.split]);
    }
    return count;
  }
}

/** `hours_in_tier` as text with four decimals (`hoursInTierTenThousandths`), without a string. */
export function writeHoursFixed4(seconds: number, out: CsvBuffer): void {
  const tenThousandths = hoursInTierTenThousandths(seconds);
  const whole = Math.floor(tenThousandths / 10_000);
  out.uint(whole);
  out.ascii('.');
  out.uint(tenThousandths - whole * 10_000, 4);
}
