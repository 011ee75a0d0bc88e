/** The four tables of a dataset: file names and columns, in the reference's order. */
export const TABLES = {
  users: { file: 'users.csv', columns: ['user_id', 'name'] },
  tiers: { file: 'tiers.csv', columns: ['user_id', 'from_datetime', 'until_datetime', 'tier'] },
  items: { file: 'items.csv', columns: ['item_id', 'size_gb'] },
  uploads: { file: 'uploads.csv', columns: ['txn_id', 'user_id', 'item_id', 'datetime'] },
} as const;

export type TableName = keyof typeof TABLES;
export const TABLE_NAMES = Object.keys(TABLES) as TableName[];

export const ITEMS = [
  { itemId: 1, sizeGb: 5 },
  { itemId: 2, sizeGb: 50 },
] as const;

export const MANIFEST_FILE = 'manifest.json';

/** The dataset's report: a self-contained page, and the aggregates it is drawn from (to re-render it). */
export const REPORT_FILE = 'report.html';
export const REPORT_DATA_FILE = 'report-data.json';
