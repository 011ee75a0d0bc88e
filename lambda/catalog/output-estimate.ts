import type { GenerationConfig } from '../config/schema.js';
import { buildDatasetSchema, SCHEMA_FILE, schemaJsonText } from '../dataset/dataset-schema.js';
import { parquetPartUsers } from '../dataset/parquet-table.js';
import { parquetPartFile } from '../layout/key-layout.js';
import { headerLine, itemLines } from '../rows/csv-format.js';
import { ITEMS, MANIFEST_FILE, REPORT_DATA_FILE, REPORT_FILE } from '../layout/tables.js';
import { timeBins } from '../rows/report-aggregates.js';
import { baselineSamplePlan } from '../rows/baseline-sample.js';
import { POPULATION_COLUMNS } from '../tasks/population-history.js';
import { datasetFiles, USER_TABLES, type UserTableName } from '../rows/user-tables.js';
import { SECONDS_PER_HOUR, taskSettings } from '../config/task-settings.js';
import { inTaskSample } from '../tasks/user-sample.js';
import { utcTimestampSeconds } from '../time/utc-timestamp.js';

/**
 * What a config will write, estimated from the config alone, before any work: rows and bytes of
 * every file. It decides where a config runs (inside an API request, one invocation, the
 * fan-out) and refuses what is too big to write at all. Upper-leaning, by these assumptions:
 * - users.csv, items.csv, tiers.csv, schema.json and the headers: exact (tiers.csv counts every
 *   tier change the cohorts make; a window under 2 s can make fewer);
 * - uploads.csv: every user at the mean of its lognormal rate (clamped at 0.01 a day, as the
 *   engines do) in each tier: premium users (cohort 1) at the premium mean, free ones (cohort 2)
 *   at the free mean, users who change tier premium half of the window (the expectation for one
 *   change, drawn uniformly; more than cohort 5's third); plus the expected spike uploads. The
 *   engines draw Poisson counts around these means, so a large dataset lands within a percent or
 *   so of it; a few users with a heavy-tailed rate (std far above the mean) usually fall below
 *   (the mean is carried by rare users), and now and then above;
 * - truth/users.csv: rates written as 21-character doubles (shortest round-trip texts run 17–21);
 * - the task file: every grid anchor plus every tier change as a row (a change on a grid anchor
 *   is one row, so this counts it twice), premium by the share above; a premium
 *   row's probability as 20 characters, every hours_in_tier as long as the window's hours; with
 *   `tasks.userFraction` below 1, for the sampled users only (counted exactly, one hash per
 *   user); none with `tasks.enabled` false;
 * - the Parquet parts (with `parquet` in `formats`): each part's rows as above, times
 *   `PARQUET_ROW_BYTES` of its table, plus its footer;
 * - manifest.json: MANIFEST_BYTES, plus an entry per file.
 * Test: test/output-estimate.test.ts holds it against generated datasets.
 */

export interface FileEstimate {
  /** The file's path in the dataset, as the manifest names it. */
  name: string;
  rows: number;
  bytes: number;
}

export interface OutputEstimate {
  files: FileEstimate[];
  /** Rows of every file (headers not counted). */
  rows: number;
  bytes: number;
}

export interface RowsEstimate {
  rows: number;
  bytes: number;
}

/** Above the manifest's size with every check listing its 10 examples (a few KB). */
const MANIFEST_BYTES = 16 * 1024;
/** Characters of a rate in truth/users.csv (upper end of shortest round-trip texts). */
const RATE_TEXT = 21;
/** Characters of a premium row's oracle probability. */
const PROBABILITY_TEXT = 20;
const TIMESTAMP = 20;
const CRLF = 2;

