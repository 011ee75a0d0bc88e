import { describe, expect, it } from 'vitest';
import { parseConfig } from '../lambda/validation/validate.js';
import type { GenerationConfigInput } from '../lambda/config/schema.js';
import { createEngine } from '../lambda/engine/create-engine.js';
import { ITEM_50GB } from '../lambda/engine/user-batch.js';
import { utcTimestampSeconds } from '../lambda/time/utc-timestamp.js';

/**
 * Statistical equivalence of the seedrandom engine with the reference engine on the same
 * parameters. Every tolerance comes from the sample sizes at a stated significance level:
 *
 *  - ALPHA = 0.001 family-wise for each group of comparisons, Bonferroni-split over the group's
 *    k tests: two-sided z tests use |z| < Φ⁻¹(1 − ALPHA / (2k)); two-sample Kolmogorov–Smirnov
 *    tests use D < c(α) · sqrt((n + m) / (n m)) with c(α) = sqrt(−ln(α / 2) / 2), α = ALPHA / k.
 *  - Means (uploads per user in a tier of a cohort): Welch z on per-user counts, the standard
 *    error from the per-user sample variances (the lognormal rates make counts overdispersed,
 *    so a Poisson standard error would be too small).
 *  - Proportions (50 GB share, spike hit rate): pooled two-proportion z.
 *  - Distributions (inter-arrival times, tier change times): KS on one value per user (the first
 *    gap between two uploads; each change time), so the samples are i.i.d. as KS assumes. Times
 *    are whole seconds in both engines (ties make KS conservative).
 *
 * Each statistic is also shown to reject a deliberately wrong model (a modified config on the
 * seedrandom side) at the same critical value, so the tests have power, not just tolerance.
 */
const ALPHA = 0.001;
const USERS = 40_000;

// ---- statistics -------------------------------------------------------------------------------

/** Φ(x), the standard normal CDF, from erfc (Numerical Recipes' erfcc, |error| < 1.2e-7). */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  const erfc =
    t *
    Math.exp(
      -z * z -
        1.26551223 +
        t *
          (1.00002368 +
            t *
              (0.37409196 +
                t *
                  (0.09678418 +
                    t *
                      (-0.18628806 +
                        t *
                          (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))),
    );
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}
/** Φ⁻¹(p) by bisection. */
function normalQuantile(p: number): number {
  let lo = -40;
  let hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}
const zCritical = (tests: number) => normalQuantile(1 - ALPHA / (2 * tests));
const ksCritical = (n: number, m: number, tests: number) =>
  Math.sqrt(-Math.log(ALPHA / tests / 2) / 2) * Math.sqrt((n + m) / (n * m));

function meanVar(xs: number[]): { n: number; mean: number; variance: number } {
  const n = xs.length;
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const variance = xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1);
  return { n, mean, variance };
}
function welchZ(a: number[], b: number[]): number {
  const x = meanVar(a);
  const y = meanVar(b);
  return (x.mean - y.mean) / Math.sqrt(x.variance / x.n + y.variance / y.n);
}
function proportionZ(hitsA: number, nA: number, hitsB: number, nB: number): number {
  const p = (hitsA + hitsB) / (nA + nB);
  return (hitsA / nA - hitsB / nB) / Math.sqrt(p * (1 - p) * (1 / nA + 1 / nB));
}
/** Two-sample Kolmogorov–Smirnov statistic (ties handled by stepping over equal values together). */
function ksStatistic(a: number[], b: number[]): number {
  const x = Float64Array.from(a).sort();
  const y = Float64Array.from(b).sort();
  let i = 0;
  let j = 0;
  let d = 0;
  while (i < x.length && j < y.length) {
    const v = Math.min(x[i], y[j]);
    while (i < x.length && x[i] === v) i++;
    while (j < y.length && y[j] === v) j++;
    d = Math.max(d, Math.abs(i / x.length - j / y.length));
  }
  return d;
}

// ---- what each engine produced -----------------------------------------------------------------

