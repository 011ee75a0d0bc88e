// log(x) bit-identical to glibc 2.36 `__log_fma` (x86-64, FMA ifunc variant),
// i.e. to Python's math.log(x) for x > 0 on such a machine.
//
// Origin: ARM optimized-routines math/log.c (Szabolcs Nagy, Copyright (c) 2018
// Arm Ltd, SPDX-License-Identifier: MIT OR Apache-2.0 WITH LLVM-exception), as
// shipped in glibc sysdeps/ieee754/dbl-64/e_log.c; tables in log-data.ts.
// LOG_TABLE_BITS = 7, LOG_POLY_ORDER = 6, LOG_POLY1_ORDER = 12.
//
// FMA contractions emulated (read off the disassembly of __ieee754_log_fma in
// this machine's libm.so.6; GCC contracts across statements):
//  main path
//   r  = fma(z, invc, -1.0)                     (the __FP_FAST_FMA branch)
//   w  = fma(kd, Ln2hi, logc)                   (exact anyway, see below)
//   lo = fma(kd, Ln2lo, (w - hi) + r)
//   y  = fma(r*r2, fma(fma(r, A4, A3), r2, fma(r, A2, A1)), fma(r2, A0, lo)) + hi
//  near-1 path (1 - 2^-4 <= x < 1 + 0x1.09p-4)
//   every B-polynomial step  a + b*c  is fused (see near1 below),
//   y = fma(poly, r3, fma(B0*rlo, r + rhi, lo)) + hi   (`y = r3*P; y += lo` fused)
//   fma(r, 2^27, r), fma(-2^27, r, .), fma(rhi*rhi, B0, .) are also fused but have
//   exact products (power-of-two / 26-bit operands), so plain arithmetic matches.
// Main path speed-up: r is always emulated exactly, then the rest is first done
// with plain arithmetic and the final rounding is certified with a rigorous
// error bound (Ziv-style); only when a rounding boundary is too close
// (~0.01-0.3% of random inputs) is every remaining fused operation emulated
// exactly (logSlow).  setLogForceExact(true) disables the shortcut for tests.

import { fma, fmaPE, hexToDouble, SPLITTER, splitHigh } from './fma.js';
import { LOG_LN2HI_BITS, LOG_LN2LO_BITS, LOG_POLY1_BITS, LOG_POLY_BITS, LOG_TAB_BITS } from './log-data.js';

const F64 = new Float64Array(1);
const U32 = new Uint32Array(F64.buffer);
const TWO_27 = 2 ** 27;
const TWO_52 = 2 ** 52;
const TWO_M53 = 2 ** -53;

const Ln2hi = hexToDouble(LOG_LN2HI_BITS);
const Ln2lo = hexToDouble(LOG_LN2LO_BITS);
const Ln2loH = splitHigh(Ln2lo);
const Ln2loL = Ln2lo - Ln2loH;
const A = LOG_POLY_BITS.map(hexToDouble);
const A0 = A[0];
const A1 = A[1];
const A2 = A[2];
const A3 = A[3];
const A4 = A[4];
const B = LOG_POLY1_BITS.map(hexToDouble);
const B0 = B[0];
const B1 = B[1];
const B2 = B[2];
const B3 = B[3];
const B4 = B[4];
const B5 = B[5];
const B6 = B[6];
const B7 = B[7];
const B8 = B[8];
const B9 = B[9];
const B10 = B[10];

const INVC = new Float64Array(128);
const INVC_H = new Float64Array(128);
const INVC_L = new Float64Array(128);
const LOGC = new Float64Array(128);
for (let i = 0; i < 128; i++) {
  INVC[i] = hexToDouble(LOG_TAB_BITS[2 * i]);
  LOGC[i] = hexToDouble(LOG_TAB_BITS[2 * i + 1]);
  INVC_H[i] = splitHigh(INVC[i]);
  INVC_L[i] = INVC[i] - INVC_H[i];
}

