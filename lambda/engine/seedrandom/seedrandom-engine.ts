import type { GenerationConfig } from '../../config/schema.js';
import { exp } from '../../libm/exp.js';
import { log } from '../../libm/log.js';
import { timedeltaFromFloat, US_PER_HOUR, US_PER_SECOND } from '../../time/python-timedelta.js';
import { parseUtcTimestamp } from '../../time/utc-timestamp.js';
import { cohortAssigner, type Cohort } from '../cohorts.js';
import { lognormalParams } from '../reference/rate-model.js';
import { ITEM_50GB, ITEM_5GB, newUserBatch, reserveUploads, type UserBatch } from '../user-batch.js';
import { aleaFill, aleaNext, MAX_UPLOAD_VARIANT, PROFILE_STREAM, seedUserStream, streamKeys, uploadStream } from './user-stream.js';

/**
 * The `seedrandom` engine: the reference's model, but every user's data comes only from that
 * user's own random streams, so any range of users can be generated on its own (threads, shards)
 * and yields exactly what the full run yields for those users.
 *
 * Streams. Two per (seed, user id), each the `seedrandom` package's alea generator started from a
 * state hashed from (seed, user id, purpose) (`user-stream.ts`: `seedrandom.alea('', { state:
 * userStreamState(seed, userId, purpose) })` replays it draw for draw; the engine runs the same
 * recurrence inline). The profile stream (PROFILE_STREAM): the rates' polar pair, then the two
 * tier-change uniforms (cohorts 3..5 only). The upload stream (`uploadStream(uploadVariant)`): per
 * tier interval the Poisson counts, the upload seconds and the spike draws. The option
 * `uploadVariant` (default 0, the published data) picks another upload stream: the same tiers and
 * rates with independent uploads (Monte-Carlo replicates of a dataset).
 *
 * Generator: alea, not xor4096. Both are deterministic integer/float code and pass BigCrush per
 * their authors; alea's draw is ~2x cheaper, its whole state is four numbers (so a user's stream
 * starts from a hashed state for free), and xor4096's long period (2^4128) buys nothing for
 * streams of a few hundred draws.
 *
 * Determinism. Only `+ - * /`, Math.sqrt/floor/min/max/imul and the project's exact libm exp/log
 * (never Math.exp/log/pow), so the same config gives the same bytes on any machine.
 *
 * Times are whole epoch seconds; relative to the window start they are integers in [0, W).
 *  - Rates: a Marsaglia polar pair of standard normals z1, z2;
 *    free = exp(mu_f + sigma_f z1) / 24, premium = exp(mu_p + sigma_p z2) / 24 uploads per hour,
 *    with the reference's lognormalParams.
 *  - Tier changes: the reference's placement rules on whole seconds, with the gap G = the
 *    reference's microsecond gap rounded UP to whole seconds. `change(low, high)` is uniform on
 *    the seconds [low+G, high-G) when that range is non-empty, else the midpoint
 *    low + floor((high-low)/2). Cohorts 3/4: c = change(0, W). Cohort 5: c1 = change(0, W-G),
 *    then c2 = c1 + floor((W-c1)/2) if c1 + 2G >= W, else change(c1+G, W) (so, as in the
 *    reference, c2 >= c1 + 2G when the window allows). Then the structure is made valid on whole
 *    seconds, which only matters for windows shorter than about 3G (where the reference itself
 *    breaks the gap): every change in [1, W-1] (no zero-length interval) and c2 >= c1 + max(G, 1);
 *    if c2 would pass W-1 the pair is shifted down to (W-1-max(G,1), W-1); if even that does not
 *    fit (W < max(G,1) + 2), the cohort-5 user keeps only its first change (free -> premium); with
 *    W < 2 no change fits at all and cohorts 3..5 keep their first tier for the whole window.
 *  - Uploads per tier interval [a, b): a Poisson count with mean rate * (b-a) / 3600, each at a
 *    uniform second of [a, b) (a Poisson process, truncated to the second as the reference's
 *    rows are). Premium uploads are 50 GB with probability premiumLargeShare, drawn as two
 *    independent Poisson counts, mean * share of 50 GB and mean * (1 - share) of 5 GB (thinning a
 *    Poisson process gives exactly that), so an upload costs one uniform. An interval that
 *    starts a premium period after the window start (an upgrade) gets the spike: with probability
 *    upgradeSpike.probability one 50 GB upload, plus a second with secondUploadProbability when
 *    maxUploads is 2, each at a uniform second of [a, min(a + 3600, b)). Every upload lies in its
 *    interval at second precision, so a 50 GB upload is never at a free second.
 *  - Per user, uploads are sorted by second (ties: 5 GB first; a counting sort on the keys' top
 *    bits, then insertion), numbered 1.. in output order within the call (a range starts at 1;
 *    consumers renumber globally).
 */