interface Sample {
  /** Per (cohort, tier interval index): uploads of each user in that interval. */
  counts: Map<string, number[]>;
  /** Per (cohort, tier interval index): hours of exposure, summed. */
  hours: Map<string, number>;
  /** 50 GB uploads and all uploads in premium intervals that start the window (no spike there). */
  large: number;
  premiumNoSpike: number;
  /** Upgrades (premium intervals after the start), those with a 50 GB upload in their first hour, and those uploads. */
  upgrades: number;
  upgradesHit: number;
  firstHour50: number[];
  /** First within-user gap (seconds) of users in cohorts 1 and 2 (one tier all window). */
  firstGap: number[];
  /** Relative change times (seconds) per `cohort/change index`. */
  changes: Map<string, number[]>;
}

function sample(raw: GenerationConfigInput): Sample {
  const config = parseConfig({ users: USERS, ...raw });
  const start = utcTimestampSeconds(config.start);
  const s: Sample = {
    counts: new Map(),
    hours: new Map(),
    large: 0,
    premiumNoSpike: 0,
    upgrades: 0,
    upgradesHit: 0,
    firstHour50: [],
    firstGap: [],
    changes: new Map(),
  };
  const push = <K>(map: Map<K, number[]>, key: K, v: number) => {
    const list = map.get(key);
    if (list) list.push(v);
    else map.set(key, [v]);
  };
  for (const b of createEngine(config)) {
    for (let t = 0; t < b.tierCount; t++) {
      const from = b.tierFrom[t];
      const until = b.tierUntil[t];
      const key = `${b.cohort}/${t}`;
      let n = 0;
      let large = 0;
      let firstHourLarge = 0;
      for (let j = 0; j < b.uploadCount; j++) {
        const at = b.uploadAt[j];
        if (at < from || at >= until) continue;
        n++;
        if (b.uploadItemId[j] === ITEM_50GB) {
          large++;
          if (at < from + 3600) firstHourLarge++;
        }
      }
      push(s.counts, key, n);
      s.hours.set(key, (s.hours.get(key) ?? 0) + (until - from) / 3600);
      if (t > 0) push(s.changes, `${b.cohort}/${t}`, from - start);
      if (b.tierIsPremium[t] && t === 0) {
        s.large += large;
        s.premiumNoSpike += n;
      }
      if (b.tierIsPremium[t] && t > 0) {
        s.upgrades++;
        if (firstHourLarge > 0) s.upgradesHit++;
        s.firstHour50.push(firstHourLarge);
      }
    }
    if ((b.cohort === 1 || b.cohort === 2) && b.uploadCount >= 2) s.firstGap.push(b.uploadAt[1] - b.uploadAt[0]);
  }
  return s;
}

// ---- the comparisons ---------------------------------------------------------------------------

interface Outcome {
  name: string;
  statistic: number;
  critical: number;
}

