import type { Cohort } from './cohorts.js';
import { checkUserUploads } from './upload-bound.js';

export type Tier = 'free' | 'premium';

export const ITEM_5GB = 1;
export const ITEM_50GB = 2;

/**
 * Everything one user contributes to the dataset, in the values as written: times are epoch
 * seconds (the CSVs' second precision), uploads already in output order with their txn ids.
 * Engines reuse one batch per run; it is valid until the next one is produced.
 */
export interface UserBatch {
  userId: number;
  cohort: Cohort;
  /** The user's latent upload rates (uploads per hour) drawn by the engine, while free and while premium. */
  freeRatePerHour: number;
  premiumRatePerHour: number;
  tierCount: number;
  tierFrom: Float64Array;
  tierUntil: Float64Array;
  tierIsPremium: Uint8Array;
  uploadCount: number;
  uploadTxnId: Float64Array;
  uploadItemId: Uint8Array;
  uploadAt: Float64Array;
}

export function newUserBatch(): UserBatch {
  return {
    userId: 0,
    cohort: 1,
    freeRatePerHour: 0,
    premiumRatePerHour: 0,
    tierCount: 0,
    tierFrom: new Float64Array(3),
    tierUntil: new Float64Array(3),
    tierIsPremium: new Uint8Array(3),
    uploadCount: 0,
    uploadTxnId: new Float64Array(256),
    uploadItemId: new Uint8Array(256),
    uploadAt: new Float64Array(256),
  };
}

/** Grows the upload arrays of a batch to hold at least `n` uploads, keeping the first `keep` (default none). */
export function reserveUploads(batch: UserBatch, n: number, keep = 0): void {
  if (batch.uploadAt.length >= n) return;
  checkUserUploads(batch.userId, n);
  let size = batch.uploadAt.length;
  while (size < n) size *= 2;
  const txn = new Float64Array(size);
  const item = new Uint8Array(size);
  const at = new Float64Array(size);
  txn.set(batch.uploadTxnId.subarray(0, keep));
  item.set(batch.uploadItemId.subarray(0, keep));
  at.set(batch.uploadAt.subarray(0, keep));
  batch.uploadTxnId = txn;
  batch.uploadItemId = item;
  batch.uploadAt = at;
}

export function tierName(isPremium: number): Tier {
  return isPremium ? 'premium' : 'free';
}

/** The batch a resumable row writer or cursor was started on: using one before its start is a bug. */
export function startedBatch<T>(batch: T | undefined): T {
  if (batch === undefined) throw new Error('a row writer was used before it was started on a user');
  return batch;
}