export function seedrandomEngine(
  config: GenerationConfig,
  users?: { from: number; to: number },
  options?: SeedrandomEngineOptions,
): Generator<UserBatch> {
  const from = users?.from ?? 1;
  const to = users?.to ?? config.users;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to > config.users) {
    throw new RangeError(`user range ${from}..${to} is not within 1..${config.users}`);
  }
  const variant = options?.uploadVariant ?? 0;
  if (!Number.isInteger(variant) || variant < 0 || variant > MAX_UPLOAD_VARIANT) {
    throw new RangeError(`uploadVariant ${variant} is not an integer 0..${MAX_UPLOAD_VARIANT}`);
  }
  return generateUsers(new UserGenerator(config, variant), from, to);
}

/** Options of the seedrandom engine that are not part of the config (they do not name a dataset). */
export interface SeedrandomEngineOptions {
  /**
   * Which upload stream (default 0: the published dataset's). Another variant keeps every user's
   * cohort, rates and tiers and draws independent uploads from the same model.
   */
  uploadVariant?: number;
}

function* generateUsers(gen: UserGenerator, from: number, to: number): Generator<UserBatch> {
  const batch = newUserBatch();
  let nextTxnId = 1;
  for (let uid = from; uid <= to; uid++) {
    gen.fill(batch, uid, nextTxnId);
    nextTxnId += batch.uploadCount;
    yield batch;
  }
}

// Poisson means are sampled in chunks of at most POISSON_CHUNK (a sum of independent Poissons is
// Poisson), so exp(-mean) never underflows and inversion stays short; the cost is O(mean), as is
// placing the uploads drawn.
const POISSON_CHUNK = 16;
const EXP_MINUS_CHUNK = exp(-POISSON_CHUNK);
// 1/k for the inversion's recurrence p_k = p_{k-1} * mean / k, as a multiplication (a division is
// ~4x slower and the recurrence is one serial chain). For a mean <= 16 the search ends long before
// k = 127 (P(K >= 80) < 2^-60, below alea's 2^-32 resolution); the bound only guards the table.
const RECIPROCALS = Float64Array.from({ length: 128 }, (_, k) => (k === 0 ? 0 : 1 / k));

/** Inversion: the smallest k with u <= P(K <= k), K ~ Poisson(mean), p0 = exp(-mean). */
function poissonInversion(mean: number, p0: number, u: number): number {
  let k = 0;
  let p = p0;
  let cdf = p;
  while (u > cdf && k < 127) {
    k++;
    p = p * mean * RECIPROCALS[k];
    cdf += p;
  }
  return k;
}

// exp(-mean) for the last chunk without a libm call (~30 ns): mean = j/64 + r with 0 <= r < 1/64,
// exp(-mean) = EXP_MINUS_64THS[j] * exp(-r), the table from the exact libm exp once per process and
// exp(-r) from its Taylor series to r^6 (the next term is below 5e-17, under half an ulp of 1):
// only + - * /, so the same bits on every machine.
const EXP_MINUS_64THS = Float64Array.from({ length: POISSON_CHUNK * 64 + 1 }, (_, j) => exp(-j / 64));
function expMinus(mean: number): number {
  const j = Math.floor(mean * 64);
  const r = mean - j / 64;
  return EXP_MINUS_64THS[j] * (1 - r * (1 - r * (1 / 2) * (1 - r * (1 / 3) * (1 - r * (1 / 4) * (1 - r * (1 / 5) * (1 - r * (1 / 6)))))));
}

/** A Poisson count: chunks of 16 with the constant exp(-16), then the rest (<= 16). */
function poisson(mean: number, st: Float64Array): number {
  if (!(mean > 0)) return 0;
  let k = 0;
  let rest = mean;
  while (rest > POISSON_CHUNK) {
    k += poissonInversion(POISSON_CHUNK, EXP_MINUS_CHUNK, aleaNext(st));
    rest -= POISSON_CHUNK;
  }
  return k + poissonInversion(rest, expMinus(rest), aleaNext(st));
}