function compare(
  a: Sample,
  b: Sample,
): { rates: Outcome[]; share: Outcome[]; spike: Outcome[]; gaps: Outcome[]; changes: Outcome[] } {
  const rateKeys = [...a.counts.keys()].sort();
  const rates = rateKeys.map((key) => ({
    name: `uploads per user, cohort/interval ${key} (per user-hour: ${(sum(a.counts.get(key)!) / a.hours.get(key)!).toFixed(4)} vs ${(sum(b.counts.get(key)!) / b.hours.get(key)!).toFixed(4)})`,
    statistic: Math.abs(welchZ(a.counts.get(key)!, b.counts.get(key)!)),
    critical: zCritical(rateKeys.length),
  }));
  const share = [
    {
      name: `50 GB share of premium non-spike uploads (${(a.large / a.premiumNoSpike).toFixed(4)} vs ${(b.large / b.premiumNoSpike).toFixed(4)})`,
      statistic: Math.abs(proportionZ(a.large, a.premiumNoSpike, b.large, b.premiumNoSpike)),
      critical: zCritical(1),
    },
  ];
  const spike = [
    {
      name: `upgrades with a 50 GB upload in their first hour (${(a.upgradesHit / a.upgrades).toFixed(4)} vs ${(b.upgradesHit / b.upgrades).toFixed(4)})`,
      statistic: Math.abs(proportionZ(a.upgradesHit, a.upgrades, b.upgradesHit, b.upgrades)),
      critical: zCritical(2),
    },
    {
      name: '50 GB uploads in the first hour after an upgrade, per upgrade',
      statistic: Math.abs(welchZ(a.firstHour50, b.firstHour50)),
      critical: zCritical(2),
    },
  ];
  const gaps = [
    {
      name: `first inter-arrival time, cohorts 1-2 (n = ${a.firstGap.length}, ${b.firstGap.length})`,
      statistic: ksStatistic(a.firstGap, b.firstGap),
      critical: ksCritical(a.firstGap.length, b.firstGap.length, 1),
    },
  ];
  const changeKeys = [...a.changes.keys()].sort();
  const changes = changeKeys.map((key) => ({
    name: `tier change times, cohort/change ${key}`,
    statistic: ksStatistic(a.changes.get(key)!, b.changes.get(key)!),
    critical: ksCritical(a.changes.get(key)!.length, b.changes.get(key)!.length, changeKeys.length),
  }));
  return { rates, share, spike, gaps, changes };
}
const sum = (xs: number[]) => xs.reduce((x, y) => x + y, 0);
const passes = (outcomes: Outcome[]) => outcomes.filter((o) => o.statistic >= o.critical).map((o) => o.name);

describe(`seedrandom engine vs reference engine, ${USERS} users each (α = ${ALPHA} family-wise per statistic)`, () => {
  const config: GenerationConfigInput = { seed: 2024, minTierGapHours: 24 };
  const reference = sample({ ...config, engine: 'reference' });
  const ours = sample({ ...config, engine: 'seedrandom' });
  const result = compare(reference, ours);

  it('reports its statistics', () => {
    for (const o of Object.values(result).flat())
      console.log(`${o.name}: ${o.statistic.toFixed(4)} (critical ${o.critical.toFixed(4)})`);
  });

  it('critical values are what the formulas give', () => {
    expect(zCritical(1)).toBeCloseTo(3.2905, 3);
    expect(ksCritical(1000, 1000, 1)).toBeCloseTo(1.9495 * Math.sqrt(2 / 1000), 4);
  });

  it.each(['rates', 'share', 'spike', 'gaps', 'changes'] as const)('%s: no difference detected', (group) => {
    expect(result[group].length).toBeGreaterThan(0);
    for (const o of result[group])
      expect(o.statistic, `${o.name}: ${o.statistic.toFixed(4)} >= ${o.critical.toFixed(4)}`).toBeLessThan(o.critical);
  });

  it('the same statistics detect a deliberately wrong model on one side', () => {
    const wrongRate = compare(
      reference,
      sample({ ...config, engine: 'seedrandom', premiumUploadsPerDay: { mean: 3.3, std: 1.0 } }),
    );
    expect(passes(wrongRate.rates).some((n) => n.includes('1/0'))).toBe(true); // cohort 1: premium all window
    const wrongShare = compare(reference, sample({ ...config, engine: 'seedrandom', premiumLargeShare: 0.43 }));
    expect(passes(wrongShare.share)).toHaveLength(1);
    const wrongSpike = compare(
      reference,
      sample({ ...config, engine: 'seedrandom', upgradeSpike: { probability: 0.85 } }),
    );
    expect(passes(wrongSpike.spike).length).toBeGreaterThan(0);
    const wrongGaps = compare(
      reference,
      sample({ ...config, engine: 'seedrandom', freeUploadsPerDay: { mean: 1.3, std: 0.7 } }),
    );
    expect(passes(wrongGaps.gaps)).toHaveLength(1);
    const wrongChanges = compare(reference, sample({ ...config, engine: 'seedrandom', minTierGapHours: 48 }));
    expect(passes(wrongChanges.changes).length).toBeGreaterThan(2);
  });
});
