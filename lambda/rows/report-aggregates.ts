import type { GenerationConfig } from '../config/schema.js';
import { SECONDS_PER_HOUR, taskSettings } from '../config/task-settings.js';
import { COHORTS } from '../engine/cohorts.js';
import { ITEM_50GB, type UserBatch } from '../engine/user-batch.js';
import { SCENARIOS } from '../tasks/anchors.js';
import { SPLITS, type Split } from '../tasks/split.js';
import { clipProbability } from '../tasks/log-loss-clip.js';
import { BaselineCollector, mergeBaselines, type BaselineAggregates } from './baseline-sample.js';
import type { PopulationHistory } from '../tasks/population-history.js';

/**
 * What the dataset's report is drawn from, gathered while the rows are formatted (no second read).
 * Bounded whatever the number of users: fixed bins, the first few users of each cohort, hourly
 * counts over the window and a sample of users for the baselines (lambda/rows/baseline-sample.ts). Counts
 * are integers and sums of probabilities are fixed-point integers (`FIXED_POINT_SCALE` units, as
 * decimal strings), so ranges of users merge to the same values in any grouping: one range, blocks
 * on worker threads, fan-out shards.
 */
export interface ReportAggregates {
  /** Seconds per bin of `uploadsOverTime` (whole hours; the window in at most `MAX_TIME_BINS` bins). */
  timeBinSeconds: number;
  /** Uploads per time bin from the window's start, 4 per bin: free 5 GB, free 50 GB, premium 5 GB, premium 50 GB. */
  uploadsOverTime: number[];
  /** Tier changes over all users, and the shortest time between two changes of one user (null: no user changed twice). */
  tierChanges: { upgrades: number; downgrades: number; minGapSeconds: number | null };
  /** Users by latent rate (uploads per hour): bin 0 below `RATE_EDGES[0]`, bin k in [RATE_EDGES[k-1], RATE_EDGES[k]). */
  rates: { free: number[]; premium: number[] };
  /** The first `SAMPLE_USERS` users of each cohort, in cohort order. */
  samples: SampleUser[][];
  task: {
    /** By scenario (`SCENARIOS`) then split (`SPLITS`). */
    byScenarioSplit: Tally;
    /** By split then oracle probability bin (`probabilityBin`). */
    byProbability: Tally;
    /** By group (`SINCE_CHANGE_GROUPS`) then hours in tier (`SINCE_CHANGE_HOURS`). */
    sinceChange: Tally;
    /** Per split: Σ (p − label)², then Σ log loss (p clipped to [LOG_LOSS_CLIP, 1 − LOG_LOSS_CLIP]), in fixed-point units. */
    scoreUnits: string[];
  };
  /** What the baselines are scored from, on a sample of users (null without a task file). */
  baselines: BaselineAggregates | null;
}

/** Rows, positive labels and Σ oracle probability (fixed-point units) per cell. */
export interface Tally {
  rows: number[];
  positives: number[];
  probabilityUnits: string[];
}

export interface SampleUser {
  userId: number;
  cohort: number;
  /** [from, until, premium 0/1], epoch seconds. */
  tiers: Array<[number, number, number]>;
  uploads: number;
}

export const SAMPLE_USERS = 5;
export const MAX_TIME_BINS = 336;
/** 2^32 units per unit: exact integer sums, far below a probability's rounding in the report. */
export const FIXED_POINT_SCALE = 2 ** 32;
/** Upper edges of the latent-rate bins, uploads per hour: 10^(k/10) for k = −40..30. */
export const RATE_EDGES: readonly number[] = Array.from({ length: 71 }, (_, k) => 10 ** ((k - 40) / 10));
/** Lower edges (hours in tier) of the time-since-change bins; the last is open. */
export const SINCE_CHANGE_HOURS: readonly number[] = [0, 1, 2, 3, 6, 12, 24, 48, 96, 168, 336];
/** Groups by the tier interval an anchor falls in: how it began. */
export const SINCE_CHANGE_GROUPS = [
  'after upgrade',
  'after downgrade',
  'premium since start',
  'free since start',
] as const;
/** Probability bins: 0 exactly, then 100 bins of width 0.01 (the last closed at 1). */
export const PROBABILITY_BINS = 101;

export const probabilityBin = (p: number): number => (p <= 0 ? 0 : 1 + Math.min(99, Math.floor(p * 100)));

/** The time bins of a window: whole hours each, at most `MAX_TIME_BINS`. */
export function timeBins(start: number, end: number): { binSeconds: number; bins: number } {
  const hours = Math.ceil((end - start) / SECONDS_PER_HOUR);
  const binHours = Math.max(1, Math.ceil(hours / MAX_TIME_BINS));
  return { binSeconds: binHours * SECONDS_PER_HOUR, bins: Math.ceil(hours / binHours) };
}

