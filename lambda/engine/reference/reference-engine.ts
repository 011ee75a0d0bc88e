import type { GenerationConfig } from '../../config/schema.js';
import { NumpyLegacyRandom } from '../../rng/numpy-legacy.js';
import { PythonRandom } from '../../rng/python-random.js';
import {
  halveTimedelta,
  timedeltaFromFloat,
  totalSeconds,
  US_PER_HOUR,
  US_PER_SECOND,
} from '../../time/python-timedelta.js';
import { utcTimestampSeconds } from '../../time/utc-timestamp.js';
import { cohortAssigner } from '../cohorts.js';
import { checkUserUploads } from '../upload-bound.js';
import { ITEM_50GB, ITEM_5GB, newUserBatch, reserveUploads, type UserBatch } from '../user-batch.js';
import { lognormalParams } from './rate-model.js';

// Uploads of one user are sorted by packing (second, draw index) into one exact double:
// second * INDEX_RANGE + index, with seconds below 2^25 (366 days) and indexes below 2^28.
const INDEX_RANGE = 2 ** 28;

/**
 * The reference engine: a port of reference_generator.py that reproduces its draws in order.
 * Times are integer microseconds relative to `start`, as CPython's timedelta keeps them.
 *
 * The reference draws every user's rates (numpy stream) and tier changes (Python stream) before
 * any upload, so those are drawn up front into typed arrays; the two streams are independent,
 * so uploads can then be drawn and emitted user by user.
 */
