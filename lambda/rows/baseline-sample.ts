import type { GenerationConfig } from '../config/schema.js';
import { SECONDS_PER_HOUR, taskSettings } from '../config/task-settings.js';
import type { UserBatch } from '../engine/user-batch.js';
import { mergePopulationCounts, PopulationHistory, type PopulationCounts } from '../tasks/population-history.js';
import { userHistoryOf } from '../tasks/user-history.js';
import { userSampleKey } from '../tasks/user-sample.js';

/**
 * What the report scores the baselines from (lambda/tasks/baselines.ts): a baseline's prediction
 * reads the user's own history and the whole population's past hours, which are known only once
 * every user is generated. So the collector keeps the population's hourly counts (per hour of the
 * window, whatever the number of users) and a sample of users with what their predictions need
 * (tiers and 50 GB uploads) and their task rows as written; the scores are computed when the report
 * is rendered, after every range is merged.
 */
export interface BaselineAggregates {
  /**
   * Every user's hours (`PopulationHistory`'s counts). A thread counts all its ranges together and
   * reports them with its last one: null in the others (see `RowFormatting.population`).
   */
  population: PopulationCounts | null;
  /** Every `rowStride`-th task row of each sampled user is kept (the first, then every `rowStride`-th). */
  rowStride: number;
  /** The sampled users in user order. */
  users: BaselineUser[];
  /** The sample reached `MAX_SAMPLE_VALUES` and was cut there, in user order (users after the cut are missing). */
  cut: boolean;
}

/** A sampled user; times in seconds from the window's start. */
export interface BaselineUser {
  userId: number;
  /** [from, until, premium 0/1]. */
  tiers: Array<[number, number, number]>;
  /** 50 GB upload times. */
  large: number[];
  /** Its kept task rows, three numbers each: anchor time, label, oracle probability. */
  rows: number[];
}

/** The sample aims at this many users at most (all of them in smaller datasets)... */
export const SAMPLE_USERS = 2000;
/** ...and at this many numbers in all (tiers, uploads, rows), by the config's expected rates... */
export const SAMPLE_VALUES = 60_000;
/** ...and never holds more: the sample is cut in user order beyond (the bound of report-data.json). */
export const MAX_SAMPLE_VALUES = 2 * SAMPLE_VALUES;
/** Task rows kept per sampled user at most: a long window's rows are thinned by a stride. */
export const SAMPLE_ROWS_PER_USER = 24;

/**
 * Which users are sampled: those whose `userSampleKey` (the task sample's hash of seed and user id)
 * falls below `threshold`, so the sample is a function of the user id alone (the same for any
 * ranges, blocks or shards) and a subset of the users with task rows. The threshold aims at
 * `SAMPLE_USERS` users and `SAMPLE_VALUES` numbers, from the users' expected rows and 50 GB
 * uploads (users ever premium as if premium throughout, plus an upgrade's spike).
 */
export function baselineSamplePlan(config: GenerationConfig): {
  threshold: number;
  rowStride: number;
  /** The numbers the sample is expected to hold (at most about `SAMPLE_VALUES`), for the size estimate. */
  values: number;
} {
  const settings = taskSettings(config);
  const windowSeconds = settings.end - settings.start;
  const rows = Math.max(0, Math.floor((windowSeconds - SECONDS_PER_HOUR) / settings.gridSeconds)) + 2;
  const rowStride = Math.ceil(rows / SAMPLE_ROWS_PER_USER);
  // Users ever premium (all but cohort 2, a fifth by default) as if premium throughout, plus a spike.
  const everPremium = config.cohortSizes ? 1 - config.cohortSizes[1] / config.users : 0.8;
  const large =
    everPremium *
    ((config.premiumUploadsPerDay.mean * config.premiumLargeShare * windowSeconds) / (24 * SECONDS_PER_HOUR) + 2);
  const values = 9 + large + 3 * Math.ceil(rows / rowStride);
  const users = config.users * config.tasks.userFraction;
  const share = Math.min(1, SAMPLE_USERS / users, SAMPLE_VALUES / values / users);
  return {
    threshold: Math.min(settings.sampleThreshold, Math.floor(share * 2 ** 32)),
    rowStride,
    values: share * users * values,
  };
}

const valuesOf = (user: BaselineUser): number => 3 * user.tiers.length + user.large.length + user.rows.length;

/**
 * A sample of users in user order, within `MAX_SAMPLE_VALUES`: the first user that does not fit
 * cuts it, and no user after it is taken. The one rule for a range's users and for merging ranges,
 * so that ranges merge to the sample of one range over all of them.
 */
class SampleBuilder {
  readonly users: BaselineUser[] = [];
  private values = 0;
  cut = false;

  add(user: BaselineUser): void {
    if (this.cut) return;
    const values = this.values + valuesOf(user);
    if (values > MAX_SAMPLE_VALUES) this.cut = true;
    else {
      this.users.push(user);
      this.values = values;
    }
  }
}

/** Gathers a range's `BaselineAggregates`: `addUser` per user in order, then `taskRow` per row of that user. */
export class BaselineCollector {
  private readonly start: number;
  private readonly seed: number;
  private readonly threshold: number;
  private readonly rowStride: number;
  private readonly sample = new SampleBuilder();
  /** The sampled user whose rows are coming, and how many of them came. */
  private current: BaselineUser | undefined;
  private seen = 0;

  constructor(
    config: GenerationConfig,
    private readonly population: PopulationHistory,
  ) {
    const settings = taskSettings(config);
    this.start = settings.start;
    this.seed = settings.seed;
    ({ threshold: this.threshold, rowStride: this.rowStride } = baselineSamplePlan(config));
  }

  addUser(batch: UserBatch): void {
    this.closeUser();
    const history = userHistoryOf(batch);
    this.population.add(history);
    if (this.sample.cut || userSampleKey(this.seed, batch.userId) >= this.threshold) return;
    const start = this.start;
    this.current = {
      userId: batch.userId,
      tiers: history.intervals.map(({ from, until, premium }) => [from - start, until - start, premium ? 1 : 0]),
      large: history.largeUploads.map((at) => at - start),
      rows: [],
    };
    this.seen = 0;
  }

  /** A task row of the user last added. */
  taskRow(userId: number, at: number, label: 0 | 1, p: number): void {
    const user = this.current;
    if (user?.userId !== userId) return;
    if (this.seen++ % this.rowStride === 0) user.rows.push(at - this.start, label, p);
  }

  private closeUser(): void {
    if (this.current) this.sample.add(this.current);
    this.current = undefined;
  }

  /** `withPopulation`: the population counts so far go with the sample, and start again from none. */
  finish(withPopulation: boolean): BaselineAggregates {
    this.closeUser();
    const { users, cut } = this.sample;
    return { population: withPopulation ? this.population.take() : null, rowStride: this.rowStride, users, cut };
  }
}

/** Two consecutive ranges' baseline aggregates as one: the same as one range over both ranges' users. */
export function mergeBaselines(a: BaselineAggregates, b: BaselineAggregates): BaselineAggregates {
  const sample = new SampleBuilder();
  for (const user of a.users) sample.add(user);
  sample.cut ||= a.cut;
  for (const user of b.users) sample.add(user);
  sample.cut ||= b.cut;
  const { users, cut } = sample;
  const population =
    a.population && b.population ? mergePopulationCounts(a.population, b.population) : (a.population ?? b.population);
  return { population, rowStride: a.rowStride, users, cut };
}
