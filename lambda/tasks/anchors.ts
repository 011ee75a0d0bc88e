import { startedBatch } from '../engine/user-batch.js';
import type { TierIntervals } from './oracle.js';
import { SECONDS_PER_HOUR, type TaskSettings } from '../config/task-settings.js';

/** The task file's scenarios; the order is the code an AnchorCursor reports. */
export const SCENARIOS = ['just_upgraded', 'just_downgraded', 'premium_long', 'premium_recent', 'free'] as const;
export type Scenario = (typeof SCENARIOS)[number];
export const JUST_UPGRADED = 0;
export const JUST_DOWNGRADED = 1;
export const PREMIUM_LONG = 2;
export const PREMIUM_RECENT = 3;
export const FREE = 4;

/** Premium for at least this long at a grid anchor: `premium_long`. */
const LONG_PREMIUM_SECONDS = 24 * SECONDS_PER_HOUR;

/**
 * One user's anchors in increasing time, without allocating: the grid start + k·grid (k >= 1,
 * up to end − 1 h) merged with every tier change (the `from` of each interval starting after
 * start); a change on a grid anchor is one anchor, the change's. After `next()` returns true,
 * `at`, `tier` (index of the interval with from <= at < until) and `scenario` describe it.
 */
export class AnchorCursor {
  at = 0;
  tier = 0;
  scenario = FREE;
  private tiers: TierIntervals | undefined;
  private nextGrid = 0;
  private lastGrid = 0;
  private gridSeconds = 1;
  private nextChange = 0;

  reset(tiers: TierIntervals, settings: Pick<TaskSettings, 'start' | 'end' | 'gridSeconds'>): void {
    this.tiers = tiers;
    this.gridSeconds = settings.gridSeconds;
    this.nextGrid = settings.start + settings.gridSeconds;
    this.lastGrid = settings.end - SECONDS_PER_HOUR;
    this.tier = 0;
    let change = 0;
    while (change < tiers.tierCount && tiers.tierFrom[change] <= settings.start) change++;
    this.nextChange = change;
  }

  next(): boolean {
    const tiers = startedBatch(this.tiers);
    const grid = this.nextGrid <= this.lastGrid ? this.nextGrid : Infinity;
    const change = this.nextChange < tiers.tierCount ? tiers.tierFrom[this.nextChange] : Infinity;
    if (grid === Infinity && change === Infinity) return false;
    if (change <= grid) {
      this.at = change;
      this.tier = this.nextChange++;
      this.scenario = tiers.tierIsPremium[this.tier] ? JUST_UPGRADED : JUST_DOWNGRADED;
      if (change === grid) this.nextGrid += this.gridSeconds;
      return true;
    }
    this.at = grid;
    this.nextGrid += this.gridSeconds;
    while (this.tier < tiers.tierCount - 1 && tiers.tierUntil[this.tier] <= grid) this.tier++;
    this.scenario = !tiers.tierIsPremium[this.tier]
      ? FREE
      : grid - tiers.tierFrom[this.tier] >= LONG_PREMIUM_SECONDS
        ? PREMIUM_LONG
        : PREMIUM_RECENT;
    return true;
  }
}
