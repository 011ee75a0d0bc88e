import { createHash } from 'node:crypto';
import { FORMAT_VERSION } from '../dataset/format.js';
import { canonicalJson } from './canonical-json.js';
import type { GenerationConfig } from './schema.js';

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
  return { datasetId: `seed-${config.seed}-${hash}`, configHash: hash, prefix: `seed=${config.seed}/${hash}` };
}

const DATASET_ID = /^seed-(\d+)-([0-9a-f]{16})$/;

/** The prefix of a dataset id, or undefined when the id is malformed. */
export function prefixOfDatasetId(datasetId: string): string | undefined {
  const m = DATASET_ID.exec(datasetId);
  return m ? `seed=${m[1]}/${m[2]}` : undefined;
}