/** The per-run constants and reused buffers; `fill` writes one user into a batch. */
class UserGenerator {
  private readonly seed: number;
  private readonly startSec: number;
  private readonly W: number;
  private readonly G: number;
  private readonly G1: number;
  private readonly cohortOf: (uid: number) => Cohort;
  private readonly freeMu: number;
  private readonly freeSigma: number;
  private readonly premiumMu: number;
  private readonly premiumSigma: number;
  private readonly share: number;
  private readonly spikeP: number;
  private readonly secondP: number;
  private readonly profileKeys = streamKeys(PROFILE_STREAM);
  private readonly uploadKeys: Int32Array;
  /** The alea state [s0, s1, s2, c] of the user's stream being drawn from. */
  private readonly st = new Float64Array(4);
  /** Tier boundaries, relative seconds. */
  private readonly bounds = new Float64Array(4);
  /** Upload keys of the current user: relative second * 2 + (50 GB ? 1 : 0). */
  private keys = new Int32Array(256);
  /** The sort's output and bucket counts, and the bits of a key (keys < 2W). */
  private sorted = new Int32Array(256);
  private counts = new Int32Array(513);
  private readonly keyBits: number;
  /** Uniforms of the current tier interval's uploads. */
  private uniforms = new Float64Array(256);

  constructor(config: GenerationConfig, uploadVariant: number) {
    this.seed = config.seed;
    this.uploadKeys = streamKeys(uploadStream(uploadVariant));
    this.startSec = parseUtcTimestamp(config.start)!;
    this.W = parseUtcTimestamp(config.end)! - this.startSec;
    const gapUs = timedeltaFromFloat(config.minTierGapHours, US_PER_HOUR);
    this.G = -Math.floor(-gapUs / US_PER_SECOND); // ceil: the gap in whole seconds, never shorter
    this.G1 = Math.max(this.G, 1);
    let keyBits = 1;
    while (1 << keyBits < 2 * this.W) keyBits++;
    this.keyBits = keyBits;
    this.cohortOf = cohortAssigner(config);
    const free = lognormalParams(config.freeUploadsPerDay.mean, config.freeUploadsPerDay.std);
    const premium = lognormalParams(config.premiumUploadsPerDay.mean, config.premiumUploadsPerDay.std);
    this.freeMu = free.mu;
    this.freeSigma = free.sigma;
    this.premiumMu = premium.mu;
    this.premiumSigma = premium.sigma;
    this.share = config.premiumLargeShare;
    this.spikeP = config.upgradeSpike.probability;
    this.secondP = config.upgradeSpike.maxUploads > 1 ? config.upgradeSpike.secondUploadProbability : 0;
  }

  /** A uniform second in [low+G, high-G) when that is non-empty, else the midpoint. */
  private change(u: number, low: number, high: number): number {
    const lo = low + this.G;
    const hi = high - this.G;
    return hi > lo ? lo + Math.floor(u * (hi - lo)) : low + Math.floor((high - low) / 2);
  }

