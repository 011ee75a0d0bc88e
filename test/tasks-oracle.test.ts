import { describe, expect, it } from 'vitest';
import { CsvBuffer } from '../lambda/rows/csv-buffer.js';
import { AnchorCursor, SCENARIOS } from '../lambda/tasks/anchors.js';
import { oracleProbability, type OracleParams, type TierIntervals } from '../lambda/tasks/oracle.js';
import { writeHoursFixed4 } from '../lambda/rows/task-files.js';

/**
 * The oracle on hand-built tier intervals. Every expected value is worked out here from the
 * model, in the spec's own form: 1 − e^(−Λ)·Π(1 − q + q((1 − p2)(1 − f) + p2(1 − f)²)), with Λ and
 * each f read off the interval picture by hand (the literals below), and Math.exp.
 */
const H = 3600;
const START = 1_740_787_200; // 2025-03-01T00:00:00Z
const R = 0.2; // premium uploads per hour
const S = 0.4; // premiumLargeShare
const Q = 0.9;
const P2 = 0.15;
const PARAMS: OracleParams = { start: START, premiumLargeShare: S, spikeProbability: Q, secondUploadProbability: P2 };

/** Intervals as [from, until, premium] with times in hours after START. */
function tiers(...spans: [number, number, boolean][]): TierIntervals {
  return {
    tierCount: spans.length,
    tierFrom: Float64Array.from(spans, ([a]) => START + a * H),
    tierUntil: Float64Array.from(spans, ([, b]) => START + b * H),
    tierIsPremium: Uint8Array.from(spans, ([, , p]) => (p ? 1 : 0)),
  };
}

/** The spec's formula: premiumHours = |W ∩ premium time| in hours, fs = the spike fractions. */
function expected(premiumHours: number, fs: number[], q = Q, p2 = P2): number {
  let miss = 1;
  for (const f of fs) miss *= 1 - q + q * ((1 - p2) * (1 - f) + p2 * (1 - f) ** 2);
  return 1 - Math.exp(-R * S * premiumHours) * miss;
}

const oracle = (anchorHours: number, intervals: TierIntervals, params = PARAMS) =>
  oracleProbability(START + anchorHours * H, intervals, R, params);

describe('oracleProbability', () => {
  // Cohort 4: free until 48 h, then premium (an upgrade at 48 h) to 240 h.
  const upgradeAt48 = tiers([0, 48, false], [48, 240, true]);

  it('free the whole hour, no upgrade near: exactly 0', () => {
    expect(oracle(12, upgradeAt48)).toBe(0);
    expect(oracle(0, tiers([0, 240, false]))).toBe(0);
  });

  it('premium for the whole window W, no spike in it: 1 − e^(−r s)', () => {
    expect(oracle(100, upgradeAt48)).toBeCloseTo(expected(1, []), 15);
    expect(oracle(100, upgradeAt48)).toBeCloseTo(1 - Math.exp(-0.08), 15);
    // Always premium (cohort 1, from == start): never a spike.
    expect(oracle(0, tiers([0, 240, true]))).toBeCloseTo(expected(1, []), 15);
    // Right after the spike window: f = 0.
    expect(oracle(49, upgradeAt48)).toBeCloseTo(expected(1, [0]), 15);
  });

  it('the upgrade anchor itself: W = S, f = 1', () => {
    expect(oracle(48, upgradeAt48)).toBeCloseTo(expected(1, [1]), 15);
    expect(oracle(48, upgradeAt48)).toBeCloseTo(1 - Math.exp(-0.08) * 0.1, 15);
  });

  it('W partly before the upgrade: a quarter of an hour free, f = 0.75', () => {
    expect(oracle(47.75, upgradeAt48)).toBeCloseTo(expected(0.75, [0.75]), 15);
    // W ends exactly where the spike window starts: f = 0 and no premium time.
    expect(oracle(47, upgradeAt48)).toBe(0);
    // W starts inside the spike window: 20 minutes of it left, f = 1/3.
    expect(oracle(48 + 2 / 3, upgradeAt48)).toBeCloseTo(expected(1, [1 / 3]), 15);
  });

  it('maxUploads 1 (p2 = 0) and 2 differ only when 0 < f < 1', () => {
    const one = { ...PARAMS, secondUploadProbability: 0 };
    expect(oracle(47.75, upgradeAt48, one)).toBeCloseTo(expected(0.75, [0.75], Q, 0), 15);
    expect(oracle(47.75, upgradeAt48, one)).toBeLessThan(oracle(47.75, upgradeAt48));
    expect(oracle(48, upgradeAt48, one)).toBeCloseTo(oracle(48, upgradeAt48), 15);
    // q = 0: the spike never happens; q = 1, f = 1: certain.
    expect(oracle(48, upgradeAt48, { ...PARAMS, spikeProbability: 0 })).toBeCloseTo(expected(1, []), 15);
    expect(oracle(48, upgradeAt48, { ...PARAMS, spikeProbability: 1 })).toBe(1);
  });

  it('a premium interval shorter than an hour truncates the spike window', () => {
    // Cohort 5 in a short window: free, premium for 20 minutes from 10 h, free again.
    const short = tiers([0, 10, false], [10, 10 + 1 / 3, true], [10 + 1 / 3, 20, false]);
    // W from 10 minutes before: the whole 20-minute spike window and premium period inside.
    expect(oracle(10 - 1 / 6, short)).toBeCloseTo(expected(1 / 3, [1]), 15);
    // W from 10 minutes after the upgrade: half of S, 10 minutes premium.
    expect(oracle(10 + 1 / 6, short)).toBeCloseTo(expected(1 / 6, [0.5]), 15);
    // The downgrade anchor: nothing left.
    expect(oracle(10 + 1 / 3, short)).toBe(0);
  });

  it('a downgrade inside W: only the premium part counts', () => {
    const downgradeAt100 = tiers([0, 100, true], [100, 240, false]);
    expect(oracle(99.5, downgradeAt100)).toBeCloseTo(expected(0.5, []), 15);
    expect(oracle(99.75, downgradeAt100)).toBeCloseTo(expected(0.25, []), 15);
    expect(oracle(100, downgradeAt100)).toBe(0);
    // Upgrade at 48 h and downgrade at 48.5 h, W from 47.75 h: 30 min premium, the spike window
    // truncated to 30 min and wholly inside W.
    const both = tiers([0, 48, false], [48, 48.5, true], [48.5, 240, false]);
    expect(oracle(47.75, both)).toBeCloseTo(expected(0.5, [1]), 15);
  });

  it('two upgrades whose spike windows both reach into W multiply', () => {
    // Not a cohort the engines make, but the formula's product: premium 10–10.5 h and 10.75–20 h.
    const two = tiers([0, 10, false], [10, 10.5, true], [10.5, 10.75, false], [10.75, 20, true]);
    // W = (10.25, 11.25]: first S = [10, 10.5), f = 0.5; second S = [10.75, 11.75), f = 0.5;
    // premium time 0.25 + 0.5 = 0.75 h.
    expect(oracle(10.25, two)).toBeCloseTo(expected(0.75, [0.5, 0.5]), 15);
  });

  it('a spike window of zero length as written counts when its instant is in W', () => {
    const instant = {
      tierCount: 3,
      tierFrom: Float64Array.of(START, START + 5 * H, START + 5 * H),
      tierUntil: Float64Array.of(START + 5 * H, START + 5 * H, START + 9 * H),
      tierIsPremium: Uint8Array.of(0, 1, 0),
    };
    expect(oracleProbability(START + 4.5 * H, instant, R, PARAMS)).toBeCloseTo(expected(0, [1]), 15);
    expect(oracleProbability(START + 5 * H, instant, R, PARAMS)).toBe(0);
  });
});

