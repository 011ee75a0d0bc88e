import { SCENARIOS, type Scenario } from '../tasks/anchors.js';
import { SPLITS, type Split } from '../tasks/split.js';
import { UPLOAD_50GB_TASK_FILE } from '../rows/task-files.js';
import type { DatasetStorage } from '../storage/storage.js';
import { DatasetFileError, readDatasetCsv } from '../dataset/dataset-csv.js';
import { TimestampReader } from './timestamp-reader.js';

/** The task's anchors: what a baseline may see of the task file (no label, no oracle). */
export interface Anchor {
  userId: number;
  /** As written (`YYYY-MM-DDTHH:MM:SSZ`). */
  anchorTime: string;
  /** Epoch seconds. */
  at: number;
}

/** A whole row of the task file, for scoring. */
export interface TaskRow extends Anchor {
  scenario: Scenario;
  label: 0 | 1;
  oracleProbability: number;
  split: Split;
}

const COLUMN = Object.fromEntries(UPLOAD_50GB_TASK_FILE.columns.map((c, i) => [c, i])) as Record<
  (typeof UPLOAD_50GB_TASK_FILE.columns)[number],
  number
>;

export const taskFileKey = (prefix: string): string => `${prefix}/${UPLOAD_50GB_TASK_FILE.file}`;

/** The task's anchors (user_id and anchor_time only), streamed in file order. */
export async function* readAnchors(storage: DatasetStorage, prefix: string): AsyncGenerator<Anchor> {
  for await (const { userId, anchorTime, at } of readTaskRows(storage, prefix)) yield { userId, anchorTime, at };
}

/** The task rows of a dataset, streamed in file order (user_id, then anchor_time). */
export async function* readTaskRows(storage: DatasetStorage, prefix: string): AsyncGenerator<TaskRow> {
  const key = taskFileKey(prefix);
  const time = new TimestampReader();
  for await (const { line, fields } of readDatasetCsv(storage, key, UPLOAD_50GB_TASK_FILE.columns)) {
    const scenario = fields[COLUMN.scenario] as Scenario;
    const split = fields[COLUMN.split] as Split;
    const label = fields[COLUMN.label];
    const row = {
      userId: Number(fields[COLUMN.user_id]),
      anchorTime: fields[COLUMN.anchor_time],
      at: time.read(fields[COLUMN.anchor_time]) ?? Number.NaN,
      scenario,
      label: label === '1' ? 1 : 0,
      oracleProbability: Number(fields[COLUMN.oracle_probability]),
      split,
    } satisfies TaskRow;
    const valid =
      fields.length === UPLOAD_50GB_TASK_FILE.columns.length &&
      Number.isInteger(row.userId) &&
      Number.isFinite(row.at) &&
      SCENARIOS.includes(scenario) &&
      SPLITS.includes(split) &&
      (label === '0' || label === '1') &&
      row.oracleProbability >= 0 &&
      row.oracleProbability <= 1;
    if (!valid)
      throw new DatasetFileError(`${storage.describe(key)} line ${line}: not a task row: ${fields.join(',')}`);
    yield row;
  }
}
