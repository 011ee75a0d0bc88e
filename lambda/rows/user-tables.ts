import type { GenerationConfig } from '../config/schema.js';
import {
  FewRowsWriter,
  NO_ROWS,
  UploadRowWriter,
  userName,
  writeTierRows,
  writeUserRow,
  type UserRowWriter,
} from './csv-format.js';
import { IndexedRowsWriter, TaskColumnWriter, type UserColumnWriter } from './column-writers.js';
import { CategoryColumn, DoubleColumn, Int64Column, StringColumn, type ColumnSet } from './parquet-columns.js';
import { tierName } from '../engine/user-batch.js';
import { TABLE_NAMES, TABLES, type TableName } from '../layout/tables.js';
import { TaskRowWriter, TRUTH_USERS_FILE, UPLOAD_50GB_TASK_FILE, writeTruthUserRow } from './task-files.js';
import { taskSettings } from '../config/task-settings.js';

/**
 * A CSV with rows per user, written from each user's batch in user order. Every path that writes
 * a dataset (single process, worker threads, fan-out shards) writes exactly these tables, so
 * adding a table is adding an entry to `USER_TABLES`.
 */
export interface UserTable<Name extends string = string> {
  /** Short name: the key of the table's figures in shard reports and of its part files. */
  name: Name;
  /** Path of the CSV inside the dataset folder, e.g. `truth/users.csv`. */
  file: string;
  columns: readonly string[];
  /**
   * The row writer for a run, built once per thread from the config: settings derived from the
   * config are computed here, not per user. Uploads rows use `batch.uploadTxnId`, which the
   * caller has numbered already.
   */
  rowWriter(config: GenerationConfig): UserRowWriter;
  /** The same rows as column values (the Parquet output), into a row group's `columns`. */
  columnWriter(config: GenerationConfig, columns: ColumnSet): UserColumnWriter;
  /** Whether a config's dataset has this file (default: always); a table it lacks writes no rows. */
  written?(config: GenerationConfig): boolean;
}

/** One of the reference's four tables (file and columns from `TABLES`). */
function referenceTable<Name extends TableName>(
  name: Name,
  writers: Pick<UserTable, 'rowWriter' | 'columnWriter'>,
): UserTable<Name> {
  return { name, file: TABLES[name].file, columns: TABLES[name].columns, ...writers };
}

/** A table's dictionary index of each tier (by `tierIsPremium`). */
const tierIndexes = (column: CategoryColumn): number[] => [0, 1].map((p) => column.indexOf(tierName(p)));