const COHORT_TIERS = [1, 1, 2, 2, 3] as const;
/** Letters of the tier names of a cohort's intervals: premium; free; premium, free; free, premium; free, premium, free. */
const COHORT_TIER_LETTERS = [7, 4, 11, 11, 15] as const;
/** Share of a cohort's window spent premium: one change drawn uniformly halves it; cohort 5 is premium a third of it on average (0.5 leans high). */
const COHORT_PREMIUM_SHARE = [1, 0, 0.5, 0.5, 0.5] as const;
// `,just_upgraded,premium,`-like texts: at most 24 characters premium, 11 free (`,free,free,`; a downgrade's row is counted premium).
const SCENARIO_TIER_PREMIUM = 24;
const SCENARIO_TIER_FREE = 11;
// `,0,` label, `,train\r\n` split (the longest); a free row's probability `0.0`.
const LABEL = 3;
const FREE_PROBABILITY_TEXT = 3;
const SPLIT_EOL = 8;

const digits = (n: number): number => String(Math.floor(n)).length;

/** Σ bytesOf(count, d) over the integers from..to grouped by their decimal length d (0 when from > to). */
function sumByDigits(from: number, to: number, bytesOf: (count: number, d: number) => number): number {
  let sum = 0;
  for (let d = digits(Math.max(1, from)); ; d++) {
    const lo = Math.max(from, 10 ** (d - 1));
    const hi = Math.min(to, 10 ** d - 1);
    if (lo > to) break;
    sum += bytesOf(hi - lo + 1, d);
  }
  return sum;
}

/** The sum of the decimal lengths of the integers from..to (0 when from > to). */
export const digitSum = (from: number, to: number): number => sumByDigits(from, to, (count, d) => count * d);

/** Exact bytes of the users.csv rows of users from..to (`<id>,User <id:03d>\r\n`). */
export const userRowBytes = (from: number, to: number): number =>
  sumByDigits(from, to, (count, d) => count * (d + ',User '.length + Math.max(3, d) + CRLF));

/** The user ids of each cohort, as `cohortAssigner` deals them: contiguous blocks, cohorts 1..5 in order. */
function cohortBlocks(config: Pick<GenerationConfig, 'users' | 'cohortSizes'>): Array<[number, number]> {
  const n = config.users;
  const sizes = config.cohortSizes ?? [1, 2, 3, 4, 5].map((c) => Math.ceil((c * n) / 5) - Math.ceil(((c - 1) * n) / 5));
  let last = 0;
  return sizes.map((size) => [last + 1, (last += size)]);
}

/**
 * Rows and bytes of each per-user table (in `USER_TABLES` order, no headers) for users from..to:
 * what one range of users (the whole run, a fan-out shard) writes.
 */
