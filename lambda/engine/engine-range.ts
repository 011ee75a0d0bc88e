import type { GenerationConfig } from '../config/schema.js';
import { createEngine } from './create-engine.js';
import type { UserBatch } from './user-batch.js';

/** Engines whose users can be generated in any split (each user's data depends on seed and id only). */
export function supportsUserRanges(config: GenerationConfig): boolean {
  return (config.engine as string) === 'seedrandom';
}

/**
 * The batches of users from..to (inclusive), in user order. Their `uploadTxnId`s are numbered from
 * 1 within the call: consumers renumber them. Only engines that `supportsUserRanges` accept it.
 */
export function engineRange(config: GenerationConfig, users: { from: number; to: number }): Iterable<UserBatch> {
  if (users.from === 1 && users.to === config.users) return createEngine(config);
  if (!supportsUserRanges(config)) {
    throw new Error(
      `the ${config.engine} engine generates users as one sequential stream: it cannot generate users ${users.from}..${users.to} alone`,
    );
  }
  return (createEngine as (c: GenerationConfig, u?: { from: number; to: number }) => Iterable<UserBatch>)(
    config,
    users,
  );
}

/** Packed doubles per block of users that threads hand around: ~0.5 MiB of batches, ~600 users (~1.4 MB of CSV) at the default rates. */
const BLOCK_DOUBLES = 1 << 16;

/**
 * Users per block for parallel generation: about `chunkDoubles` of packed batches (estimated from
 * the rates), so a thread keeps a few blocks in flight while another works on one.
 */
export function blockUsersFor(config: GenerationConfig, chunkDoubles = BLOCK_DOUBLES): number {
  const days = (Date.parse(config.end) - Date.parse(config.start)) / 86_400_000;
  const uploadsPerUser = days * Math.max(config.freeUploadsPerDay.mean, config.premiumUploadsPerDay.mean) + 2;
  const doublesPerUser = 4 + 9 + 3 * uploadsPerUser;
  return Math.max(16, Math.min(65_536, Math.floor(chunkDoubles / doublesPerUser)));
}
