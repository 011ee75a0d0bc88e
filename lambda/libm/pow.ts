// pow(x, y) bit-identical to glibc 2.36 `__pow_fma` (x86-64, FMA ifunc variant),
// i.e. to Python's float `x ** y` wherever Python does not raise.
//
// Origin: ARM optimized-routines math/pow.c (Szabolcs Nagy, Copyright (c) 2018
// Arm Ltd, SPDX-License-Identifier: MIT OR Apache-2.0 WITH LLVM-exception), as
// shipped in glibc sysdeps/ieee754/dbl-64/e_pow.c; tables in pow-log-data.ts
// (POW_LOG_TABLE_BITS = 7, POW_LOG_POLY_ORDER = 8) and exp-data.ts (__exp_data).
//
// FMA contractions emulated (read off the disassembly of __ieee754_pow_fma in
// this machine's libm.so.6; GCC contracts across statements):
//  log_inline
//   t1  = fma(kd, Ln2hi, logc)          exact anyway (table built for it)
//   lo1 = fma(kd, Ln2lo, logctail)
//   r   = fma(z, invc, -1.0)            (__FP_FAST_FMA branch)
//   lo3 = fma(ar, r, -ar2)              (__FP_FAST_FMA branch: exact error of ar*r)
//   p   = A-polynomial: fma(r, A2, A1), fma(r, A4, A3), fma(r, A6, A5),
//         q4 = fma(q3, ar2, q2), q5 = fma(ar2, q4, q1)
//   lo  = fma(ar3, q5, lo1 + lo2 + lo3 + lo4)   (`p = ar3*q5; lo = ... + p` fused)
//  __pow
//   ehi = y*hi;  elo = fma(y, lo, fma(y, hi, -ehi))
//  exp_inline: exp.ts's expCore / expSpecial (kd, r, tmp, scale + scale*tmp), r += xtail;
//   specialcase k > 0 fused, k < 0 not fused.

import { fma, fmaPE, hexToDouble, twoProductErr } from './fma.js';
import { expCore, expSpecial } from './exp.js';
import { POW_LN2HI_BITS, POW_LN2LO_BITS, POW_POLY_BITS, POW_TAB_BITS } from './pow-log-data.js';

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const TWO_53 = 2 ** 53;
const TWO_52 = 2 ** 52;

const Ln2hi = hexToDouble(POW_LN2HI_BITS);
const Ln2lo = hexToDouble(POW_LN2LO_BITS);
const Ln2loH = (() => {
  const t = 134217729 * Ln2lo;
  return t - (t - Ln2lo);
})();
const Ln2loL = Ln2lo - Ln2loH;
const A = POW_POLY_BITS.map(hexToDouble);
const A0 = A[0];
const A1 = A[1];
const A2 = A[2];
const A3 = A[3];
const A4 = A[4];
const A5 = A[5];
const A6 = A[6];
if (A0 !== -0.5) throw new Error('libm/pow: unexpected table');

const INVC = new Float64Array(128);
const LOGC = new Float64Array(128);
const LOGCTAIL = new Float64Array(128);
for (let i = 0; i < 128; i++) {
  INVC[i] = hexToDouble(POW_TAB_BITS[3 * i]);
  LOGC[i] = hexToDouble(POW_TAB_BITS[3 * i + 1]);
  LOGCTAIL[i] = hexToDouble(POW_TAB_BITS[3 * i + 2]);
  // invc = j/N or j/N/2 with j < 2N: at most 9 significant bits (needed below).
  if (INVC[i] * 512 !== Math.round(INVC[i] * 512)) throw new Error('libm/pow: unexpected invc');
}

const OFF_HI = 0x3fe69555; // OFF = 0x3fe6955500000000
const SIGN_BIAS = 0x800 << 7;

/** Tail of log_inline, written by logInline (typed-array slot: no boxing). */
const LOG_TAIL = new Float64Array(1);

