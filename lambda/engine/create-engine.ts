import type { GenerationConfig } from '../config/schema.js';
import { referenceEngine } from './reference/reference-engine.js';
import { seedrandomEngine } from './seedrandom/seedrandom-engine.js';
import type { UserBatch } from './user-batch.js';

/**
 * The user batches of a config, from the engine it names: users `from..to` inclusive (default all,
 * 1..config.users). Only the seedrandom engine can generate a part of the users; for the
 * reference engine (one sequential stream) any range but the full one throws.
 */
export function createEngine(config: GenerationConfig, users?: { from: number; to: number }): Iterable<UserBatch> {
  switch (config.engine) {
    case 'reference':
      if (users && (users.from !== 1 || users.to !== config.users)) {
        throw new RangeError(
          `the reference engine generates all users or none (asked for ${users.from}..${users.to} of 1..${config.users})`,
        );
      }
      return referenceEngine(config);
    case 'seedrandom':
      return seedrandomEngine(config, users);
  }
}
