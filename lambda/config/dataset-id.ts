import { createHash } from 'node:crypto';
import { FORMAT_VERSION } from '../layout/format.js';
import { datasetFolder } from '../layout/key-layout.js';
import { canonicalJson } from './canonical-json.js';
import { MAX_SEED, type GenerationConfig } from './schema.js';

/** First 16 hex digits of SHA-256 over the canonical normalized config and the format version. */
export function configHash(config: GenerationConfig): string {
  const text = canonicalJson({ config, formatVersion: FORMAT_VERSION });
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

export interface DatasetAddress {
  datasetId: string;
  configHash: string;
  /** Relative prefix of the dataset under a storage root: `seed=<seed>/<configHash>`. */
  prefix: string;
}

export function datasetAddress(config: GenerationConfig): DatasetAddress {
  const hash = configHash(config);
  return { datasetId: `seed-${config.seed}-${hash}`, configHash: hash, prefix: datasetFolder(config.seed, hash) };
}

const HASH = '[0-9a-f]{16}';
/** A config hash as it names a dataset's folder (`configHash`). */
export const CONFIG_HASH = new RegExp(`^${HASH}$`);
// The seed as `datasetAddress` writes it: a decimal without leading zeros (its range checked apart).
const DATASET_ID = new RegExp(`^seed-(0|[1-9]\\d{0,9})-(${HASH})$`);

export const DATASET_ID_RULE = `must be a dataset id: seed-<seed>-<16 hex digits>, the seed from 0 to ${MAX_SEED} without leading zeros, e.g. seed-42-720719fc1c192748`;

/** The prefix of a dataset id, or undefined when the id is malformed (`DATASET_ID_RULE`). */
export function prefixOfDatasetId(datasetId: string): string | undefined {
  const m = DATASET_ID.exec(datasetId);
  return m && Number(m[1]) <= MAX_SEED ? datasetFolder(m[1], m[2]) : undefined;
}
