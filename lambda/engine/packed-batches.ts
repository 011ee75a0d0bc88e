import type { Cohort } from './cohorts.js';
import { newUserBatch, reserveUploads, type UserBatch } from './user-batch.js';

// Per user: userId, cohort, freeRatePerHour, premiumRatePerHour, tierCount, uploadCount.
const USER_FIELDS = 6;
// Per tier interval: from, until, isPremium.
const TIER_FIELDS = 3;

function grown<T extends Float64Array | Uint8Array>(array: T, need: number): T {
  if (need <= array.length) return array;
  let size = Math.max(array.length, 64);
  while (size < need) size *= 2;
  const bigger = new (array.constructor as new (n: number) => T)(size);
  bigger.set(array);
  return bigger;
}

/** The batches of a `PackedBatches`, as posted between threads. */
export interface PackedBlock {
  users: Float64Array<ArrayBuffer>;
  tiers: Float64Array<ArrayBuffer>;
  uploadAt: Float64Array<ArrayBuffer>;
  uploadItem: Uint8Array<ArrayBuffer>;
  /** The arrays' buffers, to transfer rather than copy. */
  buffers: ArrayBuffer[];
}

/**
 * User batches kept in columns (typed arrays, reused), to be replayed later: a worker keeps a
 * block of users here while it waits to learn the block's first txn id. `uploadTxnId` is not
 * kept: whoever formats the rows numbers them.
 */
export class PackedBatches {
  private users = new Float64Array(USER_FIELDS * 1024);
  private tiers = new Float64Array(TIER_FIELDS * 2048);
  private uploadAt = new Float64Array(1 << 15);
  private uploadItem = new Uint8Array(1 << 15);
  private userCount = 0;
  private tierCount = 0;
  /** Uploads of all batches kept. */
  uploads = 0;

  /** Batches (users) kept. */
  get size(): number {
    return this.userCount;
  }

  /** Bytes the kept batches take packed. */
  get byteLength(): number {
    return 8 * (USER_FIELDS * this.userCount + TIER_FIELDS * this.tierCount) + 9 * this.uploads;
  }

  clear(): void {
    this.userCount = 0;
    this.tierCount = 0;
    this.uploads = 0;
  }

  add(batch: UserBatch): void {
    this.users = grown(this.users, (this.userCount + 1) * USER_FIELDS);
    this.tiers = grown(this.tiers, (this.tierCount + batch.tierCount) * TIER_FIELDS);
    this.uploadAt = grown(this.uploadAt, this.uploads + batch.uploadCount);
    this.uploadItem = grown(this.uploadItem, this.uploads + batch.uploadCount);
    const u = this.users;
    let at = this.userCount++ * USER_FIELDS;
    u[at++] = batch.userId;
    u[at++] = batch.cohort;
    u[at++] = batch.freeRatePerHour;
    u[at++] = batch.premiumRatePerHour;
    u[at++] = batch.tierCount;
    u[at] = batch.uploadCount;
    const tiers = this.tiers;
    let t = this.tierCount * TIER_FIELDS;
    for (let i = 0; i < batch.tierCount; i++) {
      tiers[t++] = batch.tierFrom[i];
      tiers[t++] = batch.tierUntil[i];
      tiers[t++] = batch.tierIsPremium[i];
    }
    this.tierCount += batch.tierCount;
    const uploadAt = this.uploadAt;
    const uploadItem = this.uploadItem;
    const base = this.uploads;
    for (let j = 0; j < batch.uploadCount; j++) {
      uploadAt[base + j] = batch.uploadAt[j];
      uploadItem[base + j] = batch.uploadItemId[j];
    }
    this.uploads += batch.uploadCount;
  }

  /** Copies of the batches kept, to post to another thread (transfer `buffers`). */
  pack(): PackedBlock {
    const block = {
      users: this.users.slice(0, this.userCount * USER_FIELDS),
      tiers: this.tiers.slice(0, this.tierCount * TIER_FIELDS),
      uploadAt: this.uploadAt.slice(0, this.uploads),
      uploadItem: this.uploadItem.slice(0, this.uploads),
    };
    return { ...block, buffers: Object.values(block).map((a) => a.buffer) };
  }

  /** Keeps the batches of a packed block instead of its own. */
  load(block: PackedBlock): void {
    this.users = block.users;
    this.tiers = block.tiers;
    this.uploadAt = block.uploadAt;
    this.uploadItem = block.uploadItem;
    this.userCount = block.users.length / USER_FIELDS;
    this.tierCount = block.tiers.length / TIER_FIELDS;
    this.uploads = block.uploadAt.length;
  }

  /** The batches kept, in the order added, one reused batch object at a time. */
  *batches(): Generator<UserBatch> {
    const batch = newUserBatch();
    let tier = 0;
    let upload = 0;
    for (let user = 0; user < this.userCount; user++) {
      let at = user * USER_FIELDS;
      const u = this.users;
      batch.userId = u[at++];
      batch.cohort = u[at++] as Cohort;
      batch.freeRatePerHour = u[at++];
      batch.premiumRatePerHour = u[at++];
      batch.tierCount = u[at++];
      const uploads = u[at];
      for (let i = 0; i < batch.tierCount; i++, tier++) {
        batch.tierFrom[i] = this.tiers[tier * TIER_FIELDS];
        batch.tierUntil[i] = this.tiers[tier * TIER_FIELDS + 1];
        batch.tierIsPremium[i] = this.tiers[tier * TIER_FIELDS + 2];
      }
      reserveUploads(batch, uploads);
      for (let j = 0; j < uploads; j++, upload++) {
        batch.uploadAt[j] = this.uploadAt[upload];
        batch.uploadItemId[j] = this.uploadItem[upload];
      }
      batch.uploadCount = uploads;
      yield batch;
    }
  }
}