// A0 = -(0.5 + 2^-53) exactly: r2*A0 = -0.5*r2 - 2^-53*r2 (both exact).
if (A0 !== -(0.5 + 2 ** -53) || B0 !== -0.5) throw new Error('libm/log: unexpected table');

const OFF_HI = 0x3fe60000; // OFF = 0x3fe6000000000000
const CERT_D = 2 ** -63;
let forceExact = false;
/** Testing hook: when set, log() skips its certified fast path (main path). */
export function setLogForceExact(on: boolean): void {
  forceExact = on;
}

function near1(x: number): number {
  const r = x - 1.0; // exact (Sterbenz)
  const r2 = r * r;
  const r3 = r * r2;
  // Polynomial steps a + b*c; |r| < 0.065 so each has |a| >= 8|b*c| by
  // construction (coefficients ~ (-1)^(n+1)/n): the fused result is s = RN(a + RN(b*c))
  // unless that sum is a rounding tie (fmaD argument in fma.ts), then the exact
  // fma decides.  Written out by hand: V8 would not inline a helper here.
  let p: number;
  let s: number;
  let t: number;
  let t2: number;
  p = r * B2;
  s = B1 + p;
  t = p - (s - B1);
  t2 = t + t;
  let pa = t !== 0 && s + t2 - s === t2 ? fma(r, B2, B1) : s;
  p = r * B5;
  s = B4 + p;
  t = p - (s - B4);
  t2 = t + t;
  let pb = t !== 0 && s + t2 - s === t2 ? fma(r, B5, B4) : s;
  p = r * B8;
  s = B7 + p;
  t = p - (s - B7);
  t2 = t + t;
  let pc = t !== 0 && s + t2 - s === t2 ? fma(r, B8, B7) : s;
  p = r2 * B3;
  s = pa + p;
  t = p - (s - pa);
  t2 = t + t;
  pa = t !== 0 && s + t2 - s === t2 ? fma(r2, B3, pa) : s;
  p = r2 * B6;
  s = pb + p;
  t = p - (s - pb);
  t2 = t + t;
  pb = t !== 0 && s + t2 - s === t2 ? fma(r2, B6, pb) : s;
  p = r2 * B9;
  s = pc + p;
  t = p - (s - pc);
  t2 = t + t;
  pc = t !== 0 && s + t2 - s === t2 ? fma(r2, B9, pc) : s;
  p = r3 * B10;
  s = pc + p;
  t = p - (s - pc);
  t2 = t + t;
  pc = t !== 0 && s + t2 - s === t2 ? fma(r3, B10, pc) : s;
  p = pc * r3;
  s = pb + p;
  t = p - (s - pb);
  t2 = t + t;
  pc = t !== 0 && s + t2 - s === t2 ? fma(pc, r3, pb) : s;
  p = pc * r3;
  s = pa + p;
  t = p - (s - pa);
  t2 = t + t;
  const poly = t !== 0 && s + t2 - s === t2 ? fma(pc, r3, pa) : s;
  // w = r*2^27 is exact, so the fused r + w and (r + w) - w equal the plain ones.
  const w = r * TWO_27;
  const rhi = r + w - w;
  const rlo = r - rhi;
  const ww = rhi * rhi * B0; // exact: rhi has <= 26 bits, B0 = -0.5
  const hi = r + ww;
  const lo = r - hi + ww;
  // lo2 = fma(B0*rlo, rhi + r, lo); C: y = r3*poly; ... y += lo; y += hi;
  // -> GCC: fma(poly, r3, lo2) + hi.  Neither is addend-dominated: generic fma
  // (Dekker product error + fmaPE fast path), inlined by hand.  Only the sign of
  // a zero lo2 may differ from fma(), which cannot reach the result (hi != 0).
  const a1 = B0 * rlo;
  const b1 = rhi + r;
  p = a1 * b1;
  let u = SPLITTER * a1;
  let ah = u - (u - a1);
  let al = a1 - ah;
  u = SPLITTER * b1;
  let bh = u - (u - b1);
  let bl = b1 - bh;
  let e = ah * bh - p + ah * bl + al * bh + al * bl;
  s = lo + p;
  let bb = s - lo;
  t = lo - (s - bb) + (p - bb);
  let v = t + e;
  let vb = v - t;
  let v2 = v + v;
  const lo2 =
    t - (v - vb) + (e - vb) === 0 || (Math.abs(v) <= Math.abs(s) * TWO_M53 && s + v2 - s !== v2)
      ? s + v
      : fmaPE(p, e, lo);
  p = poly * r3;
  u = SPLITTER * poly;
  ah = u - (u - poly);
  al = poly - ah;
  u = SPLITTER * r3;
  bh = u - (u - r3);
  bl = r3 - bh;
  e = ah * bh - p + ah * bl + al * bh + al * bl;
  s = lo2 + p;
  bb = s - lo2;
  t = lo2 - (s - bb) + (p - bb);
  v = t + e;
  vb = v - t;
  v2 = v + v;
  const y =
    t - (v - vb) + (e - vb) === 0 || (Math.abs(v) <= Math.abs(s) * TWO_M53 && s + v2 - s !== v2)
      ? s + v
      : fmaPE(p, e, lo2);
  return y + hi;
}

