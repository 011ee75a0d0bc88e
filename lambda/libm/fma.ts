// Exact fused multiply-add emulation in pure binary64 arithmetic, plus the
// bit-cast helpers shared by exp.ts / log.ts / pow.ts.
//
// Why: the reference (glibc 2.36 libm on x86-64, `__exp_fma`, `__log_fma`,
// `__pow_fma`) is compiled with -mfma -mavx2, so GCC contracts `a*b + c` into a
// single-rounding vfmadd wherever it can.  To reproduce its results bit for bit
// we need RN(a*b + c) with ONE rounding, which JS does not offer (Math has no fma).
//
// Algorithm (generic `fma`): Boldo & Melquiond, "Emulation of FMA and correctly
// rounded sums: proved algorithms using rounding to odd", IEEE Trans. Computers
// 57(4), 2008, Algorithm 5 (emulated FMA):
//     (uh, ul) = ExactMult(a, b)        -- Dekker/Veltkamp TwoProduct
//     (th, tl) = TwoSum(c, uh)
//     v        = RO(tl + ul)            -- addition rounded to odd
//     result   = RN(th + v)
// RO is obtained from RN: z = RN(x + y), err = TwoSum error; if err != 0 and the
// last significand bit of z is 0, step z one ulp towards err.
//
// Range assumptions of `fma` (all satisfied at every call site in this folder;
// the call sites' operands are far away from these limits):
//   * round-to-nearest-even mode (the only mode JS has);
//   * |a|, |b| < 2^995 so the Veltkamp split (multiplication by 2^27+1) cannot
//     overflow, and |a*b|, |c|, the result are finite;
//   * no underflow in the product error: either a*b == 0 exactly, or
//     |a*b| >= 2^-969 (so every partial product of the split is a normal number).
// Non-finite inputs and zero operands fall back to `a*b + c`, which is what a
// hardware fma returns for them (inf/NaN propagation, signed zeros).

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer); // little-endian: U32[0] = low word, U32[1] = high word

/** 2^27 + 1, Veltkamp splitting constant for binary64. */
export const SPLITTER = 134217729;
const TWO_M53 = 2 ** -53;

/** Decode a 64-bit IEEE-754 pattern given as '0x' + 16 hex digits. */
export function hexToDouble(hex: string): number {
  const h = hex.startsWith('0x') ? hex.slice(2) : hex;
  U32[1] = parseInt(h.slice(0, 8), 16);
  U32[0] = parseInt(h.slice(8, 16), 16);
  return F64[0];
}

/** Veltkamp high part of x: (hi, x - hi) both fit in 26 bits (+ sign). */
export function splitHigh(x: number): number {
  const t = SPLITTER * x;
  return t - (t - x);
}

/**
 * Exact error of the product: returns e with a*b = RN(a*b) + e exactly
 * (Dekker's TwoProduct).  `p` must be RN(a*b).  Same range assumptions as fma.
 */
export function twoProductErr(a: number, b: number, p: number): number {
  let t = SPLITTER * a;
  const ah = t - (t - a);
  const al = a - ah;
  t = SPLITTER * b;
  const bh = t - (t - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/**
 * z = RN(x + y) turned into RO(x + y) given err = (x + y) - z exactly.
 * If err != 0 and z has an even significand, the neighbour of z in the
 * direction of err is returned (it is the odd one of the two doubles
 * enclosing x + y).  z != 0 whenever err != 0.
 */
function toOdd(z: number, err: number): number {
  F64[0] = z;
  const lo = U32[0];
  if ((lo & 1) === 0) {
    if (err > 0 === z > 0) {
      U32[0] = lo + 1; // magnitude up; lo is even so no carry
    } else if (lo !== 0) {
      U32[0] = lo - 1; // magnitude down
    } else {
      U32[0] = 0xffffffff; // magnitude down with borrow into the high word
      U32[1] = U32[1] - 1;
    }
    return F64[0];
  }
  return z;
}

/**
 * RN(p + e + c) where p + e is an exact product with p = RN(p + e)
 * (Boldo-Melquiond steps 2-4).  Used where the product error is cheaper to
 * obtain than with a full Veltkamp split (e.g. integer * pre-split constant).
 *
 * Fast path (no rounding to odd needed): with (s, t) = TwoSum(c, p) and
 * v = RN(t + e), RN(s + v) equals RN(s + t + e) if v is exact, or unless s + v is a midpoint
 * between two doubles: every midpoint offset m within reach (|m| < gap(s)) is a
 * representable multiple of gap/4, so if one lay strictly between t + e and v,
 * v would not be RN(t + e).  When |v| <= |s|*2^-53 the only midpoint offsets
 * within reach make s + 2v representable, so "s + 2v - s != 2v" proves that
 * s + v is not a midpoint.  Otherwise (rare) use round-to-odd.  (Exact
 * midpoints do occur, e.g. kd*Ln2lo in log often has an error of exactly half
 * an ulp, so the exactness test of v comes first.)
 */
export function fmaPE(p: number, e: number, c: number): number {
  // TwoSum(c, p)
  const th = c + p;
  const bb = th - c;
  const tl = c - (th - bb) + (p - bb);
  // v = RN(tl + e) and its error ve
  let v = tl + e;
  const vb = v - tl;
  const ve = tl - (v - vb) + (e - vb);
  if (ve !== 0) {
    // v inexact: harmless unless th + v is a midpoint; otherwise v = RO(tl + e).
    const v2 = v + v;
    if (!(Math.abs(v) <= Math.abs(th) * TWO_M53 && th + v2 - th !== v2)) v = toOdd(v, ve);
  }
  return th + v;
}

/** Exact fused multiply-add RN(a*b + c) (see header for the range assumptions). */
export function fma(a: number, b: number, c: number): number {
  const p = a * b;
  if (p === 0 || c === 0 || p - p !== 0 || c - c !== 0) return p + c;
  return fmaPE(p, twoProductErr(a, b, p), c);
}

/**
 * fma(a, b, c) with a fast path for the "addend-dominated" case
 * |c| >= 8*|RN(a*b)|, which is what most polynomial steps look like.
 *
 * Proof sketch of the fast path.  Let p = RN(ab), e = ab - p (|e| <= ulp(p)/2),
 * s = RN(c + p), t = c + p - s (exact by Fast2Sum since |c| >= |p|).  With
 * |c| >= 8|p| we get |s| >= 7|p|, so exponent(s) >= exponent(p) + 2 and every
 * half-gap around s is >= ulp(p) =: Q.  c, p, s (hence t) and the half-gaps are
 * multiples of Q.  The fused result is RN(s + t + e):
 *   - if |t| is strictly less than the half-gap on its side, then
 *     |t| <= half-gap - Q and |t + e| < half-gap on either side, so the fused
 *     result is s (this includes t == 0);
 *   - otherwise s + t is a rounding tie; then the sign of e decides and we
 *     fall back to the exact emulation.
 * Tie detection: |t| equals the half-gap on its side iff s + 2t is
 * representable, i.e. iff RN(s + 2t) - s == 2t (the subtraction is exact).
 * NaN/inf make the guard false and take the exact (fallback) path.
 */
export function fmaD(a: number, b: number, c: number): number {
  const p = a * b;
  const s = c + p;
  if (Math.abs(c) >= 8 * Math.abs(p)) {
    const t = p - (s - c);
    if (t === 0) return s;
    const t2 = t + t;
    if (s + t2 - s !== t2) return s;
  }
  return fma(a, b, c);
}