  fill(batch: UserBatch, uid: number, firstTxnId: number): void {
    const st = this.st;
    seedUserStream(st, this.profileKeys, this.seed, uid);
    const cohort = this.cohortOf(uid);
    batch.userId = uid;
    batch.cohort = cohort;

    // Rates: a polar pair of standard normals.
    let x: number;
    let y: number;
    let s: number;
    do {
      x = 2 * aleaNext(st) - 1;
      y = 2 * aleaNext(st) - 1;
      s = x * x + y * y;
    } while (s >= 1 || s === 0);
    const f = Math.sqrt((-2 * log(s)) / s);
    const freeRate = exp(this.freeMu + this.freeSigma * x * f) / 24;
    const premiumRate = exp(this.premiumMu + this.premiumSigma * y * f) / 24;
    batch.freeRatePerHour = freeRate;
    batch.premiumRatePerHour = premiumRate;

    // Tier changes, relative seconds.
    const W = this.W;
    const G = this.G;
    const bounds = this.bounds;
    let changes = 0;
    if (cohort >= 3 && W >= 2) {
      const u1 = aleaNext(st);
      const u2 = aleaNext(st);
      let c1: number;
      let c2 = -1;
      if (cohort === 5) {
        const G1 = this.G1;
        c1 = this.change(u1, 0, W - G);
        c2 = c1 + 2 * G >= W ? c1 + Math.floor((W - c1) / 2) : this.change(u2, c1 + G, W);
        c1 = Math.min(Math.max(c1, 1), W - 1);
        c2 = Math.max(c2, c1 + G1);
        if (c2 > W - 1) {
          c2 = W - 1;
          c1 = c2 - G1;
          if (c1 < 1) {
            c1 = Math.min(Math.max(this.change(u1, 0, W), 1), W - 1);
            c2 = -1;
          }
        }
      } else {
        c1 = Math.min(Math.max(this.change(u1, 0, W), 1), W - 1);
      }
      bounds[++changes] = c1;
      if (c2 >= 0) bounds[++changes] = c2;
    }
    bounds[0] = 0;
    bounds[changes + 1] = W;
    const tierCount = changes + 1;
    batch.tierCount = tierCount;

    // Uploads, from the upload stream: per tier interval a Poisson count at uniform seconds; keys sorted per user.
    seedUserStream(st, this.uploadKeys, this.seed, uid);
    const startSec = this.startSec;
    const share = this.share;
    let keys = this.keys;
    let count = 0;
    for (let t = 0; t < tierCount; t++) {
      // Cohorts 1 and 3 start premium, the others free; every change flips the tier.
      const isPremium = (cohort === 1 || cohort === 3) === ((t & 1) === 0);
      const a = bounds[t];
      const b = bounds[t + 1];
      batch.tierFrom[t] = startSec + a;
      batch.tierUntil[t] = startSec + b;
      batch.tierIsPremium[t] = isPremium ? 1 : 0;
      const span = b - a;
      const mean = ((isPremium ? premiumRate : freeRate) * span) / 3600;
      // Premium: the 50 GB and the 5 GB uploads as two independent Poisson processes (thinning).
      const nLarge = isPremium ? poisson(mean * share, st) : 0;
      const n = nLarge + poisson(isPremium ? mean * (1 - share) : mean, st);
      if (count + n + 2 > keys.length) {
        const grown = new Int32Array(Math.max(keys.length * 2, count + n + 2));
        grown.set(keys.subarray(0, count));
        this.keys = keys = grown;
        this.uniforms = new Float64Array(grown.length);
      }
      const u = this.uniforms;
      aleaFill(st, u, n);
      const base = 2 * a;
      for (let j = 0; j < nLarge; j++) keys[count++] = base + 2 * Math.floor(u[j] * span) + 1;
      for (let j = nLarge; j < n; j++) keys[count++] = base + 2 * Math.floor(u[j] * span);
      if (isPremium && a > 0 && aleaNext(st) < this.spikeP) {
        const spikeSpan = Math.min(3600, span);
        keys[count++] = base + 2 * Math.floor(aleaNext(st) * spikeSpan) + 1;
        if (this.secondP > 0 && aleaNext(st) < this.secondP) keys[count++] = base + 2 * Math.floor(aleaNext(st) * spikeSpan) + 1;
      }
    }

    if (this.sorted.length < keys.length) {
      this.sorted = new Int32Array(keys.length);
      this.counts = new Int32Array(keys.length * 2 + 1);
    }
    const sorted = sortKeys(keys, this.sorted, this.counts, count, this.keyBits);
    reserveUploads(batch, count);
    const txn = batch.uploadTxnId;
    const item = batch.uploadItemId;
    const at = batch.uploadAt;
    for (let j = 0; j < count; j++) {
      const key = sorted[j];
      txn[j] = firstTxnId + j;
      item[j] = key & 1 ? ITEM_50GB : ITEM_5GB;
      at[j] = startSec + (key >> 1);
    }
    batch.uploadCount = count;
  }
}

/**
 * Ascending sort of keys[0..n), keys in [0, 2^keyBits): a counting sort on the top bits into
 * `out` (about one key a bucket), then an insertion sort that only fixes order within buckets.
 * Returns the array holding the sorted keys (`out`, or `keys` itself for n <= 16).
 */
function sortKeys(keys: Int32Array, out: Int32Array, counts: Int32Array, n: number, keyBits: number): Int32Array {
  let sorted = keys;
  if (n > 16) {
    let bucketBits = 4;
    while (1 << bucketBits < n && bucketBits < keyBits) bucketBits++;
    const shift = keyBits - bucketBits;
    const m = 1 << bucketBits;
    counts.fill(0, 0, m + 1);
    for (let i = 0; i < n; i++) counts[(keys[i] >>> shift) + 1]++;
    for (let b = 1; b < m; b++) counts[b] += counts[b - 1];
    for (let i = 0; i < n; i++) out[counts[keys[i] >>> shift]++] = keys[i];
    sorted = out;
  }
  for (let i = 1; i < n; i++) {
    const k = sorted[i];
    let j = i - 1;
    while (j >= 0 && sorted[j] > k) {
      sorted[j + 1] = sorted[j];
      j--;
    }
    sorted[j + 1] = k;
  }
  return sorted;
}
