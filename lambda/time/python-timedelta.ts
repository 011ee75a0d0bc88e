/**
 * CPython `datetime.timedelta` arithmetic on integer microseconds, as the reference relies on it.
 * Durations here are plain Numbers of microseconds; they stay far below 2^53.
 */

export const US_PER_SECOND = 1_000_000;
export const US_PER_HOUR = 3_600_000_000;

/**
 * `timedelta(<unit>=value)` for a float `value`, where `unitUs` is the unit in microseconds.
 * CPython keeps the integer part exact, truncates `unitUs * frac` and rounds the leftover
 * fraction half away from zero, except that an exact half goes to the even total.
 */
export function timedeltaFromFloat(value: number, unitUs: number): number {
  const ip = Math.trunc(value);
  const frac = value - ip;
  let us = ip * unitUs;
  if (frac === 0) return us;
  const scaled = unitUs * frac;
  const scaledInt = Math.trunc(scaled);
  us += scaledInt;
  const leftover = scaled - scaledInt;
  if (leftover === 0) return us;
  let whole = roundHalfAwayFromZero(leftover);
  if (Math.abs(whole - leftover) === 0.5) {
    const odd = us % 2 !== 0 ? 1 : 0;
    whole = 2 * roundHalfAwayFromZero((leftover + odd) * 0.5) - odd;
  }
  return us + whole;
}

function roundHalfAwayFromZero(x: number): number {
  return x < 0 ? -Math.round(-x) : Math.round(x);
}

/** `timedelta / 2`: integer microseconds divided with round-half-to-even. */
export function halveTimedelta(us: number): number {
  const q = Math.floor(us / 2);
  const r = us - 2 * q;
  // r is 0 or 1; a remainder of exactly half goes to the even quotient.
  return r === 1 && q % 2 !== 0 ? q + 1 : q;
}

/** `timedelta.total_seconds()`: microseconds / 10**6, correctly rounded. */
export function totalSeconds(us: number): number {
  return us / US_PER_SECOND;
}
