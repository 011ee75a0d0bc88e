import type { GenerationConfig } from '../config/schema.js';
import { referenceEngine } from './reference/reference-engine.js';
import { seedrandomEngine, type SeedrandomEngineOptions } from './seedrandom/seedrandom-engine.js';
import type { UserBatch } from './user-batch.js';

/** Engine options that are not part of the config (they do not change which dataset a config names). */
export type EngineOptions = SeedrandomEngineOptions;

/**
 * The user batches of a config, from the engine it names: users `from..to` inclusive (default all,
 * 1..config.users). Only the seedrandom engine can generate a part of the users; for the
 * reference engine (one sequential stream) any range but the full one throws. `options` (not part
 * of the config): `uploadVariant` draws other uploads for the same users, tiers and rates
 * (seedrandom only; the reference engine takes only variant 0).
 */
export function createEngine(
  config: GenerationConfig,
  users?: { from: number; to: number },
  options?: EngineOptions,
): Iterable<UserBatch> {
  switch (config.engine) {
    case 'reference':
      if ((options?.uploadVariant ?? 0) !== 0) {
        throw new RangeError(
          `the reference engine has one upload stream (asked for uploadVariant ${options?.uploadVariant})`,
        );
      }
      if (users && (users.from !== 1 || users.to !== config.users)) {
        throw new RangeError(
          `the reference engine generates all users or none (asked for ${users.from}..${users.to} of 1..${config.users})`,
        );
      }
      return referenceEngine(config);
    case 'seedrandom':
      return seedrandomEngine(config, users, options);
  }
}
