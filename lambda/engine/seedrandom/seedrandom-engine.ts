import type { GenerationConfig } from '../../config/schema.js';
import { timedeltaFromFloat, US_PER_HOUR, US_PER_SECOND } from '../../time/python-timedelta.js';
import { utcTimestampSeconds } from '../../time/utc-timestamp.js';
import { cohortAssigner, type Cohort } from '../cohorts.js';
import { lognormalParams } from '../reference/rate-model.js';
import { newUserBatch, type UserBatch } from '../user-batch.js';
import { drawIntervalUploads, newUploadState, setUploadRates } from './poisson-process.js';
import { fastExp, normalQuantile } from './fast-math.js';
import {
  aleaNext,
  MAX_UPLOAD_VARIANT,
  PROFILE_STREAM,
  seedStream,
  streamKeys,
  uploadStream,
  userKey,
} from './user-stream.js';

/**
 * The `seedrandom` engine: the reference's model, but every user's data comes only from that
 * user's own random streams, so any range of users can be generated on its own (threads, shards)
 * and yields exactly what the full run yields for those users.
 *
 * Streams. Two per (seed, user id), each the `seedrandom` package's alea generator started from a
 * state hashed from (seed, user id, purpose) (`user-stream.ts`: `seedrandom.alea('', { state:
 * userStreamState(seed, userId, purpose) })` replays it draw for draw; the engine runs the same
 * recurrence inline). Both start from one user key (`userKey`). The profile stream
 * (PROFILE_STREAM): the two rates' uniforms, then the two tier-change uniforms (cohorts 3..5 only). The upload stream (`uploadStream(uploadVariant)`): per
 * tier interval, the spike draws (upgrades only), then one uniform per upload and one that ends
 * the interval. The option `uploadVariant` (default 0, the published data) picks another upload
 * stream: the same tiers and rates with independent uploads (Monte-Carlo replicates of a dataset).
 *
 * Generator: alea, not xor4096. Both are deterministic integer/float code and pass BigCrush per
 * their authors; alea's draw is ~2x cheaper, its whole state is four numbers (so a user's stream
 * starts from a hashed state for free), and xor4096's long period (2^4128) buys nothing for
 * streams of a few hundred draws.
 *
 * Determinism. Only `+ - * /`, Math.sqrt/floor/min/max/imul/clz32, the project's exact libm
 * exp/log and `fast-math.ts` (tables from that libm, then polynomials) — never Math.exp/log/pow —
 * so the same config gives the same bytes on any machine.
 *
 * Times are whole epoch seconds; relative to the window start they are integers in [0, W).
 *  - Rates: standard normals z1, z2 by the inverse normal CDF (`normalQuantile`, Acklam's
 *    approximation, relative error < 1.2e-9) of two uniforms' midpoints u + 2^-33;
 *    free = exp(mu_f + sigma_f z1) / 24, premium = exp(mu_p + sigma_p z2) / 24 uploads per hour,
 *    with the reference's lognormalParams (exp by `fastExp`).
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
 *  - Uploads per tier interval [a, b) (`poisson-process.ts`): a Poisson process of the tier's
 *    rate, drawn in time order as exponential spacings (T += E * 3600 / rate from T = a, E a
 *    standard exponential by a 256-layer ziggurat, while T < b), each upload at the second
 *    floor(T) (truncated to the second as the reference's rows are). So there is no Poisson count
 *    to draw and nothing to sort: ~1 uniform per upload (1.01 with the ziggurat's rare slow path)
 *    and one more that ends the interval. Premium uploads are 50 GB with probability
 *    premiumLargeShare (thinning: the 50 GB and the 5 GB uploads are independent Poisson
 *    processes), and the same uniform picks the item and the spacing: its 32 bits j < J
 *    (J = round(share * 2^32)) mean 50 GB, else 5 GB, and j's position within its side, uniform,
 *    gives the ziggurat its layer and fraction (so the share is rounded to a multiple of 2^-32, and
 *    a share below ~2^-20 leaves the 50 GB side a coarse grid, with no effect a test of a realistic
 *    size could see).
 *    An interval that starts a premium period after the window start (an upgrade) gets the spike:
 *    with probability upgradeSpike.probability one 50 GB upload, plus a second with
 *    secondUploadProbability when maxUploads is 2, each at a uniform second of
 *    [a, min(a + 3600, b)), merged into the process in time order (a spike before a process upload
 *    of the same second). Every upload lies in its interval at second precision, so a 50 GB upload
 *    is never at a free second.
 *  - Uploads are numbered 1.. in output order within the call (a range starts at 1; consumers
 *    renumber globally).
 */
export function seedrandomEngine(
  config: GenerationConfig,
  users?: { from: number; to: number },
  options?: SeedrandomEngineOptions,
): IterableIterator<UserBatch> {
  const from = users?.from ?? 1;
  const to = users?.to ?? config.users;
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to > config.users) {
    throw new RangeError(`user range ${from}..${to} is not within 1..${config.users}`);
  }
  const variant = options?.uploadVariant ?? 0;
  if (!Number.isInteger(variant) || variant < 0 || variant > MAX_UPLOAD_VARIANT) {
    throw new RangeError(`uploadVariant ${variant} is not an integer 0..${MAX_UPLOAD_VARIANT}`);
  }
  return new UserRun(new UserGenerator(config, variant), from, to);
}