/** The per-user tables, in the order their bytes travel (chunks, reports); the manifest lists files by `DATASET_FILES`. */
export const USER_TABLES = [
  referenceTable('users', {
    rowWriter: () =>
      new FewRowsWriter((batch, out) => {
        writeUserRow(batch, out);
        return 1;
      }),
    columnWriter: (_, columns) => {
      const userId = columns.get('user_id', Int64Column);
      const name = columns.get('name', StringColumn);
      return new IndexedRowsWriter(
        () => 1,
        (batch) => {
          userId.push(batch.userId);
          name.push(userName(batch.userId));
        },
      );
    },
  }),
  referenceTable('tiers', {
    rowWriter: (config) =>
      new FewRowsWriter((batch, out) => {
        writeTierRows(batch, out, config.openEndedTiers);
        return batch.tierCount;
      }),
    columnWriter: (config, columns) => {
      const userId = columns.get('user_id', Int64Column);
      const from = columns.get('from_datetime', Int64Column);
      const until = columns.get('until_datetime', Int64Column);
      const tier = columns.get('tier', CategoryColumn);
      const tiers = tierIndexes(tier);
      return new IndexedRowsWriter(
        (batch) => batch.tierCount,
        (batch, t) => {
          userId.push(batch.userId);
          from.push(batch.tierFrom[t]);
          // As in the CSV: an open-ended last interval has no end.
          if (config.openEndedTiers && t === batch.tierCount - 1) until.pushNull();
          else until.push(batch.tierUntil[t]);
          tier.push(tiers[batch.tierIsPremium[t]]);
        },
      );
    },
  }),
  referenceTable('uploads', {
    rowWriter: () => new UploadRowWriter(),
    columnWriter: (_, columns) => {
      const txnId = columns.get('txn_id', Int64Column);
      const userId = columns.get('user_id', Int64Column);
      const itemId = columns.get('item_id', Int64Column);
      const at = columns.get('datetime', Int64Column);
      return new IndexedRowsWriter(
        (batch) => batch.uploadCount,
        (batch, j, txnFrom) => {
          txnId.push(txnFrom + j);
          userId.push(batch.userId);
          itemId.push(batch.uploadItemId[j]);
          at.push(batch.uploadAt[j]);
        },
      );
    },
  }),
  {
    name: 'truth_users',
    file: TRUTH_USERS_FILE.file,
    columns: TRUTH_USERS_FILE.columns,
    rowWriter: () =>
      new FewRowsWriter((batch, out) => {
        writeTruthUserRow(batch, out);
        return 1;
      }),
    columnWriter: (_, columns) => {
      const userId = columns.get('user_id', Int64Column);
      const cohort = columns.get('cohort', Int64Column);
      const free = columns.get('free_rate_per_hour', DoubleColumn);
      const premium = columns.get('premium_rate_per_hour', DoubleColumn);
      return new IndexedRowsWriter(
        () => 1,
        (batch) => {
          userId.push(batch.userId);
          cohort.push(batch.cohort);
          free.push(batch.freeRatePerHour);
          premium.push(batch.premiumRatePerHour);
        },
      );
    },
  },
  {
    name: 'tasks_upload_50gb_next_hour',
    file: UPLOAD_50GB_TASK_FILE.file,
    columns: UPLOAD_50GB_TASK_FILE.columns,
    rowWriter: (config) =>
      config.tasks.enabled ? new TaskRowWriter(taskSettings(config), config.formats.includes('csv')) : NO_ROWS,
    columnWriter: (config, columns) => new TaskColumnWriter(taskSettings(config), columns),
    written: (config) => config.tasks.enabled,
  },
] as const satisfies readonly UserTable[];

export type UserTableName = (typeof USER_TABLES)[number]['name'];

/** A CSV of the dataset; `userTable` is its index in `USER_TABLES` (items.csv, fixed rows, has none). */
export interface DatasetFile {
  file: string;
  columns: readonly string[];
  userTable?: number;
}

const userTableIndex = (name: string): number | undefined => {
  const i = USER_TABLES.findIndex((t) => t.name === name);
  return i < 0 ? undefined : i;
};

/**
 * Every CSV a dataset may have, in manifest order: the reference's four (users, tiers, items,
 * uploads), then the other per-user tables in `USER_TABLES` order; `datasetFiles` has a config's.
 */
export const DATASET_FILES: readonly DatasetFile[] = [
  ...TABLE_NAMES.map((name) => ({
    file: TABLES[name].file,
    columns: TABLES[name].columns,
    userTable: userTableIndex(name),
  })),
  ...USER_TABLES.flatMap((t: UserTable, i) =>
    t.name in TABLES ? [] : [{ file: t.file, columns: t.columns, userTable: i }],
  ),
];

/** The CSVs of a config's dataset, in manifest order: none without `csv` in `formats`, no task file with `tasks.enabled` false. */
export function datasetFiles(config: GenerationConfig): readonly DatasetFile[] {
  if (!config.formats.includes('csv')) return [];
  return DATASET_FILES.filter((f) => f.userTable === undefined || isWritten(USER_TABLES[f.userTable], config));
}

/** Whether a config's dataset has this per-user table (the task file can be switched off). */
export function isWritten(table: UserTable, config: GenerationConfig): boolean {
  return table.written?.(config) ?? true;
}
