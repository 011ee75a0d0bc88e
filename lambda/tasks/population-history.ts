import { SECONDS_PER_HOUR } from '../config/task-settings.js';
import { ordinaryPremiumSegments, type UserHistory, type Window } from './user-history.js';

/** Population-wide figures from every user's hours that ended at or before an anchor. */
export interface PopulationPast {
  /** 50 GB uploads per user-hour, any tier. */
  largeRate: number;
  /** Share of user-hours that began free and saw a 50 GB upload (e.g. an upgrade within the hour). */
  freeHourRate: number;
  /** 50 GB uploads per premium user-hour outside upgrade spikes. */
  premiumRate: number;
  /** Share of upgrades with a 50 GB upload in their first hour, and how many upgrades that is of. */
  spikeShare: number;
  upgrades: number;
}

/**
 * The hourly counts, one entry per hour of the window (and one past it). Spans of hours are kept
 * as differences (+1 where they begin, −1 where they end), so a user costs its intervals and
 * uploads, not the hours it spans:
 * - large: 50 GB uploads by hour;
 * - freeStarts, freeHits: hours that began free (differences), and those with a 50 GB upload;
 * - premiumFullHours, premiumPartSeconds: ordinary premium time (outside upgrade spikes), as whole
 *   hours (differences) plus the seconds of the hours it covers in part;
 * - premiumLarge: 50 GB uploads in that time, by hour;
 * - upgrades, upgradeHits: upgrades by the hour their first hour ends in, and those with a 50 GB
 *   upload in it.
 */
export const POPULATION_COLUMNS = [
  'large',
  'freeStarts',
  'freeHits',
  'premiumFullHours',
  'premiumPartSeconds',
  'premiumLarge',
  'upgrades',
  'upgradeHits',
] as const;
type Column = (typeof POPULATION_COLUMNS)[number];

/** The counts of some users, as JSON: whole numbers only, so ranges of users add up exactly in any grouping. */
export interface PopulationCounts {
  users: number;
  hourly: Record<Column, number[]>;
}

/** The counts of two sets of users (of one window) together. */
export function mergePopulationCounts(a: PopulationCounts, b: PopulationCounts): PopulationCounts {
  const hourly = {} as Record<Column, number[]>;
  for (const c of POPULATION_COLUMNS) {
    if (a.hourly[c].length !== b.hourly[c].length)
      throw new Error(`population counts of ${a.hourly[c].length} and ${b.hourly[c].length} hours do not merge`);
    hourly[c] = a.hourly[c].map((n, h) => n + b.hourly[c][h]);
  }
  return { users: a.users + b.users, hourly };
}

