import type { GenerationConfig } from '../config/schema.js';
import type { Problem } from '../errors/problem.js';
import { supportsUserRanges } from '../engine/engine-range.js';
import { byteText, estimateOutput, type OutputEstimate } from './output-estimate.js';

/** Where a deployment runs a config, and how much it writes at most. */
export interface RunLimits {
  /** Inside a synchronous API request: at most this many users, and rows of all files by the estimate. */
  sync: { maxUsers: number; maxRows: number };
  /** Seedrandom configs of at least this many users go to the fan-out. */
  fanout: { minUsers: number };
  /** The most one invocation writes: a config that is not split, a background job, a nightly fixture, a fan-out shard. */
  singleRunMaxBytes: number;
  /** The most a dataset may have, however it is made. */
  maxOutputBytes: number;
}

export type RunPlace = 'request' | 'job' | 'fanout';

/**
 * Where a config runs: inside the API request when small enough to answer within API Gateway's
 * 29 seconds, else in the background: on the fan-out (shards on several invocations) when the
 * engine can generate users in any split and the config is big (at least `fanout.minUsers`, or
 * more than one invocation writes), else on one asynchronous invocation. A problem when the
 * estimate is over the output cap, or over what one invocation writes when the config cannot be split.
 */
export function placeRun(
  config: GenerationConfig,
  limits: RunLimits,
): { place: RunPlace; estimate: OutputEstimate } | { problem: Problem } {
  const estimate = estimateOutput(config);
  const overCap = outputProblem(estimate, limits.maxOutputBytes, 'MAX_OUTPUT_BYTES');
  if (overCap) return { problem: overCap };
  const fanout =
    supportsUserRanges(config) && (config.users >= limits.fanout.minUsers || estimate.bytes > limits.singleRunMaxBytes);
  if (fanout) return { place: 'fanout', estimate };
  const overRun = outputProblem(
    estimate,
    limits.singleRunMaxBytes,
    'SINGLE_RUN_MAX_BYTES: what one invocation writes; only seedrandom configs can be split',
  );
  if (overRun) return { problem: overRun };
  const background = config.users > limits.sync.maxUsers || estimate.rows > limits.sync.maxRows;
  return { place: background ? 'job' : 'request', estimate };
}

/** The problem of a dataset estimated above `maxBytes` (`setting` names the limit), or undefined. */
export function outputProblem(estimate: OutputEstimate, maxBytes: number, setting: string): Problem | undefined {
  if (estimate.bytes <= maxBytes) return undefined;
  const largest = estimate.files.reduce((a, b) => (b.bytes > a.bytes ? b : a));
  return {
    field: '(config)',
    rule:
      `would write about ${byteText(estimate.bytes)} (${estimate.bytes} bytes by the estimate, ${largest.name} the largest at ${byteText(largest.bytes)}), ` +
      `more than the ${maxBytes} bytes allowed (${setting}): fewer users, a coarser tasks.gridHours, a smaller tasks.userFraction (or tasks.enabled false), lower rates or a shorter window`,
  };
}