export function* referenceEngine(config: GenerationConfig): Generator<UserBatch> {
  const n = config.users;
  const startSec = utcTimestampSeconds(config.start);
  const window = (utcTimestampSeconds(config.end) - startSec) * US_PER_SECOND;
  const gap = timedeltaFromFloat(config.minTierGapHours, US_PER_HOUR);
  const cohortOf = cohortAssigner(config);
  const py = new PythonRandom(config.seed);
  const np = new NumpyLegacyRandom(config.seed);

  const drawRates = (mean: number, std: number): Float64Array => {
    const { mu, sigma } = lognormalParams(mean, std);
    const rates = new Float64Array(n);
    for (let i = 0; i < n; i++) rates[i] = np.lognormal(mu, sigma) / 24;
    return rates;
  };
  const freeRate = drawRates(config.freeUploadsPerDay.mean, config.freeUploadsPerDay.std);
  const premiumRate = drawRates(config.premiumUploadsPerDay.mean, config.premiumUploadsPerDay.std);

  const boundedRandomTime = (start: number, end: number): number => {
    if (end <= start) return start;
    const offs = py.random() * totalSeconds(end - start);
    return start + timedeltaFromFloat(offs, US_PER_SECOND);
  };
  const randomChangeTime = (low: number, high: number): number => {
    const lo = low + gap;
    const hi = high - gap;
    if (hi <= lo) return low + halveTimedelta(high - low);
    return boundedRandomTime(lo, hi);
  };

  // Tier changes; NaN where a cohort has fewer. The window and gap rules keep them ordered.
  const change1 = new Float64Array(n).fill(Number.NaN);
  const change2 = new Float64Array(n).fill(Number.NaN);
  for (let i = 0; i < n; i++) {
    const cohort = cohortOf(i + 1);
    if (cohort === 3 || cohort === 4) change1[i] = randomChangeTime(0, window);
    else if (cohort === 5) {
      const c1 = randomChangeTime(0, window - gap);
      const c2Low = c1 + gap;
      change1[i] = c1;
      change2[i] = c2Low + gap >= window ? c1 + halveTimedelta(window - c1) : randomChangeTime(c2Low, window);
    }
  }

  const share = config.premiumLargeShare;
  const spike = config.upgradeSpike;
  const batch = newUserBatch();
  let uploadUs = new Float64Array(256);
  let uploadItem = new Uint8Array(256);
  let count = 0;
  const push = (at: number, item: number): void => {
    if (count === uploadUs.length) {
      checkUserUploads(batch.userId, count + 1);
      const grownUs = new Float64Array(count * 2);
      grownUs.set(uploadUs);
      uploadUs = grownUs;
      const grownItem = new Uint8Array(count * 2);
      grownItem.set(uploadItem);
      uploadItem = grownItem;
    }
    uploadUs[count] = at;
    uploadItem[count++] = item;
  };

  // Upload counts of an interval's hourly slots. The numpy stream (counts) and the Python stream
  // (times, items) are independent, so all counts can be drawn before any time.
  let slotCounts = new Int32Array(64);
  const simulateInterval = (from: number, until: number, premium: boolean, rate: number): void => {
    const span = until - from;
    const fullSlots = span > 0 ? Math.floor(span / US_PER_HOUR) : 0;
    const slots = fullSlots + (span > fullSlots * US_PER_HOUR ? 1 : 0);
    if (slotCounts.length < slots) slotCounts = new Int32Array(slots * 2);
    np.poissonRepeat((rate * totalSeconds(US_PER_HOUR)) / 3600, fullSlots, slotCounts);
    if (slots > fullSlots) {
      const lam = (rate * totalSeconds(span - fullSlots * US_PER_HOUR)) / 3600;
      slotCounts[fullSlots] = lam > 0 ? np.poisson(lam) : 0;
    }
    for (let slot = 0; slot < slots; slot++) {
      const k = slotCounts[slot];
      if (k === 0) continue;
      const cursor = from + slot * US_PER_HOUR;
      const hourEnd = Math.min(cursor + US_PER_HOUR, until);
      for (let j = 0; j < k; j++) {
        const at = boundedRandomTime(cursor, hourEnd);
        push(at, premium && py.random() < share ? ITEM_50GB : ITEM_5GB);
      }
    }
    if (premium && from > 0 && py.random() < spike.probability) {
      const spikeEnd = Math.min(from + US_PER_HOUR, until);
      if (spikeEnd > from) {
        const spikes = 1 + (spike.maxUploads > 1 && py.random() < spike.secondUploadProbability ? 1 : 0);
        for (let j = 0; j < spikes; j++) push(boundedRandomTime(from, spikeEnd), ITEM_50GB);
      }
    }
  };

  const bounds = new Float64Array(4);
  const sorter = new UploadSorter();
  let nextTxnId = 1;
  for (let i = 0; i < n; i++) {
    const cohort = cohortOf(i + 1);
    batch.userId = i + 1;
    batch.cohort = cohort;
    batch.freeRatePerHour = freeRate[i];
    batch.premiumRatePerHour = premiumRate[i];
    let tierCount = 0;
    bounds[0] = 0;
    if (!Number.isNaN(change1[i])) bounds[++tierCount] = change1[i];
    if (!Number.isNaN(change2[i])) bounds[++tierCount] = change2[i];
    bounds[++tierCount] = window;
    batch.tierCount = tierCount;
    count = 0;
    for (let t = 0; t < batch.tierCount; t++) {
      // Cohorts 1 and 3 start premium, the others free; every change flips the tier.
      const premium = (cohort === 1 || cohort === 3) === (t % 2 === 0);
      batch.tierFrom[t] = startSec + Math.floor(bounds[t] / US_PER_SECOND);
      batch.tierUntil[t] = startSec + Math.floor(bounds[t + 1] / US_PER_SECOND);
      batch.tierIsPremium[t] = premium ? 1 : 0;
      simulateInterval(bounds[t], bounds[t + 1], premium, premium ? premiumRate[i] : freeRate[i]);
    }
    sorter.emit(batch, uploadUs, uploadItem, count, startSec, nextTxnId);
    nextTxnId += count;
    yield batch;
  }
}

/** Stable sort by the written second, as the reference's `sort(key=(user_id, datetime string))`. */
class UploadSorter {
  private keys = new Float64Array(256);

  emit(
    batch: UserBatch,
    uploadUs: Float64Array,
    uploadItem: Uint8Array,
    count: number,
    startSec: number,
    firstTxnId: number,
  ): void {
    if (count >= INDEX_RANGE) throw new Error(`user ${batch.userId} has ${count} uploads, more than one user may have`);
    if (this.keys.length < count) this.keys = new Float64Array(Math.max(count, this.keys.length * 2));
    const keys = this.keys.subarray(0, count);
    for (let j = 0; j < count; j++) keys[j] = Math.floor(uploadUs[j] / US_PER_SECOND) * INDEX_RANGE + j;
    keys.sort();
    reserveUploads(batch, count);
    for (let j = 0; j < count; j++) {
      const key = keys[j];
      const index = key % INDEX_RANGE;
      batch.uploadTxnId[j] = firstTxnId + j;
      batch.uploadItemId[j] = uploadItem[index];
      batch.uploadAt[j] = startSec + (key - index) / INDEX_RANGE;
    }
    batch.uploadCount = count;
  }
}
