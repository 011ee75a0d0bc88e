import { exp } from '../../libm/exp.js';
import { log } from '../../libm/log.js';
import { ITEM_50GB, ITEM_5GB, reserveUploads, type UserBatch } from '../user-batch.js';
import { fastExp } from './fast-math.js';
import { ALEA_MULTIPLIER, aleaNext, TWO_POW_MINUS_32 } from './user-stream.js';

/**
 * A Poisson process drawn in time order as exponential spacings (`drawUploads`), the exponentials
 * by Marsaglia and Tsang's ziggurat (2000) with 256 layers of equal
 * area V under e^-x: ~99% of draws cost one uniform, a table lookup, a compare and a multiply (no
 * log). The uniform is read as f = layer + fraction in [0, 256): the point x = fraction * X[layer]
 * lies under the curve for sure when x < X[layer + 1]; otherwise (`exponentialSlow`) it is in a
 * wedge, accepted when a second uniform falls under e^-x, or in the base layer's tail beyond R,
 * where R + a fresh exponential is exact (memorylessness).
 *
 * Tables from the libm once per process; sampling uses only `+ - * /` and `fastExp` on the rare
 * wedge path, so the same bits on every machine.
 */

const ZIGGURAT_LAYERS = 256;
const R = 7.69711747013105; // right edge of the base layer's rectangle (Marsaglia and Tsang: 7.69711747013104972)
const V = 3.949659822581572e-3; // area of each layer (the base one with the tail)

/** X[i]: right edge of layer i (X[0] = V / e^-R, the base layer's virtual width; X[256] = 0). */
const X = new Float64Array(ZIGGURAT_LAYERS + 1);
X[0] = V * exp(R);
X[1] = R;
for (let i = 1; i < ZIGGURAT_LAYERS - 1; i++) X[i + 1] = -log(V / X[i] + exp(-X[i]));
X[ZIGGURAT_LAYERS] = 0;
/** e^-X[i]: layer i spans the heights [F[i], F[i + 1]]. */
const F = X.map((x) => exp(-x));
/** X[i + 1] / X[i]: a fraction below it puts the point under the curve. */
const RATIO = Float64Array.from({ length: ZIGGURAT_LAYERS }, (_, i) => X[i + 1] / X[i]);

/** The common case for f in [0, 256): the exponential, or -1 when the point needs `exponentialSlow`. */
function zigguratFast(f: number): number {
  const i = f | 0;
  const fraction = f - i;
  return fraction < RATIO[i] ? fraction * X[i] : -1;
}

/**
 * The rest of the ziggurat for an f that `zigguratFast` did not accept; draws from the stream `st`.
 * A loop, not a recursion, so that it always returns a number where it is inlined.
 */
export function exponentialSlow(st: Float64Array, f: number): number {
  let tail = 0;
  for (;;) {
    const i = f | 0;
    if (i === 0) {
      tail += R; // beyond R: R + a fresh exponential
    } else {
      const x = (f - i) * X[i];
      if (F[i] + aleaNext(st) * (F[i + 1] - F[i]) < fastExp(-x)) return tail + x;
    }
    f = aleaNext(st) * ZIGGURAT_LAYERS;
    const e = zigguratFast(f);
    if (e >= 0) return tail + e;
  }
}

/** A standard exponential from the alea stream `st`. */
export function exponential(st: Float64Array): number {
  const f = aleaNext(st) * ZIGGURAT_LAYERS;
  const e = zigguratFast(f);
  return e >= 0 ? e : exponentialSlow(st, f);
}

/** For tests: the layer edges, to check that every layer has area V. */
export const zigguratEdges = (): { edges: Float64Array; area: number; tailStart: number } => ({
  edges: X.slice(),
  area: V,
  tailStart: R,
});

// ---- the uploads of a tier interval ------------------------------------------------------------

