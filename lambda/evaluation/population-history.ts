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
 * Hour-by-hour counts over the window, for all users together. A baseline at anchor t reads only
 * the hours that ended by t (`past(t)`), so the counts of later hours never reach a prediction.
 * Memory is per hour of the window, not per user.
 */
export class PopulationHistory {
  private users = 0;
  private readonly hours: number;
  private readonly large: Float64Array;
  private readonly freeHours: Float64Array;
  private readonly freeHits: Float64Array;
  private readonly premiumSeconds: Float64Array;
  private readonly premiumLarge: Float64Array;
  private readonly upgrades: Float64Array;
  private readonly upgradeHits: Float64Array;

  constructor(private readonly window: Window) {
    this.hours = Math.ceil((window.end - window.start) / SECONDS_PER_HOUR);
    const column = () => new Float64Array(this.hours + 1);
    [
      this.large,
      this.freeHours,
      this.freeHits,
      this.premiumSeconds,
      this.premiumLarge,
      this.upgrades,
      this.upgradeHits,
    ] = Array.from({ length: 7 }, column);
  }

  private hourOf(at: number): number {
    return Math.floor((at - this.window.start) / SECONDS_PER_HOUR);
  }

  add(user: UserHistory): void {
    const { start } = this.window;
    this.users++;
    for (const at of user.largeUploads) this.large[this.hourOf(at)]++;

    // Hours that began free, and those of them with a 50 GB upload.
    let upload = 0;
    for (const { from, until, premium } of user.intervals) {
      if (premium) continue;
      for (
        let h = Math.max(0, Math.ceil((from - start) / SECONDS_PER_HOUR));
        h < this.hours && start + h * SECONDS_PER_HOUR < until;
        h++
      ) {
        const hourStart = start + h * SECONDS_PER_HOUR;
        this.freeHours[h]++;
        while (upload < user.largeUploads.length && user.largeUploads[upload] < hourStart) upload++;
        if (upload < user.largeUploads.length && user.largeUploads[upload] < hourStart + SECONDS_PER_HOUR)
          this.freeHits[h]++;
      }
    }

    // Ordinary premium time and its 50 GB uploads.
    for (const [from, until] of ordinaryPremiumSegments(user, this.window)) {
      for (let h = this.hourOf(from); h < this.hours && start + h * SECONDS_PER_HOUR < until; h++) {
        const hourStart = start + h * SECONDS_PER_HOUR;
        this.premiumSeconds[h] += Math.min(until, hourStart + SECONDS_PER_HOUR) - Math.max(from, hourStart);
      }
      for (const at of user.largeUploads) if (at >= from && at < until) this.premiumLarge[this.hourOf(at)]++;
    }

    // Upgrades, counted in the hour their first hour ends (known from then on), and their spikes.
    for (const { from, premium } of user.intervals) {
      if (!premium || from <= start) continue;
      const known = Math.ceil((from + SECONDS_PER_HOUR - start) / SECONDS_PER_HOUR) - 1;
      if (known >= this.hours) continue;
      this.upgrades[known]++;
      if (user.largeUploads.some((at) => at > from && at <= from + SECONDS_PER_HOUR)) this.upgradeHits[known]++;
    }
  }

  /** Call once every user is added: turns the hourly counts into running totals. */
  finish(): this {
    for (const column of [
      this.large,
      this.freeHours,
      this.freeHits,
      this.premiumSeconds,
      this.premiumLarge,
      this.upgrades,
      this.upgradeHits,
    ]) {
      for (let h = 1; h < column.length; h++) column[h] += column[h - 1];
    }
    return this;
  }

  /** The figures from the hours that ended at or before `at`. */
  past(at: number): PopulationPast {
    const complete = Math.min(this.hours, Math.max(0, this.hourOf(at)));
    const total = (column: Float64Array) => (complete === 0 ? 0 : column[complete - 1]);
    const ratio = (a: number, b: number) => (b > 0 ? a / b : 0);
    return {
      largeRate: ratio(total(this.large), this.users * complete),
      freeHourRate: ratio(total(this.freeHits), total(this.freeHours)),
      premiumRate: ratio(total(this.premiumLarge), total(this.premiumSeconds) / SECONDS_PER_HOUR),
      spikeShare: ratio(total(this.upgradeHits), total(this.upgrades)),
      upgrades: total(this.upgrades),
    };
  }
}
