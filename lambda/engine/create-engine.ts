import type { GenerationConfig } from '../config/schema.js';
import { referenceEngine } from './reference/reference-engine.js';
import type { UserBatch } from './user-batch.js';

/** The user batches of a config, from the engine it names. */
export function createEngine(config: GenerationConfig): Iterable<UserBatch> {
  switch (config.engine) {
    case 'reference':
      return referenceEngine(config);
  }
}