export function estimateUserRows(config: GenerationConfig, from = 1, to = config.users): RowsEstimate[] {
  const start = utcTimestampSeconds(config.start);
  const end = utcTimestampSeconds(config.end);
  const days = (end - start) / 86_400;
  const gridSeconds = Math.round(config.tasks.gridHours * SECONDS_PER_HOUR);
  const gridAnchors = Math.max(0, Math.floor((end - SECONDS_PER_HOUR - start) / gridSeconds));
  const hoursText = digits((end - start) / SECONDS_PER_HOUR) + '.0000'.length;
  const free = Math.max(0.01, config.freeUploadsPerDay.mean) * days;
  const premium = Math.max(0.01, config.premiumUploadsPerDay.mean) * days;
  const spike = config.upgradeSpike;
  const spikes = spike.probability * (1 + (spike.maxUploads > 1 ? spike.secondUploadProbability : 0));
  // Cohort index c (cohort c + 1); cohorts 4 and 5 upgrade once.
  const uploadsOf = (c: number): number =>
    COHORT_PREMIUM_SHARE[c] * premium + (1 - COHORT_PREMIUM_SHARE[c]) * free + (c >= 3 ? spikes : 0);
  const blocks = cohortBlocks(config);
  const settings = taskSettings(config);
  // Users a..b with task rows, and the sum of their ids' decimal lengths.
  const taskUsers = (a: number, b: number): { users: number; idDigits: number } => {
    if (!config.tasks.enabled) return { users: 0, idDigits: 0 };
    if (config.tasks.userFraction === 1) return { users: b - a + 1, idDigits: digitSum(a, b) };
    let users = 0;
    let idDigits = 0;
    for (let u = a; u <= b; u++) {
      if (!inTaskSample(u, settings)) continue;
      users++;
      idDigits += digits(u);
    }
    return { users, idDigits };
  };
  // txn ids run to the whole run's uploads: every row's is counted as long as the last one.
  const txnDigits = digits(
    Math.max(
      1,
      blocks.reduce((sum, [lo, hi], c) => sum + (hi - lo + 1) * uploadsOf(c), 0),
    ),
  );

  const sums: Record<UserTableName, RowsEstimate> = {
    users: { rows: 0, bytes: 0 },
    tiers: { rows: 0, bytes: 0 },
    uploads: { rows: 0, bytes: 0 },
    truth_users: { rows: 0, bytes: 0 },
    tasks_upload_50gb_next_hour: { rows: 0, bytes: 0 },
  };
  blocks.forEach(([lo, hi], c) => {
    const a = Math.max(lo, from);
    const b = Math.min(hi, to);
    if (a > b) return;
    const users = b - a + 1;
    const idDigits = digitSum(a, b);
    const tiers = COHORT_TIERS[c];
    sums.users.rows += users;
    sums.users.bytes += userRowBytes(a, b);
    sums.tiers.rows += users * tiers;
    const openEnd = config.openEndedTiers ? TIMESTAMP : 0;
    sums.tiers.bytes +=
      tiers * idDigits + users * (tiers * (3 + 2 * TIMESTAMP + CRLF) + COHORT_TIER_LETTERS[c] - openEnd);
    const uploads = uploadsOf(c);
    sums.uploads.rows += users * uploads;
    sums.uploads.bytes += uploads * (idDigits + users * (txnDigits + 3 + 1 + TIMESTAMP + CRLF));
    sums.truth_users.rows += users;
    sums.truth_users.bytes += idDigits + users * (4 + 2 * RATE_TEXT + CRLF);
    const anchors = gridAnchors + tiers - 1;
    const share = COHORT_PREMIUM_SHARE[c];
    const rowText =
      1 +
      TIMESTAMP +
      hoursText +
      LABEL +
      SPLIT_EOL +
      share * (SCENARIO_TIER_PREMIUM + PROBABILITY_TEXT) +
      (1 - share) * (SCENARIO_TIER_FREE + FREE_PROBABILITY_TEXT);
    const sampled = taskUsers(a, b);
    sums.tasks_upload_50gb_next_hour.rows += sampled.users * anchors;
    sums.tasks_upload_50gb_next_hour.bytes += anchors * (sampled.idDigits + sampled.users * rowText);
  });
  return USER_TABLES.map((t) => ({ rows: Math.ceil(sums[t.name].rows), bytes: Math.ceil(sums[t.name].bytes) }));
}

/**
 * Parquet bytes of a row of each per-user table, leaning high: zstd over plain ids and times,
 * dictionary categories. Measured (default config, 20,000 users): users 2.2, tiers 5.5, uploads
 * 6.6, truth_users 16.7, task rows 2.3 (a premium row's probability is 8 bytes of noise, a free
 * row's a repeated 0, so premium-heavy configs run higher).
 */
const PARQUET_ROW_BYTES: Record<UserTableName, number> = {
  users: 3,
  tiers: 7,
  uploads: 9,
  truth_users: 18,
  tasks_upload_50gb_next_hour: 6,
};
/** A Parquet part's own bytes: magic, footer (schema, row groups' metadata, RelBench's keys), page indexes. */
const PARQUET_PART_BYTES = 2048;
/** The items table's part (two rows). */
const PARQUET_ITEMS_BYTES = 1024;
/** What each file adds to manifest.json (its entry: name, columns, rows, bytes, SHA-256). */
const MANIFEST_ENTRY_BYTES = 320;

