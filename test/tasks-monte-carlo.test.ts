import { describe, expect, it } from 'vitest';
import type { GenerationConfigInput } from '../lambda/config/schema.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { createEngine } from '../lambda/engine/create-engine.js';
import { ITEM_50GB, type UserBatch } from '../lambda/engine/user-batch.js';
import { AnchorCursor, SCENARIOS, type Scenario } from '../lambda/tasks/anchors.js';
import { oracleProbability, type OracleParams } from '../lambda/tasks/oracle.js';
import { taskSettings } from '../lambda/config/task-settings.js';

/**
 * The oracle against a Monte-Carlo estimate. The seedrandom engine's `uploadVariant` draws other,
 * independent uploads for the same users, tiers and rates; the oracle only depends on those, so
 * across variants each anchor's label is a Bernoulli draw with the anchor's oracle probability p.
 *
 * Per scenario: L = Σ labels, P = Σ p over every (user, variant, anchor), and the check is
 * |L − P| <= Z · sqrt(Σ p(1 − p)), Z = 4 (two-sided, < 1e-4 per comparison for a normal sum;
 * 10 comparisons here). The binomial variance is exact: within one scenario a user's anchors are
 * at least min(gridHours, minTierGapHours) >= 1 h apart, so their windows (t, t + 1 h] are disjoint,
 * and no two of them meet the same spike window (1 h long, after the upgrade); ordinary uploads
 * are a Poisson process, independent on disjoint windows; users and variants are independent.
 * Where Σ p(1 − p) = 0 (every p is 0 or 1) the labels must equal P exactly.
 *
 * Power: the same statistic over the same labels must reject deliberately wrong oracles.
 */
const Z = 4;
const VARIANTS = 12;

interface Tally {
  anchors: number;
  labels: number;
  oracle: number;
  variance: number;
}

/** A true or deliberately wrong oracle: the params and the premium rate it uses. */
interface OracleVariant {
  name: string;
  params: (p: OracleParams) => OracleParams;
  rate?: (r: number) => number;
}

const TRUE_ORACLE: OracleVariant = { name: 'the oracle', params: (p) => p };

/** 1 when a 50 GB upload is at a second in (t, t + 1 h]; a plain scan, as the batch's uploads are sorted. */
function labelOf(batch: UserBatch, t: number): number {
  for (let j = 0; j < batch.uploadCount; j++) {
    const at = batch.uploadAt[j];
    if (at > t + 3600) break;
    if (at > t && batch.uploadItemId[j] === ITEM_50GB) return 1;
  }
  return 0;
}

function monteCarlo(input: GenerationConfigInput, oracles: OracleVariant[]): Map<string, Record<Scenario, Tally>> {
  const config = parseConfig({ ...input, engine: 'seedrandom' });
  const settings = taskSettings(config);
  const tallies = new Map(
    oracles.map((o) => [
      o.name,
      Object.fromEntries(SCENARIOS.map((s) => [s, { anchors: 0, labels: 0, oracle: 0, variance: 0 }])) as Record<
        Scenario,
        Tally
      >,
    ]),
  );
  const anchors = new AnchorCursor();
  for (let variant = 0; variant < VARIANTS; variant++) {
    for (const batch of createEngine(config, undefined, { uploadVariant: variant })) {
      anchors.reset(batch, settings);
      while (anchors.next()) {
        const label = labelOf(batch, anchors.at);
        for (const o of oracles) {
          const p = oracleProbability(
            anchors.at,
            batch,
            (o.rate ?? ((r) => r))(batch.premiumRatePerHour),
            o.params(settings),
          );
          const tally = tallies.get(o.name)![SCENARIOS[anchors.scenario]];
          tally.anchors++;
          tally.labels += label;
          tally.oracle += p;
          tally.variance += p * (1 - p);
        }
      }
    }
  }
  return tallies;
}

/** The scenarios whose empirical label count is not within Z standard errors of the oracle's. */
function rejected(tallies: Record<Scenario, Tally>): string[] {
  return SCENARIOS.filter((s) => {
    const t = tallies[s];
    const deviation = Math.abs(t.labels - t.oracle);
    return t.variance === 0 ? deviation > 1e-9 : deviation > Z * Math.sqrt(t.variance);
  }).map((s) => {
    const t = tallies[s];
    return `${s}: ${t.labels} labels vs ${t.oracle.toFixed(1)} expected over ${t.anchors} anchors (z = ${((t.labels - t.oracle) / Math.sqrt(t.variance)).toFixed(1)})`;
  });
}

const WRONG_ORACLES: OracleVariant[] = [
  { name: 'spike ignored', params: (p) => ({ ...p, spikeProbability: 0 }) },
  { name: 'q halved', params: (p) => ({ ...p, spikeProbability: p.spikeProbability / 2 }) },
  { name: 'second spike upload ignored', params: (p) => ({ ...p, secondUploadProbability: 0 }) },
  { name: '50 GB share halved', params: (p) => ({ ...p, premiumLargeShare: p.premiumLargeShare / 2 }) },
  { name: 'premium rate 20% low', params: (p) => p, rate: (r) => r * 0.8 },
];

describe('oracle_probability against a Monte-Carlo estimate (seedrandom engine, 12 upload variants)', () => {
  // A: the default model, 12-hour grid: every scenario, mostly far from the changes.
  // B: only upgrading cohorts, an hourly grid (an anchor in the hour before every upgrade, so
  //    partial spike windows, 0 < f < 1, are common), a large second-upload probability.
  const cases: [string, GenerationConfigInput, string[]][] = [
    [
      'default model, 12 h grid',
      { users: 1500 },
      ['spike ignored', 'q halved', '50 GB share halved', 'premium rate 20% low'],
    ],
    [
      'upgrading cohorts, 1 h grid, p2 = 0.6',
      {
        users: 600,
        cohortSizes: [0, 0, 0, 300, 300],
        upgradeSpike: { probability: 0.7, secondUploadProbability: 0.6 },
        tasks: { gridHours: 1 },
      },
      ['spike ignored', 'q halved', 'second spike upload ignored', '50 GB share halved', 'premium rate 20% low'],
    ],
  ];

  for (const [name, input, mustReject] of cases) {
    it(`${name}: every scenario within ${Z} standard errors; the wrong oracles rejected`, () => {
      const tallies = monteCarlo(input, [TRUE_ORACLE, ...WRONG_ORACLES]);
      const truth = tallies.get(TRUE_ORACLE.name)!;
      expect(rejected(truth)).toEqual([]);
      // Enough anchors in each scenario the case is about to make the check worth something.
      for (const s of ['just_upgraded', 'premium_long', 'premium_recent', 'free'] as const)
        expect(truth[s].anchors).toBeGreaterThan(1000);
      for (const wrong of mustReject) expect(rejected(tallies.get(wrong)!), wrong).not.toEqual([]);
    });
  }
});
