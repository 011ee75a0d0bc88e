import type { DatasetFormat, GenerationConfig } from '../config/schema.js';
import { ITEM_50GB } from '../engine/user-batch.js';
import { SCENARIOS } from '../tasks/anchors.js';
import { SPLITS } from '../tasks/split.js';
import { TRUTH_USERS_FILE, UPLOAD_50GB_TASK_FILE } from '../rows/task-files.js';
import { taskSettings } from '../config/task-settings.js';
import { formatUtcTimestamp } from '../time/utc-timestamp.js';
import { ITEMS, TABLES } from '../layout/tables.js';
import { parquetTableFolder } from '../layout/key-layout.js';

/**
 * `schema.json`: what a dataset's files hold, machine-readable, for loaders (KumoRFM, RelBench,
 * pandas) that should not hard-code it: every table's columns and types, keys, time and end-time
 * columns, and the prediction task with its PQL and splits. A pure function of the config.
 */

export const SCHEMA_FILE = 'schema.json';

export type ColumnType = 'int' | 'float' | 'string' | 'category' | 'timestamp';

export interface SchemaColumn {
  name: string;
  type: ColumnType;
  /** The field may be empty (no value); absent means never empty. */
  nullable?: true;
  /** The only values a `category` column (or a coded `int` column) takes, as written. */
  values?: readonly (string | number)[];
  description: string;
}

export interface ForeignKey {
  column: string;
  references: { table: string; column: string };
}

export interface EndTimeColumn {
  column: string;
  /** The interval is [time column, end-time column): the end instant is not in it. */
  exclusive: true;
  /** Each user's last interval has an empty end time, meaning "still in effect" (config `openEndedTiers`). */
  openEnded: boolean;
}

export interface SchemaTable {
  name: string;
  /** Path inside the dataset folder. */
  file: string;
  description: string;
  columns: SchemaColumn[];
  /** Columns whose values together are unique; several columns = a composite key. */
  primaryKey: string[];
  foreignKeys: ForeignKey[];
  /** When a row becomes known (rows are visible from this instant on); null for static tables. */
  timeColumn: string | null;
  endTimeColumn: EndTimeColumn | null;
  /** With `formats` holding `parquet`: the folder of the table's Parquet parts (`parquet/<name>`). */
  parquetFolder?: string;
}

export interface TaskSplit {
  name: (typeof SPLITS)[number];
  /** anchor_time in [from, until). */
  from: string;
  until: string;
}

export interface TaskDefinition {
  name: string;
  /** The table (in `tables`) holding one row per (entity, anchor). */
  table: string;
  type: 'binary_classification';
  entity: { table: string; column: string };
  anchorColumn: string;
  labelColumn: string;
  /** The model's exact probability of a positive label, for calibration and an upper bound. */
  oracleColumn: string;
  target: string;
  horizonHours: number;
  item: { itemId: number; sizeGb: number };
  /** Kumo PQL of the label; `{user_id}` stands for the entity, evaluated at anchor_time. */
  pql: string;
  anchors: { gridHours: number; rule: string };
  splits: TaskSplit[];
}

export interface DatasetSchema {
  schemaVersion: 1;
  timestampFormat: 'YYYY-MM-DDTHH:MM:SSZ';
  timezone: 'UTC';
  /** The formats the tables are written in (config `formats`). */
  formats: DatasetFormat[];
  /** The simulated window [start, end). */
  window: { start: string; end: string };
  tables: SchemaTable[];
  tasks: TaskDefinition[];
}

type ColumnsOf<T extends { columns: readonly string[] }> = T['columns'][number];
type ColumnSpecs<T extends { columns: readonly string[] }> = Record<ColumnsOf<T>, Omit<SchemaColumn, 'name'>>;

/** Columns in file order, from the table's own column list; the record forces a spec for each. */
function columnsOf<T extends { columns: readonly string[] }>(table: T, specs: ColumnSpecs<T>): SchemaColumn[] {
  return table.columns.map((name) => ({ name, ...specs[name as ColumnsOf<T>] }));
}

const userRef = (column = 'user_id'): ForeignKey => ({ column, references: { table: 'users', column: 'user_id' } });
const TIERS = ['free', 'premium'] as const;
const USER_ID = { type: 'int', description: 'the user (users.user_id)' } as const;

