import type { GenerationConfig } from '../config/schema.js';
import { ITEM_50GB } from '../engine/user-batch.js';
import { ITEMS } from '../layout/tables.js';
import { TIMESTAMP_PATTERN } from '../time/utc-timestamp.js';

/**
 * The SQL users run on published datasets: the stack saves each query as an Athena named query,
 * and the tests run the same text in DuckDB over a local folder, so it is written in the SQL both
 * engines read (Trino's and DuckDB's): no division whose result differs between them (Trino
 * divides integers as integers, DuckDB does not), no engine-only functions, no correlated subqueries. Tables are the catalog's (query-catalog.ts); every table reference names
 * its dataset with `seed = :seed AND hash = :hash`, which Athena's partition projection requires.
 *
 * Athena named queries take no parameters, so the text holds placeholders (`:seed`, `:hash`, ...)
 * that are replaced by SQL literals before running (`bindQuery`, or by hand: docs/athena.md).
 * An unreplaced placeholder is a syntax error in both engines, never a silent empty result.
 */

/** What each placeholder stands for, as the literal that replaces it. */
export const PLACEHOLDERS = {
  seed: "the dataset's seed as a string, e.g. '42'",
  hash: "the dataset's config hash as a string, e.g. 'fe0bbb5cee398a3b'",
  window_start: "the config's start, e.g. TIMESTAMP '2025-03-01 00:00:00'",
  window_end: "the config's end, e.g. TIMESTAMP '2025-03-11 00:00:00'",
  min_tier_gap_hours: "the config's minTierGapHours, e.g. 24",
  user_id: 'a user id, e.g. 7',
} as const;

export type Placeholder = keyof typeof PLACEHOLDERS;

export interface NamedQuery {
  /** Unique among the named queries; the Athena named query's name. */
  name: string;
  description: string;
  sql: string;
  /** The placeholders the SQL holds, in order of first use. */
  placeholders: Placeholder[];
}

function itemOf(itemId: number): (typeof ITEMS)[number] {
  const item = ITEMS.find((i) => i.itemId === itemId);
  if (!item) throw new Error(`no item ${itemId} in ITEMS`);
  return item;
}
const LARGE_ITEM = itemOf(ITEM_50GB);
const inDataset = (alias = ''): string => `${alias}seed = :seed AND ${alias}hash = :hash`;

// The building blocks (common table expressions) of the dataset-wide queries, in dependency order.
const CTES = {
  dataset_users: `SELECT user_id FROM users WHERE ${inDataset()}`,
  dataset_items: `SELECT item_id, size_gb FROM items WHERE ${inDataset()}`,
  // An open-ended last interval (empty until_datetime) lasts to the window's end, as the checks see it.
  dataset_tiers: `SELECT user_id, from_datetime, COALESCE(until_datetime, :window_end) AS until_datetime, tier
    FROM tiers WHERE ${inDataset()}`,
  dataset_uploads: `SELECT txn_id, user_id, item_id, datetime FROM uploads WHERE ${inDataset()}`,
  // Each user's intervals in time order, with their neighbours.
  tier_steps: `SELECT user_id, from_datetime, until_datetime, tier,
      LAG(until_datetime) OVER (PARTITION BY user_id ORDER BY from_datetime) AS previous_until,
      LAG(tier) OVER (PARTITION BY user_id ORDER BY from_datetime) AS previous_tier,
      ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY from_datetime) AS step_number,
      ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY from_datetime DESC) AS steps_to_end
    FROM dataset_tiers`,
  tier_changes: `SELECT user_id, from_datetime AS changed_at,
      LAG(from_datetime) OVER (PARTITION BY user_id ORDER BY from_datetime) AS previous_change
    FROM tier_steps WHERE step_number > 1 AND tier <> previous_tier`,
  // Each upload with its item's size and the tier in force at its time (nulls when none is).
  upload_tiers: `SELECT up.txn_id, up.user_id, up.datetime, i.size_gb, t.tier,
      t.from_datetime AS tier_from, t.until_datetime AS tier_until
    FROM dataset_uploads up
    LEFT JOIN dataset_items i ON i.item_id = up.item_id
    LEFT JOIN dataset_tiers t
      ON t.user_id = up.user_id AND t.from_datetime <= up.datetime AND up.datetime < t.until_datetime`,
  // A premium interval right after a free one: an upgrade.
  upgrades: `SELECT user_id, from_datetime FROM tier_steps
    WHERE tier = 'premium' AND previous_tier <> 'premium' AND from_datetime > :window_start`,
} as const;