/** y + LOG_TAIL[0] = log(x) where (hx, lx) are the words of x (normalized as in C). */
function logInline(hx: number, lx: number): number {
  const tmpHi = (hx - OFF_HI) | 0;
  const i = (tmpHi >>> 13) & 127;
  const k = tmpHi >> 20;
  U32[0] = lx;
  U32[1] = hx - (tmpHi & 0xfff00000);
  const z = F64[0];
  const kd = k;
  const invc = INVC[i];
  const logc = LOGC[i];
  const logctail = LOGCTAIL[i];

  // r = fma(z, invc, -1).  z in [0x1.69555p-1, 0x1.69555p0): zh = z rounded to a
  // multiple of 2^-43 (44 bits), zl = z - zh (exact, <= 9 bits).  invc has <= 9
  // bits, so zh*invc and zl*invc are exact, zh*invc - 1 is exact (Sterbenz), and
  // the final addition is the single rounding of z*invc - 1.
  const zh = z + 768 - 768;
  const zl = z - zh;
  const r = zh * invc - 1.0 + zl * invc;

  // t1 = fma(kd, Ln2hi, logc) is exact (Ln2hi has 42 bits, logc is a multiple
  // of 2^-43 by construction of the table).
  const t1 = kd * Ln2hi + logc;
  const t2 = t1 + r;
  // lo1 = fma(kd, Ln2lo, logctail); kd is an 11-bit integer so the product
  // error against the pre-split Ln2lo is computed exactly with two products.
  const pl = kd * Ln2lo;
  const lo1 = fmaPE(pl, kd * Ln2loH - pl + kd * Ln2loL, logctail);
  const lo2 = t1 - t2 + r;

  const rr = r * r;
  const ar2 = -0.5 * rr; // == RN(r*ar)
  const ar3 = r * ar2;
  // lo3 = fma(ar, r, -ar2) = ar*r - ar2 = -(r*r - RN(r*r))/2, exact.
  const lo3 = -0.5 * twoProductErr(r, r, rr);
  const hi = t2 + ar2;
  const lo4 = t2 - hi + ar2;
  // A-polynomial: |r| < 1/128 and |A1|, |A3|, |A5| >= 0.66 > 8*|A2, A4, A6|/128, |ar2| < 2^-15:
  // every step is addend-dominated by construction; ss = RN(c + RN(a*b)) is the
  // fused result unless c + pp is a rounding tie (fmaD argument, fma.ts).
  let pp: number;
  let ss: number;
  let tt: number;
  let tt2: number;
  pp = r * A2;
  ss = A1 + pp;
  tt = pp - (ss - A1);
  tt2 = tt + tt;
  const q1 = tt !== 0 && ss + tt2 - ss === tt2 ? fma(r, A2, A1) : ss;
  pp = r * A4;
  ss = A3 + pp;
  tt = pp - (ss - A3);
  tt2 = tt + tt;
  const q2 = tt !== 0 && ss + tt2 - ss === tt2 ? fma(r, A4, A3) : ss;
  pp = r * A6;
  ss = A5 + pp;
  tt = pp - (ss - A5);
  tt2 = tt + tt;
  const q3 = tt !== 0 && ss + tt2 - ss === tt2 ? fma(r, A6, A5) : ss;
  pp = q3 * ar2;
  ss = q2 + pp;
  tt = pp - (ss - q2);
  tt2 = tt + tt;
  const q4 = tt !== 0 && ss + tt2 - ss === tt2 ? fma(q3, ar2, q2) : ss;
  pp = ar2 * q4;
  ss = q1 + pp;
  tt = pp - (ss - q1);
  tt2 = tt + tt;
  const q5 = tt !== 0 && ss + tt2 - ss === tt2 ? fma(ar2, q4, q1) : ss;
  const lo = fma(ar3, q5, lo1 + lo2 + lo3 + lo4);
  const y = hi + lo;
  LOG_TAIL[0] = hi - y + lo;
  return y;
}

/** sign * exp(x + xtail); signBias is 0 or SIGN_BIAS. */
function expInline(x: number, xtail: number, signBias: number): number {
  F64[0] = x;
  const hx = U32[1];
  const abstop = (hx >>> 20) & 0x7ff;
  if ((abstop - 0x3c9) >>> 0 >= 0x3f) {
    if (abstop < 0x3c9) {
      const one = 1.0 + x;
      return signBias ? -one : one;
    }
    if (abstop >= 0x409) {
      if (hx >>> 31) return signBias ? -0 : 0; // __math_uflow
      return signBias ? -Infinity : Infinity; // __math_oflow
    }
    return expSpecial(x, xtail, signBias);
  }
  return expCore(x, xtail, signBias);
}

/** 0 if y is not an integer, 1 if odd, 2 if even (y finite, non-zero). */
function checkint(y: number): number {
  if (Math.floor(y) !== y) return 0;
  if (Math.abs(y) >= TWO_53) return 2;
  return y % 2 === 0 ? 2 : 1;
}

/** x**y, bit-identical to glibc 2.36 __pow_fma (C99 Annex F special cases). */
export function pow(x: number, y: number): number {
  F64[0] = y;
  const topy = U32[1] >>> 20;
  F64[0] = x;
  let hx = U32[1];
  let lx = U32[0];
  let topx = hx >>> 20;
  let signBias = 0;
  if ((topx - 0x001) >>> 0 >= 0x7ff - 0x001 || ((topy & 0x7ff) - 0x3be) >>> 0 >= 0x43e - 0x3be) {
    // x < 0x1p-1022 or x negative or inf/nan, or |y| < 2^-65 or |y| >= 2^63 or nan
    if (y === 0 || y !== y || y === Infinity || y === -Infinity) {
      if (y === 0) return 1.0;
      if (x === 1) return 1.0;
      if (x !== x || y !== y) return x + y;
      const ax = Math.abs(x);
      if (ax === 1) return 1.0;
      if (ax < 1 === y > 0) return 0.0; // |x|<1 && y==inf or |x|>1 && y==-inf
      return y * y;
    }
    if (x === 0 || x !== x || x === Infinity || x === -Infinity) {
      let x2 = x * x;
      if (hx >>> 31 && checkint(y) === 1) x2 = -x2;
      return y < 0 ? 1 / x2 : x2;
    }
    // x and y are non-zero finite
    if (hx >>> 31) {
      const yint = checkint(y);
      if (yint === 0) return NaN; // __math_invalid
      if (yint === 1) signBias = SIGN_BIAS;
      hx &= 0x7fffffff;
      topx &= 0x7ff;
    }
    if (((topy & 0x7ff) - 0x3be) >>> 0 >= 0x43e - 0x3be) {
      // sign_bias == 0 here because y is not odd
      if (hx === 0x3ff00000 && lx === 0) return 1.0;
      const gt1 = hx > 0x3ff00000 || (hx === 0x3ff00000 && lx > 0);
      if ((topy & 0x7ff) < 0x3be) return gt1 ? 1.0 + y : 1.0 - y;
      return gt1 === topy < 0x800 ? Infinity : 0; // __math_oflow(0) / __math_uflow(0)
    }
    if (topx === 0) {
      // subnormal x: normalize so the exponent becomes negative
      F64[0] = x * TWO_52;
      hx = (U32[1] & 0x7fffffff) - (52 << 20);
      lx = U32[0];
    }
  }
  const lhi = logInline(hx, lx);
  const ltail = LOG_TAIL[0];
  const ehi = y * lhi;
  const elo = fma(y, ltail, fma(y, lhi, -ehi));
  return expInline(ehi, elo, signBias);
}
