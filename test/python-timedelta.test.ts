import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  halveTimedelta,
  timedeltaFromFloat,
  totalSeconds,
  US_PER_HOUR,
  US_PER_SECOND,
} from '../lambda/time/python-timedelta.js';

// Expected values are CPython's datetime.timedelta results, written once by
// scripts/fixtures/timedelta_fixture.py (floats as Python reprs).
interface TimedeltaFixture {
  seconds: { value: string; us: number; exactHalf: boolean }[];
  hours: { value: string; us: number; exactHalf: boolean }[];
  halve: { us: number; half: number }[];
  totalSeconds: { us: number; seconds: string }[];
}

const fixture = JSON.parse(
  readFileSync(new URL('./fixtures/timedelta.json', import.meta.url), 'utf8'),
) as TimedeltaFixture;

function mismatches(cases: { value: string; us: number }[], unitUs: number) {
  return cases
    .map((c) => ({ value: c.value, expected: c.us, actual: timedeltaFromFloat(Number(c.value), unitUs) }))
    .filter((m) => m.actual !== m.expected);
}

describe('timedeltaFromFloat vs CPython timedelta(seconds=f)', () => {
  const positive = fixture.seconds.filter((c) => Number(c.value) >= 0);
  const negative = fixture.seconds.filter((c) => Number(c.value) < 0);

  it('the fixture has exact .5-microsecond leftovers that round both ways, and plenty of ordinary values', () => {
    const halves = positive.filter((c) => c.exactHalf);
    expect(halves.length).toBeGreaterThanOrEqual(50);
    expect(positive.length).toBeGreaterThanOrEqual(800);
    // Round-half-to-even sends some halves up and some down relative to truncation.
    const truncated = (c: { value: string }) =>
      Math.trunc(Number(c.value)) * 1e6 + Math.trunc(1e6 * (Number(c.value) - Math.trunc(Number(c.value))));
    expect(halves.some((c) => c.us === truncated(c))).toBe(true);
    expect(halves.some((c) => c.us === truncated(c) + 1)).toBe(true);
  });

  it('matches on every non-negative value (random offsets up to 3.2e7 s, tiny values, exact halves)', () => {
    expect(mismatches(positive, US_PER_SECOND)).toEqual([]);
  });

  it('matches on the exact-half cases specifically', () => {
    const halves = positive.filter((c) => c.exactHalf);
    expect(mismatches(halves, US_PER_SECOND)).toEqual([]);
  });

  it('named cases: 0.0000005 s, 1.0000005 s, 2.5e-6 s, 3.5e-6 s, 1/128 s, 3/128 s', () => {
    for (const v of ['5e-07', '1.0000005', '2.5e-06', '3.5e-06', '0.0078125', '0.0234375']) {
      const c = fixture.seconds.find((x) => x.value === v);
      expect(c, v).toBeDefined();
      expect(timedeltaFromFloat(Number(v), US_PER_SECOND), v).toBe(c!.us);
    }
    // 1/128 s is 7812.5 us: an exact tie resolved to the even 7812; 3/128 s = 23437.5 us → 23438.
    expect(timedeltaFromFloat(1 / 128, US_PER_SECOND)).toBe(7812);
    expect(timedeltaFromFloat(3 / 128, US_PER_SECOND)).toBe(23438);
  });

  it('is not Math.round(f * 1e6): the fixture has values where that differs from CPython', () => {
    const differs = positive.filter((c) => Math.round(Number(c.value) * 1e6) !== c.us);
    expect(differs.length).toBeGreaterThan(0);
    expect(mismatches(differs, US_PER_SECOND)).toEqual([]);
  });

  it('matches on negative values', () => {
    expect(negative.length).toBeGreaterThan(0);
    expect(mismatches(negative, US_PER_SECOND)).toEqual([]);
  });
});

describe('timedeltaFromFloat vs CPython timedelta(hours=h)', () => {
  it('named cases: 24, 36.5, 0.25, 1/3', () => {
    expect(timedeltaFromFloat(24, US_PER_HOUR)).toBe(86_400_000_000);
    expect(timedeltaFromFloat(36.5, US_PER_HOUR)).toBe(131_400_000_000);
    expect(timedeltaFromFloat(0.25, US_PER_HOUR)).toBe(900_000_000);
    const third = fixture.hours.find((c) => Number(c.value) === 1 / 3)!;
    expect(timedeltaFromFloat(1 / 3, US_PER_HOUR)).toBe(third.us);
  });

  it('matches every fixture value, including exact half-microsecond leftovers', () => {
    expect(fixture.hours.filter((c) => c.exactHalf).length).toBeGreaterThanOrEqual(10);
    expect(mismatches(fixture.hours, US_PER_HOUR)).toEqual([]);
  });
});

describe('halveTimedelta vs CPython timedelta(microseconds=n) / 2 (round half to even)', () => {
  it('small odd and even values', () => {
    const cases: [number, number][] = [
      [0, 0],
      [1, 0],
      [2, 1],
      [3, 2],
      [5, 2],
      [7, 4],
      [-1, 0],
      [-3, -2],
      [-5, -2],
    ];
    for (const [n, half] of cases) {
      expect(halveTimedelta(n), `n=${n}`).toBe(half);
      expect(fixture.halve.find((c) => c.us === n)?.half, `fixture n=${n}`).toBe(half);
    }
  });

  it('matches every fixture value (odd/even, big values up to 2^53)', () => {
    const bad = fixture.halve
      .filter((c) => halveTimedelta(c.us) !== c.half)
      .map((c) => ({ ...c, actual: halveTimedelta(c.us) }));
    expect(bad).toEqual([]);
    expect(fixture.halve.some((c) => c.us % 2 === 1 && c.us > 1e12)).toBe(true);
  });
});

describe('totalSeconds vs CPython timedelta.total_seconds()', () => {
  it('matches every fixture value bit for bit', () => {
    const bad = fixture.totalSeconds
      .filter((c) => !Object.is(totalSeconds(c.us), Number(c.seconds)))
      .map((c) => ({ ...c, actual: totalSeconds(c.us) }));
    expect(bad).toEqual([]);
    expect(fixture.totalSeconds.length).toBeGreaterThan(200);
  });
});
