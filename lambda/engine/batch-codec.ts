import type { Cohort } from './cohorts.js';
import { newUserBatch, reserveUploads, type UserBatch } from './user-batch.js';

/**
 * User batches packed into one Float64Array, so a run of them crosses a thread boundary as a
 * single transferred buffer. Per user: userId, cohort, freeRatePerHour, premiumRatePerHour,
 * tierCount, uploadCount, then (from, until, isPremium) per tier and (txnId, itemId, at) per upload.
 */
const USER_HEADER = 6;

export class BatchPacker {
  private data: Float64Array;
  private length = 0;
  users = 0;

  constructor(private readonly capacity: number) {
    this.data = new Float64Array(capacity);
  }

  get size(): number {
    return this.length;
  }

  add(batch: UserBatch): void {
    const need = USER_HEADER + 3 * batch.tierCount + 3 * batch.uploadCount;
    if (this.length + need > this.data.length) {
      const grown = new Float64Array(Math.max(this.data.length * 2, this.length + need));
      grown.set(this.data.subarray(0, this.length));
      this.data = grown;
    }
    const d = this.data;
    let at = this.length;
    d[at++] = batch.userId;
    d[at++] = batch.cohort;
    d[at++] = batch.freeRatePerHour;
    d[at++] = batch.premiumRatePerHour;
    d[at++] = batch.tierCount;
    d[at++] = batch.uploadCount;
    for (let t = 0; t < batch.tierCount; t++) {
      d[at++] = batch.tierFrom[t];
      d[at++] = batch.tierUntil[t];
      d[at++] = batch.tierIsPremium[t];
    }
    for (let j = 0; j < batch.uploadCount; j++) {
      d[at++] = batch.uploadTxnId[j];
      d[at++] = batch.uploadItemId[j];
      d[at++] = batch.uploadAt[j];
    }
    this.length = at;
    this.users++;
  }

  /** A view of the packed batches so far (transfer its buffer), and a fresh buffer for the next ones. */
  take(): Float64Array {
    const out = this.data.subarray(0, this.length);
    this.data = new Float64Array(this.capacity);
    this.length = 0;
    this.users = 0;
    return out;
  }
}

/** The batches of a packed buffer, one reused batch object at a time. */
export function* unpackBatches(data: Float64Array): Generator<UserBatch> {
  const batch = newUserBatch();
  let at = 0;
  while (at < data.length) {
    batch.userId = data[at++];
    batch.cohort = data[at++] as Cohort;
    batch.freeRatePerHour = data[at++];
    batch.premiumRatePerHour = data[at++];
    batch.tierCount = data[at++];
    const uploads = data[at++];
    for (let t = 0; t < batch.tierCount; t++) {
      batch.tierFrom[t] = data[at++];
      batch.tierUntil[t] = data[at++];
      batch.tierIsPremium[t] = data[at++];
    }
    reserveUploads(batch, uploads);
    for (let j = 0; j < uploads; j++) {
      batch.uploadTxnId[j] = data[at++];
      batch.uploadItemId[j] = data[at++];
      batch.uploadAt[j] = data[at++];
    }
    batch.uploadCount = uploads;
    yield batch;
  }
}