/** Every Parquet part of a config's dataset, by table in schema.json's order, then by part. */
function estimateParquet(config: GenerationConfig): FileEstimate[] {
  const per = parquetPartUsers(config);
  const parts = Math.ceil(config.users / per);
  const perPart = Array.from({ length: parts }, (_, p) =>
    estimateUserRows(config, p * per + 1, Math.min(config.users, (p + 1) * per)),
  );
  return buildDatasetSchema(config).tables.flatMap((table) => {
    const t = USER_TABLES.findIndex((u) => u.file === table.file);
    if (t < 0) return [{ name: parquetPartFile(table.name, 0), rows: ITEMS.length, bytes: PARQUET_ITEMS_BYTES }];
    return perPart.map((rows, p) => ({
      name: parquetPartFile(table.name, p),
      rows: rows[t].rows,
      bytes: PARQUET_PART_BYTES + Math.ceil(rows[t].rows * PARQUET_ROW_BYTES[USER_TABLES[t].name]),
    }));
  });
}

/**
 * report-data.json and report.html: bounded (fixed bins, a fixed sample of users), so a fixed size
 * plus the time bins of the window, and in report-data.json the baselines' hourly counts and
 * sample (lambda/rows/baseline-sample.ts); measured on generated datasets, within a factor of 2 (the digits
 * of the counts and the series drawn vary). report.html is at most 1 MB however big the dataset.
 */
function estimateReportFiles(config: GenerationConfig): FileEstimate[] {
  const { start, end } = taskSettings(config);
  const { bins } = timeBins(start, end);
  const hours = Math.ceil((end - start) / SECONDS_PER_HOUR);
  const baselines = config.tasks.enabled
    ? POPULATION_COLUMNS.length * (hours + 1) * REPORT_DATA_BYTES_PER_HOUR_COUNT +
      baselineSamplePlan(config).values * REPORT_DATA_BYTES_PER_SAMPLE_VALUE
    : 0;
  return [
    {
      name: REPORT_DATA_FILE,
      rows: 0,
      bytes: Math.ceil(REPORT_DATA_BYTES + bins * REPORT_DATA_BYTES_PER_BIN + baselines),
    },
    { name: REPORT_FILE, rows: 0, bytes: REPORT_BYTES + bins * REPORT_BYTES_PER_BIN },
  ];
}
const REPORT_DATA_BYTES = 3000;
const REPORT_DATA_BYTES_PER_BIN = 35;
const REPORT_DATA_BYTES_PER_HOUR_COUNT = 3;
// Numbers of the sample as JSON: offsets in seconds, labels, probabilities (the plan overestimates how many).
const REPORT_DATA_BYTES_PER_SAMPLE_VALUE = 6;
const REPORT_BYTES = 100_000;
const REPORT_BYTES_PER_BIN = 800;

/** Every file of a config's dataset, in manifest order with manifest.json last, and their totals. */
export function estimateOutput(config: GenerationConfig): OutputEstimate {
  const perUser = estimateUserRows(config);
  const csvFiles = datasetFiles(config);
  const files: FileEstimate[] = csvFiles.map((f) => {
    const header = Buffer.byteLength(headerLine(f));
    if (f.userTable === undefined)
      return { name: f.file, rows: ITEMS.length, bytes: header + Buffer.byteLength(itemLines()) };
    return { name: f.file, rows: perUser[f.userTable].rows, bytes: header + perUser[f.userTable].bytes };
  });
  if (config.formats.includes('parquet')) files.push(...estimateParquet(config));
  files.push({ name: SCHEMA_FILE, rows: 0, bytes: Buffer.byteLength(schemaJsonText(config)) });
  files.push(...estimateReportFiles(config));
  files.push({ name: MANIFEST_FILE, rows: 0, bytes: MANIFEST_BYTES + files.length * MANIFEST_ENTRY_BYTES });
  return { files, rows: files.reduce((sum, f) => sum + f.rows, 0), bytes: files.reduce((sum, f) => sum + f.bytes, 0) };
}

/** Bytes as a short text for problems and reports: `53.2 GB`. */
export function byteText(bytes: number): string {
  const units = ['bytes', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return unit === 0 ? `${value} bytes` : `${value.toFixed(1)} ${units[unit]}`;
}
