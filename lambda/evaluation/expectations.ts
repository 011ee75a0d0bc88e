import type { Scenario } from '../tasks/anchors.js';
import type { Problem } from '../errors/problem.js';

/** The three checks of a model's mean prediction per scenario, with their thresholds. */
export interface Expectations {
  /** just_downgraded: mean prediction at most this (a downgraded user no longer uploads 50 GB). */
  maxJustDowngraded: number;
  /** just_upgraded: mean prediction at least this (the upgrade spike). */
  minJustUpgraded: number;
  /** premium_long: mean prediction at least this fraction of the oracle's mean. */
  minPremiumLongRatio: number;
}

export const DEFAULT_EXPECTATIONS: Expectations = {
  maxJustDowngraded: 0.05,
  minJustUpgraded: 0.5,
  minPremiumLongRatio: 0.5,
};

export interface ExpectationResult {
  scenario: Scenario;
  /** e.g. "mean prediction <= 0.05". */
  rule: string;
  threshold: number | null;
  meanPrediction: number | null;
  /** null when the dataset has no row of the scenario. */
  passed: boolean | null;
}

/** The names the API's query parameters and the CLI's flags give the thresholds. */
export const EXPECTATION_PARAMETERS = {
  maxJustDowngraded: { max: 1, meaning: 'mean prediction for just_downgraded at most this' },
  minJustUpgraded: { max: 1, meaning: 'mean prediction for just_upgraded at least this' },
  minPremiumLongRatio: {
    max: Number.POSITIVE_INFINITY,
    meaning: "mean prediction for premium_long at least this times the oracle's mean",
  },
} as const satisfies Record<keyof Expectations, { max: number; meaning: string }>;

/** Thresholds given as text (query parameters), the defaults for the others; or what is wrong with them. */
export function parseExpectations(
  given: Partial<Record<string, string | undefined>>,
): { ok: true; expectations: Expectations } | { ok: false; problems: Problem[] } {
  const expectations = { ...DEFAULT_EXPECTATIONS };
  const problems: Problem[] = [];
  for (const [name, { max }] of Object.entries(EXPECTATION_PARAMETERS) as Array<
    [keyof Expectations, { max: number }]
  >) {
    const text = given[name];
    if (text === undefined) continue;
    const value = expectationThreshold(text, max);
    if (value === undefined) problems.push({ field: name, rule: thresholdRule(max) });
    else expectations[name] = value;
  }
  return problems.length > 0 ? { ok: false, problems } : { ok: true, expectations };
}

/** A threshold from 0 to `max`, or undefined. */
export function expectationThreshold(text: string, max: number): number | undefined {
  const x = /^\s*[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
  return x >= 0 && x <= max ? x : undefined;
}

export const thresholdRule = (max: number): string =>
  Number.isFinite(max) ? `must be a number from 0 to ${max}` : 'must be a number >= 0';

/** Each expectation checked on the scenarios' mean predictions; passed when none failed. */
export function checkExpectations(
  scenarios: Partial<Record<Scenario, { meanPrediction: number; meanOracle: number }>>,
  e: Expectations,
): { expectations: ExpectationResult[]; expectationsPassed: boolean } {
  const check = (
    scenario: Scenario,
    atMost: boolean,
    threshold: (s: { meanOracle: number }) => number,
    rule: (t: string) => string,
  ): ExpectationResult => {
    const scores = scenarios[scenario];
    if (!scores) return { scenario, rule: rule('-'), threshold: null, meanPrediction: null, passed: null };
    const t = threshold(scores);
    const passed = atMost ? scores.meanPrediction <= t : scores.meanPrediction >= t;
    return { scenario, rule: rule(String(round(t))), threshold: t, meanPrediction: scores.meanPrediction, passed };
  };
  const expectations = [
    check(
      'just_downgraded',
      true,
      () => e.maxJustDowngraded,
      (t) => `mean prediction <= ${t}`,
    ),
    check(
      'just_upgraded',
      false,
      () => e.minJustUpgraded,
      (t) => `mean prediction >= ${t}`,
    ),
    check(
      'premium_long',
      false,
      (s) => e.minPremiumLongRatio * s.meanOracle,
      (t) => `mean prediction >= ${e.minPremiumLongRatio} x mean oracle = ${t}`,
    ),
  ];
  return { expectations, expectationsPassed: expectations.every((x) => x.passed !== false) };
}

const round = (x: number): number => Number(x.toPrecision(4));