export function buildDatasetSchema(config: GenerationConfig): DatasetSchema {
  const settings = taskSettings(config);
  const at = formatUtcTimestamp;
  const large = ITEMS.find((i) => i.itemId === ITEM_50GB)!;
  const horizonHours = 1;

  const tables: SchemaTable[] = [
    {
      name: 'users',
      file: TABLES.users.file,
      description: 'one row per user, ids 1..users',
      columns: columnsOf(TABLES.users, {
        user_id: { type: 'int', description: 'the user' },
        name: { type: 'string', description: '"User NNN" (at least three digits)' },
      }),
      primaryKey: ['user_id'],
      foreignKeys: [],
      timeColumn: null,
      endTimeColumn: null,
    },
    {
      name: 'tiers',
      file: TABLES.tiers.file,
      description: "each user's tier validity intervals: contiguous, non-overlapping, covering the window",
      columns: columnsOf(TABLES.tiers, {
        user_id: USER_ID,
        from_datetime: { type: 'timestamp', description: 'the interval starts (inclusive)' },
        until_datetime: config.openEndedTiers
          ? {
              type: 'timestamp',
              nullable: true,
              description: "the interval ends (exclusive); empty on each user's last interval: still in effect",
            }
          : {
              type: 'timestamp',
              description: "the interval ends (exclusive); each user's last interval ends at the window's end",
            },
        tier: { type: 'category', values: TIERS, description: 'the tier in force during the interval' },
      }),
      primaryKey: ['user_id', 'from_datetime'],
      foreignKeys: [userRef()],
      timeColumn: 'from_datetime',
      endTimeColumn: { column: 'until_datetime', exclusive: true, openEnded: config.openEndedTiers },
    },
    {
      name: 'items',
      file: TABLES.items.file,
      description: 'the two items a user can upload',
      columns: columnsOf(TABLES.items, {
        item_id: { type: 'int', description: 'the item' },
        size_gb: { type: 'int', description: 'its size in GB' },
      }),
      primaryKey: ['item_id'],
      foreignKeys: [],
      timeColumn: null,
      endTimeColumn: null,
    },
    {
      name: 'uploads',
      file: TABLES.uploads.file,
      description: 'one row per upload, sorted by (user_id, datetime); txn_id numbers them 1..n',
      columns: columnsOf(TABLES.uploads, {
        txn_id: { type: 'int', description: 'the upload' },
        user_id: USER_ID,
        item_id: { type: 'int', description: 'what was uploaded (items.item_id)' },
        datetime: { type: 'timestamp', description: 'when' },
      }),
      primaryKey: ['txn_id'],
      foreignKeys: [userRef(), { column: 'item_id', references: { table: 'items', column: 'item_id' } }],
      timeColumn: 'datetime',
      endTimeColumn: null,
    },
    {
      name: 'truth_users',
      file: TRUTH_USERS_FILE.file,
      description: 'the latent per-user rates the generator drew (ground truth, not model input)',
      columns: columnsOf(TRUTH_USERS_FILE, {
        user_id: USER_ID,
        cohort: {
          type: 'int',
          values: [1, 2, 3, 4, 5],
          description: '1 premium, 2 free, 3 premium then free, 4 free then premium, 5 free then premium then free',
        },
        free_rate_per_hour: { type: 'float', description: 'uploads per hour while free' },
        premium_rate_per_hour: {
          type: 'float',
          description: 'uploads per hour while premium (before the 50 GB share)',
        },
      }),
      primaryKey: ['user_id'],
      foreignKeys: [userRef()],
      timeColumn: null,
      endTimeColumn: null,
    },
    {
      name: 'upload_50gb_next_hour',
      file: UPLOAD_50GB_TASK_FILE.file,
      description: 'the task table: one row per (user, anchor time) with its label, oracle probability and split',
      columns: columnsOf(UPLOAD_50GB_TASK_FILE, {
        user_id: USER_ID,
        anchor_time: {
          type: 'timestamp',
          description: 'the prediction time: only rows known at or before it may be used',
        },
        scenario: {
          type: 'category',
          values: SCENARIOS,
          description: 'why this anchor: a tier change (just_upgraded/just_downgraded) or a grid anchor by tier',
        },
        tier_at_anchor: { type: 'category', values: TIERS, description: 'the tier in force at anchor_time' },
        hours_in_tier: { type: 'float', description: 'hours since the interval in force began (4 decimals)' },
        label: {
          type: 'int',
          values: [0, 1],
          description: `1 if the user uploads item ${large.itemId} (${large.sizeGb} GB) in (anchor_time, anchor_time + ${horizonHours} h]`,
        },
        oracle_probability: { type: 'float', description: "the label's exact probability under the generating model" },
        split: {
          type: 'category',
          values: SPLITS,
          description: 'train / val / test by anchor_time (see tasks[].splits)',
        },
      }),
      primaryKey: ['user_id', 'anchor_time'],
      foreignKeys: [userRef()],
      timeColumn: 'anchor_time',
      endTimeColumn: null,
    },
  ];

  const bounds = [settings.start, settings.valFrom, settings.testFrom, settings.end];
  const task: TaskDefinition = {
    name: 'upload_50gb_next_hour',
    table: 'upload_50gb_next_hour',
    type: 'binary_classification',
    entity: { table: 'users', column: 'user_id' },
    anchorColumn: 'anchor_time',
    labelColumn: 'label',
    oracleColumn: 'oracle_probability',
    target: `does the user upload the ${large.sizeGb} GB item within ${horizonHours} hour after anchor_time`,
    horizonHours,
    item: { itemId: large.itemId, sizeGb: large.sizeGb },
    pql: `PREDICT COUNT(uploads.* WHERE uploads.item_id = ${large.itemId}, 0, ${horizonHours}, hours) > 0 FOR users.user_id = {user_id}`,
    anchors: {
      gridHours: config.tasks.gridHours,
      rule: `start + k * gridHours (k >= 1) up to end - ${horizonHours} h, and every tier change after start; one row when both coincide`,
    },
    splits: SPLITS.map((name, i) => ({ name, from: at(bounds[i]), until: at(bounds[i + 1]) })),
  };

  return {
    schemaVersion: 1,
    timestampFormat: 'YYYY-MM-DDTHH:MM:SSZ',
    timezone: 'UTC',
    formats: [...config.formats],
    window: { start: config.start, end: config.end },
    tables: config.formats.includes('parquet')
      ? tables.map((t) => ({ ...t, parquetFolder: parquetTableFolder(t.name) }))
      : tables,
    tasks: [task],
  };
}