type CteName = keyof typeof CTES;

/** `WITH` the named building blocks (in dependency order, whatever order they are listed in). */
function withCtes(names: readonly CteName[]): string {
  const used = (Object.keys(CTES) as CteName[]).filter((name) => names.includes(name));
  return `WITH\n${used.map((name) => `  ${name} AS (\n    ${CTES[name]}\n  )`).join(',\n')}\n`;
}

const countWhere = (table: string, condition: string): string => `SELECT COUNT(*) FROM ${table} WHERE ${condition}`;

/**
 * One row per check of lambda/rows/integrity-checks.ts (same names, same counting), in its order.
 * Two differ from the generator's: file order is not visible to SQL, so uploads_primary_key counts
 * repeated txn_ids (not ids out of order) and tiers_cover_window does not see ungrouped rows.
 */
const INTEGRITY_CHECKS: ReadonlyArray<[name: string, violations: string]> = [
  ['users_primary_key', 'SELECT COUNT(*) - COUNT(DISTINCT user_id) FROM dataset_users'],
  ['items_primary_key', 'SELECT COUNT(*) - COUNT(DISTINCT item_id) FROM dataset_items'],
  [
    'tiers_primary_key',
    // Each row repeating an earlier row's key counts once per earlier row, as the generator counts.
    'SELECT COALESCE(SUM(n * (n - 1) / 2), 0) FROM (SELECT COUNT(*) AS n FROM dataset_tiers GROUP BY user_id, from_datetime) AS keys',
  ],
  ['uploads_primary_key', 'SELECT COUNT(*) - COUNT(DISTINCT txn_id) FROM dataset_uploads'],
  ['tiers_user_fk', countWhere('dataset_tiers', 'user_id NOT IN (SELECT user_id FROM dataset_users)')],
  ['uploads_user_fk', countWhere('dataset_uploads', 'user_id NOT IN (SELECT user_id FROM dataset_users)')],
  ['uploads_item_fk', countWhere('dataset_uploads', 'item_id NOT IN (SELECT item_id FROM dataset_items)')],
  [
    'tiers_cover_window',
    // Users whose intervals leave a gap, overlap, or miss the window's ends; rows of an unknown tier; users without tiers.
    `(SELECT COUNT(*) FROM (
        SELECT user_id FROM tier_steps GROUP BY user_id
        HAVING SUM(CASE WHEN (step_number = 1 AND from_datetime <> :window_start)
          OR (steps_to_end = 1 AND until_datetime <> :window_end)
          OR until_datetime < from_datetime
          OR (step_number > 1 AND from_datetime <> previous_until) THEN 1 ELSE 0 END) > 0
      ) AS uncovered)
      + (${countWhere('dataset_tiers', "tier NOT IN ('free', 'premium')")})
      + (${countWhere('dataset_users', 'user_id NOT IN (SELECT user_id FROM dataset_tiers)')})`,
  ],
  [
    'tier_changes_min_gap',
    countWhere('tier_changes', "date_diff('second', previous_change, changed_at) < :min_tier_gap_hours * 3600"),
  ],
  [
    'uploads_within_tier',
    'SELECT COUNT(DISTINCT txn_id) FROM upload_tiers WHERE datetime < :window_start OR datetime >= :window_end OR tier_from IS NULL',
  ],
  ['no_50gb_while_free', countWhere('upload_tiers', `size_gb = ${LARGE_ITEM.sizeGb} AND tier <> 'premium'`)],
];

