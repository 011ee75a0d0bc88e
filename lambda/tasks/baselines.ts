import { exp } from '../libm/exp.js';
import { SECONDS_PER_HOUR } from '../config/task-settings.js';
import type { PopulationPast } from './population-history.js';
import { intervalAt, ordinaryPremiumSegments, type UserHistory, type Window } from './user-history.js';

export const BASELINE_KINDS = ['tier-blind', 'tier-aware'] as const;
export type BaselineKind = (typeof BASELINE_KINDS)[number];

/**
 * Weight of the population's rate in a user's own: as if every user had also been watched for
 * this many hours at the population's rate (a Gamma prior), so a short history is not read as
 * a rate of exactly 0.
 */
export const PRIOR_HOURS = 24;
/** The spike share before any upgrade's first hour has ended (nothing to learn it from yet). */
export const PRIOR_SPIKE_SHARE = 0.5;

/** A baseline's probability for user `user` at anchor `at`, from its history and the population's past only. */
export type Predict = (user: UserHistory, at: number, population: PopulationPast, window: Window) => number;

/** The chance of at least one event in an hour at `ratePerHour` (Poisson). */
const withinHour = (ratePerHour: number): number => 1 - exp(-ratePerHour);

/**
 * Tier-blind: the user's own 50 GB upload rate over the whole past (uploads at or before the
 * anchor, over the hours since the window's start), shrunk toward the population's rate.
 */
const tierBlind: Predict = (user, at, population, window) => {
  const own = user.largeUploads.filter((t) => t <= at).length;
  const hours = (at - window.start) / SECONDS_PER_HOUR;
  return withinHour((own + PRIOR_HOURS * population.largeRate) / (hours + PRIOR_HOURS));
};

/**
 * Tier-aware: the tier in force at the anchor (the last interval with from <= anchor) and the time
 * since it began.
 * - free: the population's share of past hours that began free and saw a 50 GB upload (≈ 0);
 * - premium: the user's own 50 GB rate over their past premium time outside upgrade spikes, shrunk
 *   toward the population's; plus, within an upgrade's first hour, the spike: the share of past
 *   upgrades with a 50 GB upload in their first hour (PRIOR_SPIKE_SHARE before any), scaled to the
 *   part of that hour still ahead, and 0 once the user's spike upload has been seen.
 */
const tierAware: Predict = (user, at, population, window) => {
  const index = intervalAt(user, at);
  if (index < 0) return withinHour(population.largeRate);
  const current = user.intervals[index];
  if (!current.premium) return population.freeHourRate;

  let own = 0;
  let hours = 0;
  for (const [from, until] of ordinaryPremiumSegments(user, window)) {
    // The current interval's `until` is the future: its time and uploads count up to the anchor only.
    if (from > at) continue;
    hours += (Math.min(until, at) - from) / SECONDS_PER_HOUR;
    for (const t of user.largeUploads) if (t >= from && t < until && t <= at) own++;
  }
  const ordinary = withinHour((own + PRIOR_HOURS * population.premiumRate) / (hours + PRIOR_HOURS));

  const sinceUpgrade = at - current.from;
  if (current.from <= window.start || sinceUpgrade >= SECONDS_PER_HOUR) return ordinary;
  const seen = user.largeUploads.some((t) => t > current.from && t <= at);
  const q = population.upgrades > 0 ? population.spikeShare : PRIOR_SPIKE_SHARE;
  const elapsed = sinceUpgrade / SECONDS_PER_HOUR;
  // The spike upload falls uniformly in the first hour: none seen by now leaves this chance for the rest.
  const spike = seen ? 0 : (q * (1 - elapsed)) / (1 - q * elapsed);
  return 1 - (1 - spike) * (1 - ordinary);
};

/** The baselines' predictors: `baselinePredictions` runs them over a dataset's files, the report over its sample. */
export const PREDICTORS: Record<BaselineKind, Predict> = { 'tier-blind': tierBlind, 'tier-aware': tierAware };
