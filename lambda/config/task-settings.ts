import type { GenerationConfig } from './schema.js';
import { utcTimestampSeconds } from '../time/utc-timestamp.js';

export const SECONDS_PER_HOUR = 3600;

/** Everything the task file needs from a validated config, in epoch seconds. */
export interface TaskSettings {
  /** The window [start, end). */
  start: number;
  end: number;
  /** Spacing of the grid anchors (a whole number of seconds, validated). */
  gridSeconds: number;
  /** Split boundaries: `val` from valFrom, `test` from testFrom. */
  valFrom: number;
  testFrom: number;
  /** The model parameters the oracle needs. */
  premiumLargeShare: number;
  spikeProbability: number;
  /** 0 when upgradeSpike.maxUploads is 1. */
  secondUploadProbability: number;
  /** The config's seed, and userFraction · 2^32: which users get task rows (lambda/tasks/user-sample.ts). */
  seed: number;
  sampleThreshold: number;
}

/**
 * The default split boundaries, RelBench-like: validation from 70% and test from 85% of the window,
 * each rounded down to whole hours after start. Integer arithmetic (7/10, 17/20 of the window in
 * seconds), so a window of whole hours never lands a hair below a boundary.
 */
export function defaultSplitBoundaries(start: number, end: number): { valFrom: number; testFrom: number } {
  const window = end - start;
  return {
    valFrom: start + Math.floor((window * 7) / (10 * SECONDS_PER_HOUR)) * SECONDS_PER_HOUR,
    testFrom: start + Math.floor((window * 17) / (20 * SECONDS_PER_HOUR)) * SECONDS_PER_HOUR,
  };
}

export function taskSettings(config: GenerationConfig): TaskSettings {
  const start = utcTimestampSeconds(config.start);
  const end = utcTimestampSeconds(config.end);
  const defaults = defaultSplitBoundaries(start, end);
  const { gridHours, valFrom, testFrom } = config.tasks;
  const spike = config.upgradeSpike;
  return {
    start,
    end,
    gridSeconds: Math.round(gridHours * SECONDS_PER_HOUR),
    valFrom: valFrom === null ? defaults.valFrom : utcTimestampSeconds(valFrom),
    testFrom: testFrom === null ? defaults.testFrom : utcTimestampSeconds(testFrom),
    premiumLargeShare: config.premiumLargeShare,
    spikeProbability: spike.probability,
    secondUploadProbability: spike.maxUploads > 1 ? spike.secondUploadProbability : 0,
    seed: config.seed,
    sampleThreshold: Math.floor(config.tasks.userFraction * 2 ** 32),
  };
}
