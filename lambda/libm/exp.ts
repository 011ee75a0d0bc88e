// exp(x) bit-identical to glibc 2.36 `__exp_fma` (x86-64, FMA ifunc variant),
// i.e. to Python's math.exp on such a machine.
//
// Origin: ARM optimized-routines math/exp.c (Szabolcs Nagy, Copyright (c) 2018
// Arm Ltd, SPDX-License-Identifier: MIT OR Apache-2.0 WITH LLVM-exception), as
// shipped in glibc sysdeps/ieee754/dbl-64/e_exp.c; tables in exp-data.ts.
// EXP_TABLE_BITS = 7, EXP_POLY_ORDER = 5, TOINT_INTRINSICS = 0.
//
// FMA contractions emulated (read off the disassembly of __ieee754_exp_fma in
// this machine's libm.so.6; GCC contracts across statements, -ffp-contract=fast):
//   kd  = fma(x, InvLn2N, Shift)                       (then kd -= Shift)
//   r   = fma(kd, NegLn2loN, fma(kd, NegLn2hiN, x))
//   tmp = fma(r2*r2, fma(r, C5, C4), fma(r2, fma(r, C3, C2), tail + r))
//   res = fma(scale, tmp, scale)
//   specialcase k > 0: 0x1p1009 * fma(scale, tmp, scale)
//   specialcase k < 0: NOT fused (scale*tmp is computed once and reused, so
//                      y = scale + RN(scale*tmp); lo = scale - y + RN(scale*tmp)).
// How each one is emulated exactly is explained next to the code.  The rare
// |x| >= 512 path simply uses the generic exact `fma`.

import { fma, hexToDouble } from './fma.js';
import {
  EXP_INVLN2N_BITS,
  EXP_NEGLN2HIN_BITS,
  EXP_NEGLN2LON_BITS,
  EXP_POLY_BITS,
  EXP_SHIFT_BITS,
  EXP_TAB_BITS,
} from './exp-data.js';

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const TWO_1009 = 2 ** 1009;
const TWO_M1022 = 2 ** -1022;

const InvLn2N = hexToDouble(EXP_INVLN2N_BITS);
const NegLn2hiN = hexToDouble(EXP_NEGLN2HIN_BITS);
const NegLn2loN = hexToDouble(EXP_NEGLN2LON_BITS);
const Shift = hexToDouble(EXP_SHIFT_BITS);
const C2 = hexToDouble(EXP_POLY_BITS[0]);
const C3 = hexToDouble(EXP_POLY_BITS[1]);
const C4 = hexToDouble(EXP_POLY_BITS[2]);
const C5 = hexToDouble(EXP_POLY_BITS[3]);

/** NegLn2loN = LoH + LoL with LoH = top 35 significant bits, LoL <= 18 bits. */
const LoH = (() => {
  F64[0] = NegLn2loN;
  U32[0] = U32[0] & ~0x3ffff; // clear the low 18 significand bits
  return F64[0];
})();
const LoL = NegLn2loN - LoH;

/** tail T[k] as a double; scale bits H[k] split into words (k in [0, 128)). */
const EXP_TAIL = new Float64Array(128);
const EXP_SBITS_HI = new Uint32Array(128);
const EXP_SBITS_LO = new Uint32Array(128);
for (let i = 0; i < 128; i++) {
  EXP_TAIL[i] = hexToDouble(EXP_TAB_BITS[2 * i]);
  const h = EXP_TAB_BITS[2 * i + 1].slice(2);
  EXP_SBITS_HI[i] = parseInt(h.slice(0, 8), 16);
  EXP_SBITS_LO[i] = parseInt(h.slice(8, 16), 16);
}

/**
 * kd = RN(x*InvLn2N + Shift) - Shift, i.e. RN-to-integer of the EXACT product
 * z = x*InvLn2N (|z| < 2^18).  Computing z = RN(x*InvLn2N) first gives the same
 * integer unless z is exactly a half-integer h (half-integers are doubles here
 * and RN is monotone, so no half-integer lies strictly between the exact
 * product and z); then the sign of the product error decides.
 */
export function expRoundKd(x: number): number {
  const z = InvLn2N * x;
  const kd = z + Shift - Shift;
  const d = z - kd;
  if (d === 0.5 || d === -0.5) {
    const e = fma(x, InvLn2N, -z); // exact product error
    if (e > 0) return z + 0.5;
    if (e < 0) return z - 0.5;
  }
  return kd;
}

/*
 * Why exp()'s inlined steps are exact.
 *
 * r = fma(kd, NegLn2loN, fma(kd, NegLn2hiN, x)) for |kd| < 2^17 (|x| < 512):
 *  - kd*NegLn2hiN is exact (36 + 17 bits) and x + kd*NegLn2hiN is exact: if
 *    kd != 0 then |x| >= 2^-9, so x and the product are multiples of 2^-61,
 *    and |r0| < 2^-8, so r0 fits in 53 bits.  Hence the inner fma is plain math.
 *  - kd*NegLn2loN = p1 + p2 exactly with p1 = kd*LoH (<= 52 bits), p2 = kd*LoL.
 *    (s, t) = TwoSum(r0, p1): s, t are multiples of 2^-79, |t| <= 2^-62 and
 *    |p2| < 2^-62 is a multiple of 2^-97, so t + p2 is exact (< 2^37 units) and
 *    RN(s + (t + p2)) is the correctly rounded r0 + kd*NegLn2loN.
 * (pow's exp_inline uses this only behind the same |x| < 512 guard.)
 *
 * tmp = fma(r2*r2, fma(r, C5, C4), fma(r2, fma(r, C3, C2), tail + r)), all addend-dominated.
 */

