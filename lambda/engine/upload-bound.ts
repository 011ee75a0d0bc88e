import type { GenerationConfig } from '../config/schema.js';
import { OperationError } from '../errors/operation-error.js';
import { utcTimestampSeconds } from '../time/utc-timestamp.js';
import { lognormalParams } from './reference/rate-model.js';
import { normalQuantile } from './seedrandom/fast-math.js';

/**
 * The most uploads one user may have. A user's uploads are held whole in typed arrays (17 bytes
 * each in a batch, about as much again while an engine sorts or packs them), so this caps one
 * user's memory at about 70 MB whatever the config; their rows are written out in chunks.
 */
export const MAX_USER_UPLOADS = 2_000_000;

/**
 * The chance, over a whole run, that some user's rate exceeds the bound `userUploadBound` takes:
 * the bound uses the rate at the lognormal's 1 − RATE_TAIL / (2 · users) quantile (each user
 * draws two rates), so a config it lets through meets the engines' hard limit about once in a
 * million runs, and then fails with a one-line error.
 */
const RATE_TAIL = 1e-6;
// Poisson counts: λ + Z·√λ + Z is beyond the 1e-12 upper tail for any λ (normal tail for large λ, the +Z for small).
const COUNT_Z = 7;
// An upgrade adds up to `upgradeSpike.maxUploads` spike uploads; a user upgrades at most once (cohorts 4 and 5).
const MAX_UPGRADES = 1;

export interface UserUploadBound {
  uploads: number;
  /** The rate whose tail gives the bound. */
  field: 'freeUploadsPerDay' | 'premiumUploadsPerDay';
}

/**
 * An upper bound on one user's uploads, from the config alone: the larger rate at a far tail
 * quantile (see RATE_TAIL) over the whole window, the Poisson count's far tail on top, plus the spikes.
 */
export function userUploadBound(
  config: Pick<
    GenerationConfig,
    'users' | 'start' | 'end' | 'freeUploadsPerDay' | 'premiumUploadsPerDay' | 'upgradeSpike'
  >,
): UserUploadBound {
  const days = (utcTimestampSeconds(config.end) - utcTimestampSeconds(config.start)) / 86_400;
  const z = -normalQuantile(RATE_TAIL / (2 * config.users));
  const tailRate = (rate: { mean: number; std: number }): number => {
    const { mu, sigma } = lognormalParams(rate.mean, rate.std);
    return Math.exp(mu + z * sigma);
  };
  const free = tailRate(config.freeUploadsPerDay);
  const premium = tailRate(config.premiumUploadsPerDay);
  const lambda = Math.max(free, premium) * days;
  return {
    uploads: Math.ceil(lambda + COUNT_Z * Math.sqrt(lambda) + COUNT_Z) + MAX_UPGRADES * config.upgradeSpike.maxUploads,
    field: free > premium ? 'freeUploadsPerDay' : 'premiumUploadsPerDay',
  };
}

/** The engines' hard limit, where a user's upload arrays grow: a one-line error rather than running out of memory. */
export function checkUserUploads(userId: number, uploads: number): void {
  if (uploads > MAX_USER_UPLOADS) {
    throw new OperationError(
      `generating user ${userId}: more than ${MAX_USER_UPLOADS} uploads, the most one user may have (lower the upload rates' mean or std, or the window)`,
    );
  }
}
