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
 * The state: a 4-round Feistel network with murmur3's fmix32 as round function maps the 64 bits
 * (seed, userId) to a well-mixed user key (l, r) — a bijection — once per user; each purpose then
 * mixes its own words into the key with one fmix32 per state word: s0, s1, s2 = words / 2^32
 * (multiples of 2^-32 in [0, 1), as alea's own seeding makes them; (s0, s1) is a bijection of the
 * key, so no two users share a start state within a purpose) and the carry
 * c = 1 + floor(w · 2091637 / 2^32) for a fourth word w, an integer in 1..2091637 (alea's carry
 * stays below its multiplier 2091639; c >= 1 and c <= 2091637 avoid both fixed points of the
 * multiply-with-carry recurrence, all-zero and all-ones).
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

/**
 * A user's 64-bit key [l, r] from (seed, userId), both integers 0..2^32-1: a 4-round Feistel
 * network with murmur3's fmix32 as round function, so a bijection (no two pairs share a key) with
 * every bit of the key depending on every input bit. Computed once per user for all its streams.
 */
export function userKey(key: Int32Array, seed: number, userId: number): void {
  let l = seed | 0;
  let r = userId | 0;
  l ^= fmix32((r + 0x243f6a88) | 0);
  r ^= fmix32((l + 0x85a308d3) | 0);
  l ^= fmix32((r + 0x13198a2e) | 0);
  r ^= fmix32((l + 0x03707344) | 0);
  key[0] = l;
  key[1] = r;
}

/** The four words a purpose (an integer 0..2^32-1) mixes into a user key. Computed once per engine run. */
export function streamKeys(purpose: number): Int32Array {
  const p = fmix32(Math.imul(purpose, 0x9e3779b9) ^ 0x7f4a7c15);
  return Int32Array.from([0xa4093822, 0x299f31d0, 0x082efa98, 0xec4e6c89], (k, i) =>
    fmix32((k ^ p) + Math.imul(i + 1, 0x632be5ab)),
  );
}

/**
 * Writes the start state [s0, s1, s2, c] of the stream whose purpose has `purposeKeys` for the
 * user with `key` into `st`: four independent fmix32 of the key's words mixed with the purpose's
 * (so they run in parallel). s0 and s1 alone are a bijection of the key, so within a purpose no
 * two users share a start state.
 */
export function seedStream(st: Float64Array, purposeKeys: Int32Array, key: Int32Array): void {
  const l = key[0];
  const r = key[1];
  st[0] = (fmix32(r ^ purposeKeys[0]) >>> 0) * TWO_POW_MINUS_32;
  st[1] = (fmix32(l ^ purposeKeys[1]) >>> 0) * TWO_POW_MINUS_32;
  st[2] = (fmix32(((l + r) | 0) ^ purposeKeys[2]) >>> 0) * TWO_POW_MINUS_32;
  const w = fmix32(((l - r) | 0) ^ purposeKeys[3]);
  // floor(w * 2091637 / 2^32): the product is below 2^53, so exact (a `%` on uint32 is a slow fmod).
  st[3] = 1 + Math.floor((w >>> 0) * ((ALEA_MULTIPLIER - 2) * TWO_POW_MINUS_32));
}

/** `userKey` then `seedStream`, for one stream of one user. */
export function seedUserStream(st: Float64Array, purposeKeys: Int32Array, seed: number, userId: number): void {
  const key = new Int32Array(2);
  userKey(key, seed, userId);
  seedStream(st, purposeKeys, key);
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