/**
 * Everything with the generic exact fma, for 512 <= |x| < 1024: glibc's specialcase (not
 * contracted for k < 0) of x + xtail with sign/exponent bias signBias; exp passes (x, 0, 0).
 */
export function expSpecial(x: number, xtail: number, signBias: number): number {
  let kd = fma(x, InvLn2N, Shift);
  kd -= Shift;
  const k = kd | 0;
  let r = fma(kd, NegLn2loN, fma(kd, NegLn2hiN, x));
  r += xtail;
  const idx = k & 127;
  const tail = EXP_TAIL[idx];
  const r2 = r * r;
  const tmp = fma(r2 * r2, fma(r, C5, C4), fma(r2, fma(r, C3, C2), tail + r));
  const sbitsHi = EXP_SBITS_HI[idx] + ((k + signBias) << 13);
  if (k >= 0) {
    U32[0] = EXP_SBITS_LO[idx];
    U32[1] = sbitsHi - (1009 << 20);
    const scale = F64[0];
    return TWO_1009 * fma(scale, tmp, scale);
  }
  U32[0] = EXP_SBITS_LO[idx];
  U32[1] = sbitsHi + (1022 << 20);
  const sHi = U32[1];
  const scale = F64[0]; // signed scale
  const st = scale * tmp;
  let y = scale + st;
  if (Math.abs(y) < 1.0) {
    const one = y < 0.0 ? -1.0 : 1.0;
    let lo = scale - y + st;
    const hi = one + y;
    lo = one - hi + y + lo;
    y = hi + lo - one;
    if (y === 0) y = sHi >>> 31 ? -0 : 0;
  }
  return TWO_M1022 * y;
}

/**
 * e^x, bit-identical to glibc 2.36 __exp_fma.
 *
 * expRoundKd and the steps proved above are inlined by hand here:
 * V8 boxes doubles returned from calls it does not inline, which costs more
 * than the arithmetic.  Addend-dominated fmas use the fmaD argument (see
 * fma.ts): s = RN(c + p) is the fused result unless c + p is a rounding tie,
 * detected exactly; then (rarely) the generic exact fma is called.
 */
export function exp(x: number): number {
  F64[0] = x;
  const abstop = (U32[1] >>> 20) & 0x7ff;
  if ((abstop - 0x3c9) >>> 0 >= 0x3f) {
    // |x| < 2^-54, |x| >= 512, inf or nan
    if (abstop < 0x3c9) return 1.0 + x; // tiny (incl. +-0)
    if (abstop >= 0x409) {
      if (x === -Infinity) return 0;
      if (abstop >= 0x7ff) return 1.0 + x; // +inf, nan
      return x < 0 ? 0 : Infinity; // __math_uflow(0) / __math_oflow(0)
    }
    return expSpecial(x, 0, 0);
  }
  return expCore(x, 0, 0);
}

/**
 * The main path of exp (|x| in [2^-54, 512)), as glibc's __exp_fma computes it, of x + xtail
 * with the sign and exponent bias signBias (pow's exp_inline); exp itself passes (x, 0, 0).
 */
export function expCore(x: number, xtail: number, signBias: number): number {
  // kd = fma(x, InvLn2N, Shift) - Shift (see expRoundKd)
  const z = InvLn2N * x;
  let kd = z + Shift - Shift;
  const d = z - kd;
  if (d === 0.5 || d === -0.5) kd = expRoundKd(x);
  const k = kd | 0;
  // r = fma(kd, NegLn2loN, fma(kd, NegLn2hiN, x)) (see expReduce)
  const r0 = x + kd * NegLn2hiN;
  const p1 = kd * LoH;
  const s0 = r0 + p1;
  const b0 = s0 - r0;
  const r = s0 + (r0 - (s0 - b0) + (p1 - b0) + kd * LoL) + xtail;
  const idx = k & 127;
  const r2 = r * r;
  // q1 = fma(r, C3, C2): |r*C3| < 2^-11 << |C2|/8, dominated by construction.
  let p = r * C3;
  let q1 = C2 + p;
  let t = p - (q1 - C2);
  let t2 = t + t;
  if (t !== 0 && q1 + t2 - q1 === t2) q1 = fma(r, C3, C2);
  // q2 = fma(r, C5, C4): |r*C5| < 2^-15 << |C4|/8.
  p = r * C5;
  let q2 = C4 + p;
  t = p - (q2 - C4);
  t2 = t + t;
  if (t !== 0 && q2 + t2 - q2 === t2) q2 = fma(r, C5, C4);
  // u = fma(r2, q1, tail + r): dominated unless r is tiny and cancels tail -> checked.
  const c = EXP_TAIL[idx] + r;
  p = r2 * q1;
  let u = c + p;
  if (Math.abs(c) >= 8 * Math.abs(p)) {
    t = p - (u - c);
    t2 = t + t;
    if (t !== 0 && u + t2 - u === t2) u = fma(r2, q1, c);
  } else u = fma(r2, q1, c);
  // tmp = fma(r2*r2, q2, u)
  const r4 = r2 * r2;
  p = r4 * q2;
  let tmp = u + p;
  if (Math.abs(u) >= 8 * Math.abs(p)) {
    t = p - (tmp - u);
    t2 = t + t;
    if (t !== 0 && tmp + t2 - tmp === t2) tmp = fma(r4, q2, u);
  } else tmp = fma(r4, q2, u);
  U32[0] = EXP_SBITS_LO[idx];
  U32[1] = EXP_SBITS_HI[idx] + ((k + signBias) << 13);
  const scale = F64[0];
  // fma(scale, tmp, scale): |tmp| < 2^-7, dominated by construction.
  p = scale * tmp;
  let res = scale + p;
  t = p - (res - scale);
  t2 = t + t;
  if (t !== 0 && res + t2 - res === t2) res = fma(scale, tmp, scale);
  return res;
}