// drawUploads' state, a Float64Array: the upload stream's alea state [s0, s1, s2, c] first (so
// `aleaNext` and `exponentialSlow` draw from it), then the interval being drawn. The slots are
// module-local constants (V8 folds them; an exported binding is read through a cell).
const T_ = 4; // time of the last upload drawn (relative seconds, continuous)
const END = 5; // the interval's end b (relative seconds)
const SCALE = 6; // seconds per expected upload: 3600 / rate per hour
const START = 7; // the window start, epoch seconds
const SPIKE = 8; // the next spike's second (relative), Infinity: none
const SPIKE_2 = 9; // the one after, Infinity: none
const COUNT = 10; // uploads in the batch so far
const PENDING = 11; // a spacing drawn but not yet added to T (after the slow path), else -1
const SIDE = 12; // the item side of that draw
const SLOW_F = 13; // the ziggurat's f of a draw that needs the slow path
const SPLIT = 14; // the interval's item split: J, 256 / J, 256 / (2^32 - J) (see itemSplit)
const FREE = 17; // the user's free tier: rate per hour, then its split (all 5 GB)
const PREMIUM = 21; // the user's premium tier: rate per hour, then its split
const SIZE = 25;
/** Why `drawUploads` returned. */
const END_ = 0;
const SLOW = 1;
const FULL = 2;
/** Free slots `drawUploads` needs for a step: the upload and both spikes. */
const ROOM = 3;

const TWO_POW_32 = 2 ** 32;
// Module-local copies: V8 folds these into the loop; an imported binding is re-read on every step.
const MULTIPLIER = ALEA_MULTIPLIER;
const TWO_POW_MINUS_32_ = TWO_POW_MINUS_32;
const LARGE = ITEM_50GB;
const SMALL_MINUS_LARGE = ITEM_5GB - ITEM_50GB;

/**
 * How one uniform j (its 32 bits) of an interval picks the item and the spacing, for a 50 GB share
 * rounded to J / 2^32: side 0 (j < J, 50 GB) or side 1 (5 GB); then k = j - (side ? J : 0) is
 * uniform on the side's n = J or 2^32 - J integers, and k * 256 / n the ziggurat's layer +
 * fraction for the spacing. Written as [J, 256 / J, 256 / (2^32 - J)] (0 for an empty side).
 */
function writeItemSplit(p: Float64Array, at: number, share: number): void {
  const J = Math.round(share * TWO_POW_32);
  p[at] = J;
  p[at + 1] = J > 0 ? ZIGGURAT_LAYERS / J : 0;
  p[at + 2] = J < TWO_POW_32 ? ZIGGURAT_LAYERS / (TWO_POW_32 - J) : 0;
}

/**
 * The state of a run's upload drawing, for a window starting at `startSec` (epoch seconds) and
 * premium uploads 50 GB with probability `premiumLargeShare`: the user's upload stream
 * (`seedStream` writes its alea state to [0, 4)), its rates (`setUploadRates`), the interval's.
 */
export function newUploadState(startSec: number, premiumLargeShare: number): Float64Array {
  const p = new Float64Array(SIZE);
  p[START] = startSec;
  writeItemSplit(p, FREE + 1, 0);
  writeItemSplit(p, PREMIUM + 1, premiumLargeShare);
  return p;
}

/** The user's upload rates per hour, while free and while premium. */
export function setUploadRates(p: Float64Array, freePerHour: number, premiumPerHour: number): void {
  p[FREE] = freePerHour;
  p[PREMIUM] = premiumPerHour;
}

/**
 * Appends to the batch, after its first `count` uploads, the uploads of the tier interval [a, b)
 * (relative seconds, integers): a Poisson process at the user's rate of the tier (premium or
 * free) drawn from the upload stream in `p`, with the spike uploads at the seconds
 * spike1 <= spike2 (Infinity: none) merged in. Returns the new count. (No double argument: a call
 * that is not inlined boxes each one.)
 */