/** Natural logarithm, bit-identical to glibc 2.36 __log_fma. */
export function log(x: number): number {
  if (x >= 0.9375 && x < 1.064697265625) {
    // 1 - 2^-4 <= x < 1 + 0x1.09p-4
    if (x === 1) return 0;
    return near1(x);
  }
  F64[0] = x;
  let hx = U32[1];
  const top = hx >>> 16;
  if ((top - 0x0010) >>> 0 >= 0x7ff0 - 0x0010) {
    // x < 0x1p-1022 or inf or nan
    if (x === 0) return -Infinity; // __math_divzero(1)
    if (x === Infinity) return x;
    if (top & 0x8000 || (top & 0x7ff0) === 0x7ff0) return NaN; // __math_invalid
    // subnormal: normalize
    F64[0] = x * TWO_52;
    hx = U32[1] - (52 << 20);
    U32[1] = hx;
  }
  const tmpHi = (hx - OFF_HI) | 0;
  const i = (tmpHi >>> 13) & 127;
  const k = tmpHi >> 20;
  U32[1] = hx - (tmpHi & 0xfff00000);
  const z = F64[0];
  const invc = INVC[i];
  const logc = LOGC[i];

  // r = fma(z, invc, -1): p = RN(z*invc) is within [0.5, 2], so p - 1 is exact
  // (Sterbenz) and r = RN((p - 1) + e) with e the exact product error (Dekker,
  // invc pre-split) is the single rounding of z*invc - 1.
  const p = z * invc;
  const zs = SPLITTER * z;
  const zh = zs - (zs - z);
  const zl = z - zh;
  const ih = INVC_H[i];
  const il = INVC_L[i];
  const r = p - 1.0 + (zh * ih - p + zh * il + zl * ih + zl * il);

  const kd = k;
  // w = fma(kd, Ln2hi, logc): kd*Ln2hi is exact (42 + 11 bits) and the sum is
  // exact by construction of the table (logc is a multiple of 2^-43, |w| < 2^10).
  const w = kd * Ln2hi + logc;
  const hi = w + r;
  // c = w - hi + r, evaluated exactly like glibc does (two plain roundings).
  const c = w - hi + r;

  // Fast path (certified rounding).  glibc returns RN(hi + Y) where
  //   Y = RN(r3*q3 + m), m = RN(r2*A0 + lo), lo = RN(kd*Ln2lo + c)   (fused ops)
  // and hi is exactly our hi.  Unrolling, Y = c + kd*Ln2lo + r2*A0 + r3*q3 + eps
  // with |eps| <= ulp(lo)/2 + ulp(m)/2 + ulp(Y)/2 <= 2^-86 + 2 * 2^-69, since
  // |r| < 0.00390 < 2^-8 (checked over the table), |m|, |Y| < 2^-16 and
  // |lo| < 2^-33.  T below approximates Y with the plain (unfused) operations;
  // its own rounding errors are <= 3 * 2^-69 + 2^-85 and the unfused q3 differs
  // from glibc's by a few ulps of 1/3, times |r3| < 2^-24: < 2^-75.  So
  // |T - Y| < 2^-66 and with D = 2^-63 (8x margin, also covering the rounding of
  // T +- D) Y lies in [T - D, T + D].  RN(hi + .) is monotone, so if both ends
  // round to the same double, that double is RN(hi + Y).  Otherwise (a rounding
  // boundary is within D, probability ~2^-9 for typical |log x| ~ 1) fall back
  // to the exact emulation of every fused operation below.
  const r2 = r * r;
  const r3 = r * r2;
  const T = c + kd * Ln2lo + (r2 * A0 + r3 * (A1 + r * A2 + r2 * (A3 + r * A4)));
  const ya = hi + (T - CERT_D);
  if (ya === hi + (T + CERT_D) && !forceExact) return ya;
  return logSlow(r, kd, hi, c);
}

