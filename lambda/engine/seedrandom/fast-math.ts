import { exp } from '../../libm/exp.js';
import { log } from '../../libm/log.js';

/**
 * log and exp for the engine's sampling, ~5x cheaper than the exact libm ones (which emulate
 * glibc's fused operations bit for bit, ~30-40 ns a call): a table from the libm once per process,
 * then a short polynomial. Only `+ - * /`, Math.floor and Math.clz32, so the same bits on every
 * machine. Accurate to a few ulps, not correctly rounded: they draw random variates, where that is
 * far below the 2^-32 resolution of a uniform.
 */

const LN2 = log(2);

// fastLog: t = 2^e * m with m in [1, 2), e from the leading zeros of floor(t); m near the centre
// c_i = 1 + (i + 1/2)/128 of its 1/128 slice: log m = log c_i + log1p(r), r = (m - c_i) / c_i,
// |r| < 2^-8, log1p to r^5 (the next term is below 6e-16).
const LOG_SLICES = 128;
/** Indexed by clz32(floor(t)): 2^-e and e * ln 2; clz32 is 32 only for t = 2^32, where e = 32. */
const LOG_SCALE = Float64Array.from({ length: 33 }, (_, z) => 2 ** -(z === 32 ? 32 : 31 - z));
const LOG_POWER = Float64Array.from({ length: 33 }, (_, z) => (z === 32 ? 32 : 31 - z) * LN2);
const LOG_CENTER = Float64Array.from({ length: LOG_SLICES }, (_, i) => 1 + (i + 0.5) / LOG_SLICES);
const LOG_CENTER_INV = LOG_CENTER.map((c) => 1 / c);
const LOG_CENTER_LN = LOG_CENTER.map((c) => log(c));

/** ln t for t in [1, 2^32], to within 1e-14. */
export function fastLog(t: number): number {
  const z = Math.clz32(t);
  const m = t * LOG_SCALE[z];
  const i = ((m - 1) * LOG_SLICES) | 0;
  const r = (m - LOG_CENTER[i]) * LOG_CENTER_INV[i]; // m - c_i is exact (Sterbenz)
  return LOG_POWER[z] + (LOG_CENTER_LN[i] + r * (1 + r * (-0.5 + r * (1 / 3 + r * (-0.25 + r * 0.2)))));
}

const TWO_POW_32 = 2 ** 32;
const LN_TWO_POW_32 = fastLog(TWO_POW_32);

/** ln s for s in (0, 1]; the libm below 2^-32 (a normal quantile's tail reaches there with probability 2^-32). */
export function fastLogUnit(s: number): number {
  return s >= 1 / TWO_POW_32 ? fastLog(s * TWO_POW_32) - LN_TWO_POW_32 : log(s);
}

// fastExp: x = n + j/64 + r with n an integer, 0 <= j < 64, 0 <= r < 1/64 (up to rounding);
// exp x = e^n * e^(j/64) * exp(r), exp(r) from its Taylor series to r^6 (the next term is below
// 5e-17). The libm beyond |n| = 708, where e^n would overflow or lose precision.
const EXP_MAX_INTEGER = 708;
const EXP_INTEGERS = Float64Array.from({ length: 2 * EXP_MAX_INTEGER + 1 }, (_, i) => exp(i - EXP_MAX_INTEGER));
const EXP_64THS = Float64Array.from({ length: 64 }, (_, j) => exp(j / 64));

/** e^x. */
export function fastExp(x: number): number {
  const m = Math.floor(x * 64);
  const n = Math.floor(m * (1 / 64));
  if (!(n >= -EXP_MAX_INTEGER && n <= EXP_MAX_INTEGER)) return exp(x);
  const r = x - m * (1 / 64);
  const er = 1 + r * (1 + r * (1 / 2) * (1 + r * (1 / 3) * (1 + r * (1 / 4) * (1 + r * (1 / 5) * (1 + r * (1 / 6))))));
  return EXP_INTEGERS[n + EXP_MAX_INTEGER] * (EXP_64THS[m - 64 * n] * er);
}

// normalQuantile: Acklam's rational approximation of the inverse normal CDF (relative error below
// 1.2e-9): one rational function on 0.02425 <= p <= 0.97575, another in sqrt(-2 ln p) in the tails.
// Coefficients written in place (not in arrays) so that V8 inlines the function.
const Q_TAIL = 0.02425;

/** The standard normal quantile of p in (0, 1): a normal variate from one uniform, no rejection. */
export function normalQuantile(p: number): number {
  if (p < Q_TAIL || p > 1 - Q_TAIL) {
    const q = Math.sqrt(-2 * fastLogUnit(p < 0.5 ? p : 1 - p));
    const z =
      (((((-7.784894002430293e-3 * q - 3.223964580411365e-1) * q - 2.400758277161838) * q - 2.549732539343734) * q +
        4.374664141464968) *
        q +
        2.938163982698783) /
      ((((7.784695709041462e-3 * q + 3.224671290700398e-1) * q + 2.445134137142996) * q + 3.754408661907416) * q + 1);
    return p < 0.5 ? z : -z;
  }
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((-3.969683028665376e1 * r + 2.209460984245205e2) * r - 2.759285104469687e2) * r + 1.38357751867269e2) * r -
      3.066479806614716e1) *
      r +
      2.506628277459239) *
      q) /
    (((((-5.447609879822406e1 * r + 1.615858368580409e2) * r - 1.556989798598866e2) * r + 6.680131188771972e1) * r -
      1.328068155288572e1) *
      r +
      1)
  );
}