/** Index of the first of `sorted` at or after `t` (its length if none). */
function firstAtOrAfter(sorted: readonly number[], t: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (sorted[mid] < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Hour-by-hour counts over the window, for all users together. A baseline at anchor t reads only
 * the hours that ended by t (`past(t)`), so the counts of later hours never reach a prediction.
 * Memory is per hour of the window, not per user. One implementation for the baselines run over
 * a dataset's files and for the report's, gathered while the rows are written.
 */
export class PopulationHistory {
  private users = 0;
  private readonly hours: number;
  private readonly columns: Record<Column, Float64Array>;
  /** Running totals by hour, once `finish`ed. */
  private totals:
    | Record<
        'large' | 'freeHours' | 'freeHits' | 'premiumSeconds' | 'premiumLarge' | 'upgrades' | 'upgradeHits',
        Float64Array
      >
    | undefined;

  constructor(
    private readonly window: Window,
    counts?: PopulationCounts,
  ) {
    this.hours = Math.ceil((window.end - window.start) / SECONDS_PER_HOUR);
    this.columns = {} as Record<Column, Float64Array>;
    for (const c of POPULATION_COLUMNS) {
      const given = counts?.hourly[c];
      if (given && given.length !== this.hours + 1)
        throw new Error(`population counts of ${given.length - 1} hours for a window of ${this.hours}`);
      this.columns[c] = given ? Float64Array.from(given) : new Float64Array(this.hours + 1);
    }
    this.users = counts?.users ?? 0;
  }

  private hourOf(at: number): number {
    return Math.floor((at - this.window.start) / SECONDS_PER_HOUR);
  }

  /** The first hour that begins at or after `at` (capped at the window's hours). */
  private hourFrom(at: number): number {
    return Math.min(this.hours, Math.max(0, Math.ceil((at - this.window.start) / SECONDS_PER_HOUR)));
  }

  add(user: UserHistory): void {
    if (this.totals) throw new Error('population counts: a user added after finish()');
    const { start } = this.window;
    const c = this.columns;
    const uploads = user.largeUploads;
    this.users++;
    for (const at of uploads) c.large[this.hourOf(at)]++;

    // Hours that began free, and those of them with a 50 GB upload (each hour once).
    for (const { from, until, premium } of user.intervals) {
      if (premium) continue;
      const first = this.hourFrom(from);
      const end = this.hourFrom(until);
      if (first >= end) continue;
      c.freeStarts[first]++;
      c.freeStarts[end]--;
      let counted = -1;
      const endsAt = start + end * SECONDS_PER_HOUR;
      for (
        let j = firstAtOrAfter(uploads, start + first * SECONDS_PER_HOUR);
        j < uploads.length && uploads[j] < endsAt;
        j++
      ) {
        const h = this.hourOf(uploads[j]);
        if (h !== counted) {
          c.freeHits[h]++;
          counted = h;
        }
      }
    }

    // Ordinary premium time and its 50 GB uploads.
    for (const [from, until] of ordinaryPremiumSegments(user, this.window)) {
      const first = this.hourOf(from);
      const last = this.hourFrom(until) - 1;
      if (first <= last) {
        const firstEnd = start + (first + 1) * SECONDS_PER_HOUR;
        if (first === last) c.premiumPartSeconds[first] += Math.min(until, firstEnd) - from;
        else {
          const lastStart = start + last * SECONDS_PER_HOUR;
          c.premiumPartSeconds[first] += firstEnd - from;
          c.premiumFullHours[first + 1]++;
          c.premiumFullHours[last]--;
          c.premiumPartSeconds[last] += Math.min(until, lastStart + SECONDS_PER_HOUR) - lastStart;
        }
      }
      for (let j = firstAtOrAfter(uploads, from); j < uploads.length && uploads[j] < until; j++)
        c.premiumLarge[this.hourOf(uploads[j])]++;
    }

    // Upgrades, counted in the hour their first hour ends (known from then on), and their spikes.
    for (const { from, premium } of user.intervals) {
      if (!premium || from <= start) continue;
      const known = Math.ceil((from + SECONDS_PER_HOUR - start) / SECONDS_PER_HOUR) - 1;
      if (known >= this.hours) continue;
      c.upgrades[known]++;
      const next = firstAtOrAfter(uploads, from + 1);
      if (next < uploads.length && uploads[next] <= from + SECONDS_PER_HOUR) c.upgradeHits[known]++;
    }
  }

  /** The counts so far, as JSON (see `mergePopulationCounts`). */
  counts(): PopulationCounts {
    const hourly = {} as Record<Column, number[]>;
    for (const c of POPULATION_COLUMNS) hourly[c] = [...this.columns[c]];
    return { users: this.users, hourly };
  }

  /** The counts so far, as `counts()`, and zero again: the next ones count only the users added after. */
  take(): PopulationCounts {
    const counts = this.counts();
    this.users = 0;
    for (const c of POPULATION_COLUMNS) this.columns[c].fill(0);
    return counts;
  }

  /** Call once every user is added: turns the hourly counts into running totals. */
  finish(): this {
    const c = this.columns;
    const n = this.hours + 1;
    const freeHours = new Float64Array(n);
    const premiumSeconds = new Float64Array(n);
    let free = 0;
    let full = 0;
    for (let h = 0; h < n; h++) {
      free += c.freeStarts[h];
      full += c.premiumFullHours[h];
      freeHours[h] = free;
      premiumSeconds[h] = c.premiumPartSeconds[h] + full * SECONDS_PER_HOUR;
    }
    const totals = {
      large: Float64Array.from(c.large),
      freeHours,
      freeHits: Float64Array.from(c.freeHits),
      premiumSeconds,
      premiumLarge: Float64Array.from(c.premiumLarge),
      upgrades: Float64Array.from(c.upgrades),
      upgradeHits: Float64Array.from(c.upgradeHits),
    };
    for (const column of Object.values(totals)) for (let h = 1; h < n; h++) column[h] += column[h - 1];
    this.totals = totals;
    return this;
  }

  /** The figures from the hours that ended at or before `at` (after `finish`). */
  past(at: number): PopulationPast {
    const totals = this.totals;
    if (!totals) throw new Error('population counts: past() before finish()');
    const complete = Math.min(this.hours, Math.max(0, this.hourOf(at)));
    const total = (column: Float64Array) => (complete === 0 ? 0 : column[complete - 1]);
    const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
    return {
      largeRate: ratio(total(totals.large), this.users * complete),
      freeHourRate: ratio(total(totals.freeHits), total(totals.freeHours)),
      premiumRate: ratio(total(totals.premiumLarge), total(totals.premiumSeconds) / SECONDS_PER_HOUR),
      spikeShare: ratio(total(totals.upgradeHits), total(totals.upgrades)),
      upgrades: total(totals.upgrades),
    };
  }
}