const QUERIES: ReadonlyArray<Omit<NamedQuery, 'placeholders'>> = [
  {
    name: 'integrity-checks',
    description:
      "One row per integrity check of the dataset, with its violations: the manifest's checks, recomputed from the tables.",
    sql:
      withCtes([
        'dataset_users',
        'dataset_items',
        'dataset_tiers',
        'dataset_uploads',
        'tier_steps',
        'tier_changes',
        'upload_tiers',
      ]) +
      `SELECT check_name, CAST(violations AS BIGINT) AS violations FROM (\n${INTEGRITY_CHECKS.map(
        ([name, violations], i) =>
          `  SELECT ${i + 1} AS check_number, '${name}' AS check_name, (${violations}) AS violations`,
      ).join('\n  UNION ALL\n')}\n) AS checks\nORDER BY check_number`,
  },
  {
    name: 'uploads-50gb-while-free',
    description: `Every ${LARGE_ITEM.sizeGb} GB upload made while the user was free (the tier in force at upload time): the violations of no_50gb_while_free.`,
    sql:
      withCtes(['dataset_items', 'dataset_tiers', 'dataset_uploads', 'upload_tiers']) +
      `SELECT txn_id, user_id, datetime, tier, tier_from, tier_until FROM upload_tiers
WHERE size_gb = ${LARGE_ITEM.sizeGb} AND tier <> 'premium'
ORDER BY txn_id`,
  },
  {
    name: 'uploads-by-tier-and-size',
    description:
      "Uploads by the tier in force at upload time and the item's size (the manifest's summary.uploadsByTierAndSize).",
    sql:
      withCtes(['dataset_items', 'dataset_tiers', 'dataset_uploads', 'upload_tiers']) +
      `SELECT CASE WHEN tier = 'premium' THEN 'premium' ELSE 'free' END AS tier, size_gb, COUNT(*) AS uploads
FROM upload_tiers WHERE tier_from IS NOT NULL AND size_gb IS NOT NULL
GROUP BY 1, 2
ORDER BY 1, 2`,
  },
  {
    name: 'upgrade-spikes',
    description: `Upgrades (free to premium after the window's start), and those followed by a ${LARGE_ITEM.sizeGb} GB upload within the hour (the manifest's summary).`,
    sql:
      withCtes(['dataset_items', 'dataset_tiers', 'dataset_uploads', 'tier_steps', 'upload_tiers', 'upgrades']) +
      `, spikes AS (
    SELECT DISTINCT g.user_id, g.from_datetime FROM upgrades g
    JOIN upload_tiers x ON x.user_id = g.user_id AND x.size_gb = ${LARGE_ITEM.sizeGb} AND x.tier_from IS NOT NULL
      AND x.datetime >= g.from_datetime AND x.datetime < g.from_datetime + INTERVAL '1' HOUR
  )
SELECT upgrades, upgrades_with_spike_within_hour,
  CAST(upgrades_with_spike_within_hour AS DOUBLE) / NULLIF(upgrades, 0) AS spike_rate
FROM (SELECT (SELECT COUNT(*) FROM upgrades) AS upgrades,
  (SELECT COUNT(*) FROM spikes) AS upgrades_with_spike_within_hour) AS counts`,
  },
  {
    name: 'users-per-cohort',
    description: "Users per generating cohort, from the truth table (the manifest's summary.usersPerCohort).",
    sql: `SELECT cohort, COUNT(*) AS users FROM truth_users WHERE ${inDataset()}
GROUP BY cohort
ORDER BY cohort`,
  },
  {
    name: 'label-rate-by-scenario',
    description:
      "The task's anchors, positive labels, label rate and mean oracle probability by scenario (the task table).",
    sql: `SELECT scenario, COUNT(*) AS anchors, SUM(label) AS positives,
  AVG(CAST(label AS DOUBLE)) AS label_rate, AVG(oracle_probability) AS mean_oracle_probability
FROM upload_50gb_next_hour WHERE ${inDataset()}
GROUP BY scenario
ORDER BY scenario`,
  },
  {
    name: 'user-tier-timeline',
    description:
      "One user's tier timeline (adjacent intervals of the same tier joined, as the API's tiers route answers) with the uploads of each item in each span.",
    sql: `WITH
  user_tiers AS (
    SELECT user_id, from_datetime, until_datetime, tier,
      CASE WHEN tier = LAG(tier) OVER (ORDER BY from_datetime)
        AND from_datetime = LAG(until_datetime) OVER (ORDER BY from_datetime) THEN 0 ELSE 1 END AS starts_span
    FROM tiers WHERE ${inDataset()} AND user_id = :user_id
  ),
  numbered AS (
    SELECT user_id, from_datetime, until_datetime, tier,
      SUM(starts_span) OVER (ORDER BY from_datetime ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS span
    FROM user_tiers
  ),
  spans AS (
    SELECT user_id, span, MIN(tier) AS tier, MIN(from_datetime) AS from_datetime,
      CASE WHEN COUNT(*) > COUNT(until_datetime) THEN NULL ELSE MAX(until_datetime) END AS until_datetime
    FROM numbered GROUP BY user_id, span
  ),
  user_uploads AS (
    SELECT up.user_id, up.datetime, up.item_id FROM uploads up
    WHERE ${inDataset('up.')} AND up.user_id = :user_id
  )
SELECT s.user_id, s.tier, s.from_datetime, s.until_datetime,
${ITEMS.map((item) => `  COUNT(CASE WHEN x.item_id = ${item.itemId} THEN 1 END) AS uploads_${item.sizeGb}gb`).join(',\n')}
FROM spans s
LEFT JOIN user_uploads x
  ON x.user_id = s.user_id AND x.datetime >= s.from_datetime AND (s.until_datetime IS NULL OR x.datetime < s.until_datetime)
GROUP BY s.user_id, s.span, s.tier, s.from_datetime, s.until_datetime
ORDER BY s.from_datetime`,
  },
];