describe('AnchorCursor', () => {
  const settings = { start: START, end: START + 72 * H, gridSeconds: 12 * H };
  const anchorsOf = (intervals: TierIntervals) => {
    const cursor = new AnchorCursor();
    cursor.reset(intervals, settings);
    const out: [number, string, number][] = [];
    while (cursor.next()) out.push([(cursor.at - START) / H, SCENARIOS[cursor.scenario], cursor.tier]);
    return out;
  };

  it('the grid from start + grid to end − 1 h; premium_long from 24 h in the tier', () => {
    expect(anchorsOf(tiers([0, 72, true]))).toEqual([
      [12, 'premium_recent', 0],
      [24, 'premium_long', 0],
      [36, 'premium_long', 0],
      [48, 'premium_long', 0],
      [60, 'premium_long', 0],
    ]);
    // end − 1 h on the grid is included.
    const cursor = new AnchorCursor();
    cursor.reset(tiers([0, 73, false]), { ...settings, end: START + 73 * H });
    let last = 0;
    while (cursor.next()) last = (cursor.at - START) / H;
    expect(last).toBe(72);
  });

  it('changes merged in; a change on a grid anchor is one row, the change; a change after end − 1 h still counts', () => {
    const c5 = tiers([0, 24, false], [24, 30.5, true], [30.5, 71.5, false], [71.5, 72, true]);
    expect(anchorsOf(c5)).toEqual([
      [12, 'free', 0],
      [24, 'just_upgraded', 1],
      [30.5, 'just_downgraded', 2],
      [36, 'free', 2],
      [48, 'free', 2],
      [60, 'free', 2],
      [71.5, 'just_upgraded', 3],
    ]);
    expect(anchorsOf(tiers([0, 11, false], [11, 72, true]))).toEqual([
      [11, 'just_upgraded', 1],
      [12, 'premium_recent', 1],
      [24, 'premium_recent', 1],
      [36, 'premium_long', 1],
      [48, 'premium_long', 1],
      [60, 'premium_long', 1],
    ]);
  });
});

describe('hours_in_tier text', () => {
  it('equals (seconds / 3600).toFixed(4) for every second of the first day and across a year', () => {
    const out = new CsvBuffer(1 << 16);
    const check = (s: number) => {
      out.length = 0;
      writeHoursFixed4(s, out);
      const text = out.take().toString('latin1');
      if (text !== (s / 3600).toFixed(4)) expect(text, `${s} s`).toBe((s / 3600).toFixed(4));
    };
    for (let s = 0; s < 86_400; s++) check(s);
    for (let s = 86_400; s < 366 * 86_400; s += 997) check(s);
    check(366 * 86_400);
  });
});