/**
 * How a column type is stored in Parquet: integers as INT64; floats as DOUBLE; strings as UTF-8
 * byte arrays, categories dictionary-encoded; timestamps as INT64 microseconds with the TIMESTAMP
 * logical type, not adjusted to UTC (naive, holding UTC wall time: what pandas and RelBench
 * expect, and DuckDB reads as TIMESTAMP rather than TIMESTAMPTZ).
 */
export interface ParquetColumnType {
  physical: 'INT64' | 'DOUBLE' | 'BYTE_ARRAY';
  logical?: { type: 'STRING' } | { type: 'TIMESTAMP'; unit: 'MICROS'; isAdjustedToUTC: false };
  dictionary: boolean;
}

export const PARQUET_TYPES: Record<ColumnType, ParquetColumnType> = {
  int: { physical: 'INT64', dictionary: false },
  float: { physical: 'DOUBLE', dictionary: false },
  string: { physical: 'BYTE_ARRAY', logical: { type: 'STRING' }, dictionary: false },
  category: { physical: 'BYTE_ARRAY', logical: { type: 'STRING' }, dictionary: true },
  timestamp: {
    physical: 'INT64',
    logical: { type: 'TIMESTAMP', unit: 'MICROS', isAdjustedToUTC: false },
    dictionary: false,
  },
};

/**
 * RelBench's key/value metadata of a table's Parquet file, as its `Table.save` writes it and
 * `Table.load` reads it: each value JSON (`pkey_col` a column name or null: RelBench keys are one
 * column, so a composite key is null; `fkey_col_to_pkey_table` an object; `time_col` or null).
 */
export function relbenchMetadata(table: SchemaTable): Array<{ key: string; value: string }> {
  return [
    {
      key: 'fkey_col_to_pkey_table',
      value: JSON.stringify(Object.fromEntries(table.foreignKeys.map((f) => [f.column, f.references.table]))),
    },
    { key: 'pkey_col', value: JSON.stringify(table.primaryKey.length === 1 ? table.primaryKey[0] : null) },
    { key: 'time_col', value: JSON.stringify(table.timeColumn) },
  ];
}

/** The text of `schema.json`: pretty-printed, one trailing newline, ASCII only (every description is). */
export function schemaJsonText(config: GenerationConfig): string {
  return `${JSON.stringify(buildDatasetSchema(config), null, 2)}\n`;
}
