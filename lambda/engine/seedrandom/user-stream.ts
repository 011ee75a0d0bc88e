import type seedrandom from 'seedrandom';

/**
 * Random streams per user and purpose: the `seedrandom` package's **alea** generator, started from
 * a state derived from `(seed, userId, purpose)` by an integer hash instead of alea's string seeding.
 *
 * Why not `seedrandom.alea(string)`: alea's seeding hashes the seed string three times with a
 * serial float recurrence (~1.6–1.9 µs a stream measured, Node 20), more than the whole per-user
 * budget. Why not `seedrandom.alea('', { state })` per user either: the package cannot reset a
 * generator's state (its `state` option is read only at construction), and constructing one
 * costs ~140–300 ns (it still runs its string seeding on `' '` and `''` and builds four closures),
 * and every draw goes through a closure writing four object properties (~8 ns). So the engine runs
 * alea's recurrence itself — `aleaNext` below is the package's `next` (lib/alea.js) verbatim, on a
 * Float64Array [s0, s1, s2, c] — and `test/seedrandom-engine.test.ts` checks that a user's stream
 * is draw for draw `seedrandom.alea('', { state: userStreamState(seed, userId, purpose) })`, so
 * anyone can replay a user with the package.
 *
 * The state: a 4-round Feistel network with murmur3's fmix32 as round function, keyed by the
 * purpose, maps the 64 bits (seed, userId) to 64 well-mixed bits (l, r) — a bijection, so no two
 * (seed, userId) pairs share a start state within a purpose — and one more round gives a third
 * word; s0 = r / 2^32, s1 = l / 2^32, s2 = l2 / 2^32 (multiples of 2^-32 in [0, 1), as alea's own
 * seeding makes them) and the carry c = 1 + floor(w · 2091637 / 2^32) for a fifth fmix32 word w,
 * an integer in 1..2091637 (alea's carry stays below its multiplier 2091639; c >= 1 and
 * c <= 2091637 avoid both fixed points of the multiply-with-carry recurrence, all-zero and all-ones).
 */

export const ALEA_MULTIPLIER = 2091639;
export const TWO_POW_MINUS_32 = 2.3283064365386963e-10;

/** murmur3's 32-bit finalizer: a bijection on int32 with full avalanche. */
function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  return h ^ (h >>> 16);
}

/**
 * What a stream is for: each user has one stream per purpose, so the draws of one purpose never
 * shift another's. PROFILE_STREAM: the user's rates and tier changes; `uploadStream(variant)`: the
 * uploads (counts, times, items, spike). Variant 0 is the published data; any other variant
 * (an engine option, not a config key) gives the same profile with independent uploads.
 */
export const PROFILE_STREAM = 0;
export const MAX_UPLOAD_VARIANT = 0xfffffffe;
export function uploadStream(variant: number): number {
  return 1 + variant;
}

const ROUND_CONSTANTS = [0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344, 0xa4093822, 0x299f31d0];

/**
 * The Feistel round keys of a purpose (an integer 0..2^32-1): each purpose keys its own bijection
 * of (seed, userId), so a purpose never repeats a start state and different purposes give
 * unrelated ones. Computed once per engine run.
 */
export function streamKeys(purpose: number): Int32Array {
  const p = fmix32(Math.imul(purpose, 0x9e3779b9) ^ 0x7f4a7c15);
  return Int32Array.from(ROUND_CONSTANTS, (k, i) => fmix32((k ^ p) + Math.imul(i + 1, 0x632be5ab)));
}

/**
 * Writes the start state of user `userId`'s stream under `seed` (both integers 0..2^32-1) for the
 * purpose whose `streamKeys` are `keys` into `st` = [s0, s1, s2, c].
 */
export function seedUserStream(st: Float64Array, keys: Int32Array, seed: number, userId: number): void {
  let l = seed | 0;
  let r = userId | 0;
  l ^= fmix32((r + keys[0]) | 0);
  r ^= fmix32((l + keys[1]) | 0);
  l ^= fmix32((r + keys[2]) | 0);
  r ^= fmix32((l + keys[3]) | 0);
  const l2 = l ^ fmix32((r + keys[4]) | 0);
  const w = fmix32((l2 + keys[5]) | 0) ^ r;
  st[0] = (r >>> 0) * TWO_POW_MINUS_32;
  st[1] = (l >>> 0) * TWO_POW_MINUS_32;
  st[2] = (l2 >>> 0) * TWO_POW_MINUS_32;
  // floor(w * 2091637 / 2^32): the product is below 2^53, so exact (a `%` on uint32 is a slow fmod).
  st[3] = 1 + Math.floor((w >>> 0) * ((ALEA_MULTIPLIER - 2) * TWO_POW_MINUS_32));
}

/**
 * The start state of a user's stream for a purpose as the `seedrandom` package takes it:
 * `seedrandom.alea('', { state: userStreamState(seed, userId, purpose) })` replays it draw for draw.
 */
export function userStreamState(seed: number, userId: number, purpose: number): seedrandom.State.Alea {
  const st = new Float64Array(4);
  seedUserStream(st, streamKeys(purpose), seed, userId);
  return { s0: st[0], s1: st[1], s2: st[2], c: st[3] };
}

/** The next uniform in [0, 1) (a multiple of 2^-32): seedrandom's alea `next`, on st = [s0, s1, s2, c]. */
export function aleaNext(st: Float64Array): number {
  const t = ALEA_MULTIPLIER * st[0] + st[3] * TWO_POW_MINUS_32;
  st[0] = st[1];
  st[1] = st[2];
  const c = t | 0;
  st[3] = c;
  return (st[2] = t - c);
}