/** The exact emulation of lo, m, q1..q3 and y (see log()). */
function logSlow(r: number, kd: number, hi: number, c: number): number {
  // lo = fma(kd, Ln2lo, w - hi + r): kd is an 11-bit integer, so with the
  // pre-split Ln2lo the product error el is exact (two exact products).
  // Then fmaPE's fast path (inlined; see fma.ts for the proof).
  const pl = kd * Ln2lo;
  const el = kd * Ln2loH - pl + kd * Ln2loL;
  let lo = c + pl;
  let bb = lo - c;
  let tl = c - (lo - bb) + (pl - bb);
  let v = tl + el;
  let vb = v - tl;
  let v2 = v + v;
  if (tl - (v - vb) + (el - vb) === 0 || (Math.abs(v) <= Math.abs(lo) * TWO_M53 && lo + v2 - lo !== v2)) lo += v;
  else lo = fmaPE(pl, el, c);

  const r2 = r * r;
  // m = fma(r2, A0, lo).  A0 = -(1/2 + 2^-53): q = RN(r2*A0) and its exact error
  // (-r2/2 - q) - 2^-53*r2 (first difference exact by Sterbenz, and the result is
  // a representable product error, so the second is exact too).
  const q = r2 * A0;
  const eq = -0.5 * r2 - q - TWO_M53 * r2;
  let m = lo + q;
  bb = m - lo;
  tl = lo - (m - bb) + (q - bb);
  v = tl + eq;
  vb = v - tl;
  v2 = v + v;
  if (tl - (v - vb) + (eq - vb) === 0 || (Math.abs(v) <= Math.abs(m) * TWO_M53 && m + v2 - m !== v2)) m += v;
  else m = fmaPE(q, eq, lo);

  // q3 = fma(fma(r, A4, A3), r2, fma(r, A2, A1)); |r| < 0.004 so all three are
  // addend-dominated by construction (|addend| > 8|product|); only ties need
  // the exact fallback (fmaD argument, fma.ts).
  let pp = r * A2;
  let q1 = A1 + pp;
  let t = pp - (q1 - A1);
  let t2 = t + t;
  if (t !== 0 && q1 + t2 - q1 === t2) q1 = fma(r, A2, A1);
  pp = r * A4;
  let q2 = A3 + pp;
  t = pp - (q2 - A3);
  t2 = t + t;
  if (t !== 0 && q2 + t2 - q2 === t2) q2 = fma(r, A4, A3);
  pp = q2 * r2;
  let q3 = q1 + pp;
  t = pp - (q3 - q1);
  t2 = t + t;
  if (t !== 0 && q3 + t2 - q3 === t2) q3 = fma(q2, r2, q1);
  // y = fma(r*r2, q3, m) + hi: dominated unless m cancels -> checked at run time.
  const r3 = r * r2;
  pp = r3 * q3;
  let y = m + pp;
  if (Math.abs(m) >= 8 * Math.abs(pp)) {
    t = pp - (y - m);
    t2 = t + t;
    if (t !== 0 && y + t2 - y === t2) y = fma(r3, q3, m);
  } else y = fma(r3, q3, m);
  return y + hi;
}