const PLACEHOLDER = /:([a-z_]+)\b/g;

function placeholdersOf(sql: string): Placeholder[] {
  const names = [...sql.matchAll(PLACEHOLDER)].map((m) => m[1]);
  for (const name of names) if (!(name in PLACEHOLDERS)) throw new Error(`unknown placeholder :${name}`);
  return [...new Set(names)] as Placeholder[];
}

/** The named queries the stack saves in its Athena workgroup (and the tests run in DuckDB). */
export const NAMED_QUERIES: readonly NamedQuery[] = QUERIES.map((q) => ({ ...q, placeholders: placeholdersOf(q.sql) }));

/** The values of the placeholders; `user_id` only for the queries about one user. */
export interface QueryArguments {
  seed: number;
  hash: string;
  /** UTC timestamps as configs write them (`YYYY-MM-DDTHH:MM:SSZ`). */
  windowStart: string;
  windowEnd: string;
  minTierGapHours: number;
  userId?: number;
}

/** The arguments of a published dataset, from its manifest's config hash and config. */
export function datasetQueryArguments(manifest: {
  configHash: string;
  config: Pick<GenerationConfig, 'seed' | 'start' | 'end' | 'minTierGapHours'>;
}): QueryArguments {
  const { config } = manifest;
  return {
    seed: config.seed,
    hash: manifest.configHash,
    windowStart: config.start,
    windowEnd: config.end,
    minTierGapHours: config.minTierGapHours,
  };
}

const stringLiteral = (text: string): string => `'${text.replaceAll("'", "''")}'`;

function timestampLiteral(utc: string): string {
  if (!TIMESTAMP_PATTERN.test(utc)) throw new Error(`not a UTC timestamp YYYY-MM-DDTHH:MM:SSZ: ${JSON.stringify(utc)}`);
  return `TIMESTAMP '${utc.slice(0, 10)} ${utc.slice(11, 19)}'`;
}

function numberLiteral(value: number | undefined, name: Placeholder, integer: boolean): string {
  if (value === undefined || !Number.isFinite(value) || (integer && !Number.isInteger(value)))
    throw new Error(`:${name} needs ${integer ? 'an integer' : 'a finite number'} (got ${String(value)})`);
  return String(value);
}

const LITERALS: Record<Placeholder, (args: QueryArguments) => string> = {
  seed: (args) => stringLiteral(String(args.seed)),
  hash: (args) => stringLiteral(args.hash),
  window_start: (args) => timestampLiteral(args.windowStart),
  window_end: (args) => timestampLiteral(args.windowEnd),
  min_tier_gap_hours: (args) => numberLiteral(args.minTierGapHours, 'min_tier_gap_hours', false),
  user_id: (args) => numberLiteral(args.userId, 'user_id', true),
};

/** The query's SQL with every placeholder replaced by its SQL literal, ready for Athena or DuckDB. */
export function bindQuery(query: NamedQuery, args: QueryArguments): string {
  return query.sql.replace(PLACEHOLDER, (_, name: string) => LITERALS[name as Placeholder](args));
}
