// The object-key layout of a storage root (an S3 bucket's root prefix, or a local folder): every
// key the function, the CLI and the fan-out read or write, and the patterns the stack's IAM
// policy and lifecycle rules grant on. Pure: change a key here and every user follows.
//
//   <root>/seed=<seed>/<hash>/<file>                      a dataset's files (CSVs, schema.json)
//   <root>/seed=<seed>/<hash>/parquet/<table>/part-<n>.parquet   a table's Parquet parts (one folder a table)
//   <root>/seed=<seed>/<hash>/manifest.json               written last: the dataset exists once it does
//   <root>/seed=<seed>/<hash>/_run.json                   the record of a background job
//   <root>/seed=<seed>/<hash>/_parts/<run id>/…           a fan-out run's parts and shard reports
//   <root>/latest/<name>.json                             the nightly fixtures' pointers
//   <root>/rolling/seed=<seed>/<hash>/…                   date-seeded nightly fixtures (expire)
import { MANIFEST_FILE } from './tables.js';

/** `key` under `root` (no root: the key itself). */
export function rootedKey(root: string, key: string): string {
  const base = root.replace(/\/+$/, '');
  return base ? `${base}/${key}` : key;
}

/** A dataset's folder relative to the root: `seed=<seed>/<config hash>`. */
export const datasetFolder = (seed: number | string, configHash: string): string => `seed=${seed}/${configHash}`;

/** Where every dataset of one seed lives (with the trailing `/`, for listing its folders). */
export const seedPrefix = (root: string, seed: number): string => rootedKey(root, `seed=${seed}/`);

/** The key of one file of a dataset (or of any folder). */
export const fileKey = (prefix: string, file: string): string => `${prefix}/${file}`;

export const manifestKey = (datasetPrefix: string): string => fileKey(datasetPrefix, MANIFEST_FILE);

/** A dataset's folder and manifest keys, from its address (whose `prefix` is its `datasetFolder`). */
export function datasetKeys(address: { prefix: string }, root = ''): { prefix: string; manifestKey: string } {
  const prefix = rootedKey(root, address.prefix);
  return { prefix, manifestKey: manifestKey(prefix) };
}

/**
 * The folder of one table's Parquet parts, relative to the dataset's folder: engines (Athena, Glue,
 * Spark, DuckDB) point a table at a folder.
 */
export const parquetTableFolder = (table: string): string => `parquet/${table}`;

/** One Parquet part of a table, relative to the dataset's folder (parts numbered from 0, five digits). */
export const parquetPartFile = (table: string, part: number): string =>
  `${parquetTableFolder(table)}/part-${String(part).padStart(5, '0')}.parquet`;

/** The record of a background job of a dataset (lambda/catalog/run-marker.ts). */
export const RUN_MARKER_FILE = '_run.json';
export const runMarkerKey = (datasetPrefix: string): string => fileKey(datasetPrefix, RUN_MARKER_FILE);

/** Where every fan-out run of a dataset keeps its parts. */
export const partsPrefixOf = (datasetPrefix: string): string => `${datasetPrefix}/_parts`;

/** Where one fan-out run keeps its parts and reports: under the dataset's prefix, per run. */
export function runPrefixOf(datasetPrefix: string, runId: string): string {
  if (!/^[A-Za-z0-9._-]{1,80}$/.test(runId)) throw new Error(`invalid run id ${JSON.stringify(runId)}`);
  return `${partsPrefixOf(datasetPrefix)}/${runId}`;
}

const shardNumber = (index: number): string => String(index).padStart(5, '0');
export const partKey = (runPrefix: string, table: string, index: number): string =>
  `${runPrefix}/${table}/${shardNumber(index)}.csv`;
export const reportKey = (runPrefix: string, index: number): string =>
  `${runPrefix}/reports/${shardNumber(index)}.json`;

/** `<root>/latest/<name>.json`: where downstream jobs find the freshest copy of a nightly fixture. */
export const latestPointerKey = (root: string, name: string): string => rootedKey(root, `latest/${name}.json`);

/** The root of the date-seeded nightly fixtures, which the bucket expires (ROLLING_PREFIX's default). */
export const rollingRoot = (root: string): string => rootedKey(root, 'rolling');

// ---------------------------------------------------------------- patterns for the stack

/** Every object under the root: what the function reads and writes (an IAM object-ARN suffix). */
export const rootObjectsPattern = (root: string): string => rootedKey(root, '*');

/** Every fan-out part of every dataset under the root: the only objects the function deletes. */
export const fanoutPartsPattern = (root: string): string => `${partsPrefixOf(rootedKey(root, '*'))}/*`;

/** The lifecycle-rule prefix that expires the rolling fixtures. */
export const rollingExpiryPrefix = (root: string): string => `${rollingRoot(root)}/`;