/** Index of the bin holding `rate` among the bins `RATE_EDGES` bound. */
export function rateBin(rate: number): number {
  let lo = 0;
  let hi = RATE_EDGES.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (RATE_EDGES[mid] <= rate) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export function sinceChangeBin(hours: number): number {
  let k = SINCE_CHANGE_HOURS.length - 1;
  while (k > 0 && hours < SINCE_CHANGE_HOURS[k]) k--;
  return k;
}

const SPLIT_INDEX: Record<Split, number> = { train: 0, val: 1, test: 2 };
const FLUSH_UNITS = 2 ** 52;

/** Sums of non-negative values in fixed-point units, exact (a BigInt takes over before a double would round). */
class FixedSums {
  private readonly units: Float64Array;
  private readonly carried: bigint[];

  constructor(size: number) {
    this.units = new Float64Array(size);
    this.carried = Array.from({ length: size }, () => 0n);
  }

  add(i: number, value: number): void {
    const units = (this.units[i] += Math.round(value * FIXED_POINT_SCALE));
    if (units >= FLUSH_UNITS) {
      this.carried[i] += BigInt(units);
      this.units[i] = 0;
    }
  }

  totals(): string[] {
    return this.carried.map((c, i) => String(c + BigInt(this.units[i])));
  }
}

class TallyBuilder {
  readonly rows: Float64Array;
  readonly positives: Float64Array;
  readonly probability: FixedSums;

  constructor(size: number) {
    this.rows = new Float64Array(size);
    this.positives = new Float64Array(size);
    this.probability = new FixedSums(size);
  }

  add(i: number, label: number, p: number): void {
    this.rows[i]++;
    this.positives[i] += label;
    this.probability.add(i, p);
  }

  tally(): Tally {
    return { rows: [...this.rows], positives: [...this.positives], probabilityUnits: this.probability.totals() };
  }
}

/** Receives each task row as it is written (see `TaskRowWriter.sink`). */
export interface TaskRowSink {
  /** A row of user `batch`'s anchor `at` in tier interval `tier` (index), scenario code (`SCENARIOS`), split, label, oracle p. */
  taskRow(batch: UserBatch, tier: number, at: number, scenario: number, split: Split, label: 0 | 1, p: number): void;
}

/**
 * Gathers one range of users' aggregates: `addUser` with each user's batch, in user order, and the
 * task rows through `taskRow` as the task file's writer writes them.
 */
export class ReportCollector implements TaskRowSink {
  private readonly start: number;
  private readonly binSeconds: number;
  private readonly uploadsOverTime: Float64Array;
  private upgrades = 0;
  private downgrades = 0;
  private minGap = Infinity;
  private readonly freeRates = new Float64Array(RATE_EDGES.length + 1);
  private readonly premiumRates = new Float64Array(RATE_EDGES.length + 1);
  private readonly samples: SampleUser[][] = COHORTS.map(() => []);
  private readonly byScenarioSplit = new TallyBuilder(SCENARIOS.length * SPLITS.length);
  private readonly byProbability = new TallyBuilder(SPLITS.length * PROBABILITY_BINS);
  private readonly sinceChange = new TallyBuilder(SINCE_CHANGE_GROUPS.length * SINCE_CHANGE_HOURS.length);
  private readonly scores = new FixedSums(2 * SPLITS.length);
  // Task rows mostly repeat the last probability: its log-loss terms are reused.
  private lastP = Number.NaN;
  private lastLoss: [number, number] = [0, 0];
  private readonly baselines: BaselineCollector | undefined;

  /** `population`: where the baselines' population counts go (the thread's, see `RowFormatting.population`); none without a task file. */
  constructor(config: GenerationConfig, population?: PopulationHistory) {
    const settings = taskSettings(config);
    if (population) this.baselines = new BaselineCollector(config, population);
    this.start = settings.start;
    const { binSeconds, bins } = timeBins(settings.start, settings.end);
    this.binSeconds = binSeconds;
    this.uploadsOverTime = new Float64Array(bins * 4);
  }

  addUser(batch: UserBatch): void {
    const { tierCount, tierFrom, tierUntil, tierIsPremium } = batch;
    let lastChange: number | undefined;
    for (let t = 1; t < tierCount; t++) {
      if (tierIsPremium[t] === tierIsPremium[t - 1]) continue;
      if (tierIsPremium[t]) this.upgrades++;
      else this.downgrades++;
      if (lastChange !== undefined) this.minGap = Math.min(this.minGap, tierFrom[t] - lastChange);
      lastChange = tierFrom[t];
    }
    let t = 0;
    const bins = this.uploadsOverTime.length / 4;
    for (let j = 0; j < batch.uploadCount; j++) {
      const at = batch.uploadAt[j];
      while (t < tierCount - 1 && tierUntil[t] <= at) t++;
      const bin = Math.floor((at - this.start) / this.binSeconds);
      if (bin < 0 || bin >= bins) continue;
      this.uploadsOverTime[bin * 4 + (tierIsPremium[t] ? 2 : 0) + (batch.uploadItemId[j] === ITEM_50GB ? 1 : 0)]++;
    }
    this.baselines?.addUser(batch);
    this.freeRates[rateBin(batch.freeRatePerHour)]++;
    this.premiumRates[rateBin(batch.premiumRatePerHour)]++;
    const sample = this.samples[batch.cohort - 1];
    if (sample.length < SAMPLE_USERS) {
      sample.push({
        userId: batch.userId,
        cohort: batch.cohort,
        tiers: Array.from({ length: tierCount }, (_, i) => [tierFrom[i], tierUntil[i], tierIsPremium[i]]),
        uploads: batch.uploadCount,
      });
    }
  }

  taskRow(batch: UserBatch, tier: number, at: number, scenario: number, split: Split, label: 0 | 1, p: number): void {
    const s = SPLIT_INDEX[split];
    this.byScenarioSplit.add(scenario * SPLITS.length + s, label, p);
    this.byProbability.add(s * PROBABILITY_BINS + probabilityBin(p), label, p);
    const from = batch.tierFrom[tier];
    const changed = from > this.start;
    const group = batch.tierIsPremium[tier] ? (changed ? 0 : 2) : changed ? 1 : 3;
    const hours = (at - from) / SECONDS_PER_HOUR;
    this.sinceChange.add(group * SINCE_CHANGE_HOURS.length + sinceChangeBin(hours), label, p);
    this.scores.add(s, (p - label) ** 2);
    if (p !== this.lastP) {
      this.lastP = p;
      const clipped = clipProbability(p);
      this.lastLoss = [-Math.log(1 - clipped), -Math.log(clipped)];
    }
    this.scores.add(SPLITS.length + s, this.lastLoss[label]);
    this.baselines?.taskRow(batch.userId, at, label, p);
  }

  /** `withPopulation`: the population counts go with these aggregates (the thread's last range). */
  finish(withPopulation: boolean): ReportAggregates {
    return {
      timeBinSeconds: this.binSeconds,
      uploadsOverTime: [...this.uploadsOverTime],
      tierChanges: {
        upgrades: this.upgrades,
        downgrades: this.downgrades,
        minGapSeconds: Number.isFinite(this.minGap) ? this.minGap : null,
      },
      rates: { free: [...this.freeRates], premium: [...this.premiumRates] },
      samples: this.samples,
      task: {
        byScenarioSplit: this.byScenarioSplit.tally(),
        byProbability: this.byProbability.tally(),
        sinceChange: this.sinceChange.tally(),
        scoreUnits: this.scores.totals(),
      },
      baselines: this.baselines?.finish(withPopulation) ?? null,
    };
  }
}

const addInto = (into: number[], from: readonly number[]): void => {
  for (let i = 0; i < into.length; i++) into[i] += from[i];
};
const addUnits = (a: readonly string[], b: readonly string[]): string[] =>
  a.map((x, i) => String(BigInt(x) + BigInt(b[i])));
const mergeTally = (a: Tally, b: Tally): Tally => {
  const rows = [...a.rows];
  const positives = [...a.positives];
  addInto(rows, b.rows);
  addInto(positives, b.positives);
  return { rows, positives, probabilityUnits: addUnits(a.probabilityUnits, b.probabilityUnits) };
};

/**
 * The aggregates of consecutive ranges of users, in user order, as one: counts and sums add up,
 * samples are the first of each cohort in that order. The same users give the same result
 * however they were cut into ranges.
 */
export function mergeAggregates(a: ReportAggregates, b: ReportAggregates): ReportAggregates {
  const uploadsOverTime = [...a.uploadsOverTime];
  addInto(uploadsOverTime, b.uploadsOverTime);
  const free = [...a.rates.free];
  const premium = [...a.rates.premium];
  addInto(free, b.rates.free);
  addInto(premium, b.rates.premium);
  const gaps = [a.tierChanges.minGapSeconds, b.tierChanges.minGapSeconds].filter((g) => g !== null);
  return {
    timeBinSeconds: a.timeBinSeconds,
    uploadsOverTime,
    tierChanges: {
      upgrades: a.tierChanges.upgrades + b.tierChanges.upgrades,
      downgrades: a.tierChanges.downgrades + b.tierChanges.downgrades,
      minGapSeconds: gaps.length > 0 ? Math.min(...gaps) : null,
    },
    rates: { free, premium },
    samples: a.samples.map((s, c) => [...s, ...b.samples[c]].slice(0, SAMPLE_USERS)),
    task: {
      byScenarioSplit: mergeTally(a.task.byScenarioSplit, b.task.byScenarioSplit),
      byProbability: mergeTally(a.task.byProbability, b.task.byProbability),
      sinceChange: mergeTally(a.task.sinceChange, b.task.sinceChange),
      scoreUnits: addUnits(a.task.scoreUnits, b.task.scoreUnits),
    },
    baselines: a.baselines && b.baselines ? mergeBaselines(a.baselines, b.baselines) : null,
  };
}