export function drawIntervalUploads(
  p: Float64Array,
  batch: UserBatch,
  count: number,
  a: number,
  b: number,
  premium: boolean,
  spike1: number,
  spike2: number,
): number {
  const tier = premium ? PREMIUM : FREE;
  p[T_] = a;
  p[END] = b;
  p[SCALE] = 3600 / p[tier];
  p[SPIKE] = spike1;
  p[SPIKE_2] = spike2;
  p[COUNT] = count;
  p[PENDING] = -1;
  p[SPLIT] = p[tier + 1];
  p[SPLIT + 1] = p[tier + 2];
  p[SPLIT + 2] = p[tier + 3];
  for (;;) {
    const status = drawUploads(p, batch.uploadItemId, batch.uploadAt);
    if (status === FULL) reserveUploads(batch, p[COUNT] + ROOM, p[COUNT]);
    else if (status === SLOW) p[PENDING] = exponentialSlow(p, p[SLOW_F]);
    else break;
  }
  // The spikes after the last upload (drawUploads left ROOM for them).
  let n = p[COUNT];
  for (let slot = SPIKE; slot <= SPIKE_2 && p[slot] < Infinity; slot++) {
    batch.uploadItemId[n] = LARGE;
    batch.uploadAt[n++] = p[START] + p[slot];
  }
  return n;
}

/**
 * The loop of `drawIntervalUploads`: spacings exponentials * p[SCALE], each upload at the second
 * floor(T) with the item its draw's side picks, spikes merged in (a spike goes before the process
 * uploads of its second), written to item/at after p[COUNT] until T passes the interval's end
 * (END_; the spikes left are the caller's), the arrays lack ROOM (FULL) or a draw's spacing needs
 * `exponentialSlow` (SLOW, its f in p[SLOW_F]: the caller puts the spacing in p[PENDING] and calls
 * again).
 *
 * Written for V8: no call in the loop (a call spills the loop's values to the stack), every number
 * from a typed array or this module (a number parameter or an imported constant is re-checked on
 * every step), no branch on the item (a coin flip). The alea recurrence is `aleaNext`'s, inline.
 */
function drawUploads(p: Float64Array, item: Uint8Array, at: Float64Array): number {
  let s0 = p[0];
  let s1 = p[1];
  let s2 = p[2];
  let c = p[3];
  let T = p[T_];
  const b = p[END];
  const scale = p[SCALE];
  const startSec = p[START];
  let nextSpike = p[SPIKE];
  let spike2 = p[SPIKE_2];
  let count = p[COUNT] | 0;
  let spacing = p[PENDING];
  let side = p[SIDE];
  const threshold = p[SPLIT];
  const layersLarge = p[SPLIT + 1];
  const layersSmall = p[SPLIT + 2];
  const limit = at.length - ROOM;
  let status: number;
  for (;;) {
    if (count > limit) {
      status = FULL;
      break;
    }
    if (spacing < 0) {
      const r = MULTIPLIER * s0 + c * TWO_POW_MINUS_32_;
      s0 = s1;
      s1 = s2;
      c = r | 0;
      s2 = r - c;
      const j = s2 * TWO_POW_32;
      // 0 when j < threshold, else 1; the products below are exact (one factor is 0 or 1).
      side = Math.floor((j - threshold) * TWO_POW_MINUS_32_) + 1;
      const f = (j - side * threshold) * ((1 - side) * layersLarge + side * layersSmall);
      const layer = f | 0;
      const fraction = f - layer;
      if (!(fraction < RATIO[layer])) {
        p[SLOW_F] = f;
        status = SLOW;
        break;
      }
      spacing = fraction * X[layer];
    }
    T += spacing * scale;
    spacing = -1;
    if (!(T < b)) {
      status = END_; // NaN too (a rate of 0)
      break;
    }
    if (T >= nextSpike) {
      const sec = Math.floor(T);
      while (nextSpike <= sec) {
        item[count] = LARGE;
        at[count++] = startSec + nextSpike;
        nextSpike = spike2;
        spike2 = Infinity;
      }
    }
    item[count] = LARGE + side * SMALL_MINUS_LARGE;
    at[count++] = startSec + Math.floor(T);
  }
  p[0] = s0;
  p[1] = s1;
  p[2] = s2;
  p[3] = c;
  p[T_] = T;
  p[SPIKE] = nextSpike;
  p[SPIKE_2] = spike2;
  p[COUNT] = count;
  p[PENDING] = spacing;
  p[SIDE] = side;
  return status;
}
