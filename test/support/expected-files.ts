// What a default dataset holds, written out by hand: the tests' own expectation of the file list,
// independent of the code's (lambda/rows/user-tables.ts, lambda/publish/report-files.ts).

/** The CSVs, in manifest order. */
export const EXPECTED_CSVS = [
  'users.csv',
  'tiers.csv',
  'items.csv',
  'uploads.csv',
  'truth/users.csv',
  'tasks/upload_50gb_next_hour.csv',
];

/** Every file a manifest lists, in its order: the CSVs, schema.json, then the report's files. */
export const EXPECTED_FILES = [...EXPECTED_CSVS, 'schema.json', 'report-data.json', 'report.html'];

/** The folders those files need. */
export const EXPECTED_FOLDERS = ['truth', 'tasks'];
