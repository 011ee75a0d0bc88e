import type { GenerationConfig } from '../config/schema.js';
import { supportsUserRanges } from '../engine/engine-range.js';
import { parseUtcTimestamp } from '../time/utc-timestamp.js';

export interface SyncLimits {
  /** Most users generated inside a synchronous API request. */
  maxUsers: number;
  /** Most upload rows (estimated from the config) generated inside a synchronous API request. */
  maxUploadRows: number;
}

// Each upgrade may add up to two spike uploads on top of the per-day rate.
const MAX_SPIKE_UPLOADS_PER_USER = 2;

/**
 * An upper estimate of the uploads a config yields: every user uploading at the larger of the two
 * mean rates for the whole window. Rates, not users, dominate the run time of a config such as
 * 100 users at a million uploads a day, which the user count alone would let through.
 */
export function estimatedUploadRows(config: GenerationConfig): number {
  const days = (parseUtcTimestamp(config.end)! - parseUtcTimestamp(config.start)!) / 86_400;
  const perDay = Math.max(config.freeUploadsPerDay.mean, config.premiumUploadsPerDay.mean);
  return config.users * (days * perDay + MAX_SPIKE_UPLOADS_PER_USER);
}

/** Whether a config is too big to publish within API Gateway's 29-second limit. */
export function needsBackgroundRun(config: GenerationConfig, limits: SyncLimits): boolean {
  return config.users > limits.maxUsers || estimatedUploadRows(config) > limits.maxUploadRows;
}

/**
 * Whether a config is published by the fan-out (shards on several invocations, Step Functions):
 * big enough, and from an engine whose users can be generated in any split. The reference engine
 * is one sequential stream and keeps the single background run.
 */
export function needsFanout(config: GenerationConfig, minUsers: number): boolean {
  return supportsUserRanges(config) && config.users >= minUsers;
}