/** Options of the seedrandom engine that are not part of the config (they do not name a dataset). */
export interface SeedrandomEngineOptions {
  /**
   * Which upload stream (default 0: the published dataset's). Another variant keeps every user's
   * cohort, rates and tiers and draws independent uploads from the same model.
   */
  uploadVariant?: number;
}

/**
 * Users from..to, one batch each: an iterator object rather than a generator function, so a user
 * costs a `fill` and no allocation (a generator makes a result object per step and resumes a
 * suspended frame).
 */
class UserRun implements IterableIterator<UserBatch> {
  private readonly batch = newUserBatch();
  private readonly result: IteratorYieldResult<UserBatch> = { done: false, value: this.batch };
  private nextTxnId = 1;

  constructor(
    private readonly gen: UserGenerator,
    private uid: number,
    private readonly to: number,
  ) {}

  next(): IteratorResult<UserBatch> {
    if (this.uid > this.to) return { done: true, value: undefined };
    this.gen.fill(this.batch, this.uid++, this.nextTxnId);
    this.nextTxnId += this.batch.uploadCount;
    return this.result;
  }

  [Symbol.iterator](): IterableIterator<UserBatch> {
    return this;
  }
}

/** Half of alea's 2^-32 step: u + HALF_STEP is a uniform's midpoint, never 0 or 1. */
const HALF_STEP = 2 ** -33;

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
  private readonly spikeP: number;
  private readonly secondP: number;
  /** The upload stream's state, and the interval being drawn (`drawIntervalUploads`). */
  private readonly upload: Float64Array;
  private readonly profileKeys = streamKeys(PROFILE_STREAM);
  private readonly uploadKeys: Int32Array;
  /** The current user's key (`userKey`), from which both its streams start. */
  private readonly key = new Int32Array(2);
  /** The alea state [s0, s1, s2, c] of the user's stream being drawn from. */
  private readonly st = new Float64Array(4);
  /** Tier boundaries, relative seconds. */
  private readonly bounds = new Float64Array(4);

  constructor(config: GenerationConfig, uploadVariant: number) {
    this.seed = config.seed;
    this.uploadKeys = streamKeys(uploadStream(uploadVariant));
    this.startSec = utcTimestampSeconds(config.start);
    this.W = utcTimestampSeconds(config.end) - this.startSec;
    const gapUs = timedeltaFromFloat(config.minTierGapHours, US_PER_HOUR);
    this.G = -Math.floor(-gapUs / US_PER_SECOND); // ceil: the gap in whole seconds, never shorter
    this.G1 = Math.max(this.G, 1);
    this.cohortOf = cohortAssigner(config);
    const free = lognormalParams(config.freeUploadsPerDay.mean, config.freeUploadsPerDay.std);
    const premium = lognormalParams(config.premiumUploadsPerDay.mean, config.premiumUploadsPerDay.std);
    this.freeMu = free.mu;
    this.freeSigma = free.sigma;
    this.premiumMu = premium.mu;
    this.premiumSigma = premium.sigma;
    this.upload = newUploadState(this.startSec, config.premiumLargeShare);
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
    const key = this.key;
    userKey(key, this.seed, uid);
    seedStream(st, this.profileKeys, key);
    const cohort = this.cohortOf(uid);
    batch.userId = uid;
    batch.cohort = cohort;

    // Rates: lognormal, from two standard normals by the inverse CDF (the uniforms' midpoints, in (0, 1)).
    const freeRate = fastExp(this.freeMu + this.freeSigma * normalQuantile(aleaNext(st) + HALF_STEP)) / 24;
    const premiumRate = fastExp(this.premiumMu + this.premiumSigma * normalQuantile(aleaNext(st) + HALF_STEP)) / 24;
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

    // Uploads, from the upload stream, interval by interval, already in time order.
    const k = this.upload;
    seedStream(k, this.uploadKeys, key);
    setUploadRates(k, freeRate, premiumRate);
    const startSec = this.startSec;
    let count = 0;
    for (let t = 0; t < tierCount; t++) {
      // Cohorts 1 and 3 start premium, the others free; every change flips the tier.
      const isPremium = (cohort === 1 || cohort === 3) === ((t & 1) === 0);
      const a = bounds[t];
      const b = bounds[t + 1];
      batch.tierFrom[t] = startSec + a;
      batch.tierUntil[t] = startSec + b;
      batch.tierIsPremium[t] = isPremium ? 1 : 0;
      let spike1 = Infinity;
      let spike2 = Infinity;
      if (isPremium && a > 0 && aleaNext(k) < this.spikeP) {
        const spikeSpan = Math.min(3600, b - a);
        spike1 = a + Math.floor(aleaNext(k) * spikeSpan);
        if (this.secondP > 0 && aleaNext(k) < this.secondP) {
          const second = a + Math.floor(aleaNext(k) * spikeSpan);
          spike2 = Math.max(spike1, second);
          spike1 = Math.min(spike1, second);
        }
      }
      count = drawIntervalUploads(k, batch, count, a, b, isPremium, spike1, spike2);
    }
    batch.uploadCount = count;
    const txn = batch.uploadTxnId;
    for (let i = 0; i < count; i++) txn[i] = firstTxnId + i;
  }
}
