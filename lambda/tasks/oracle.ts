import type { UserBatch } from '../engine/user-batch.js';
import { exp } from '../libm/exp.js';
import { SECONDS_PER_HOUR, type TaskSettings } from '../config/task-settings.js';

/** One user's tier intervals as written (epoch seconds, end exclusive), as a UserBatch holds them. */
export type TierIntervals = Pick<UserBatch, 'tierCount' | 'tierFrom' | 'tierUntil' | 'tierIsPremium'>;

export type OracleParams = Pick<
  TaskSettings,
  'start' | 'premiumLargeShare' | 'spikeProbability' | 'secondUploadProbability'
>;

/** Length of [a, b) ∩ [c, d) (for lengths, open or closed ends do not matter). */
function overlap(a: number, b: number, c: number, d: number): number {
  const length = Math.min(b, d) - Math.max(a, c);
  return length > 0 ? length : 0;
}

/**
 * P(at least one 50 GB upload in W = (anchor, anchor + 1 h]) under the generator's model, given
 * the user's tier intervals and premium rate: ordinary 50 GB uploads are a Poisson process of rate
 * r·s while premium (mean Λ = r·s·|W ∩ premium time| in hours), independent of the upgrade spikes;
 * an upgrade (a premium interval starting after `start`) brings, with probability q, one upload
 * uniform on its spike window S = [from, min(from + 1 h, until)), and a second, independent one with
 * probability p2. With f = |S ∩ W| / |S|, the spike misses W with probability
 * 1 − q + q·((1 − p2)(1 − f) + p2(1 − f)²) = 1 − q·f·(1 + p2·(1 − f)) (the form used: exactly 1 at
 * f = 0, so a free user's probability is exactly 0). Result: 1 − e^(−Λ)·Π(misses).
 *
 * A spike window of zero length as written (an interval under a second) is its instant: f = 1 if
 * `from` is in W, else 0.
 */
export function oracleProbability(
  anchor: number,
  tiers: TierIntervals,
  premiumRatePerHour: number,
  params: OracleParams,
): number {
  const windowEnd = anchor + SECONDS_PER_HOUR;
  const q = params.spikeProbability;
  const p2 = params.secondUploadProbability;
  let premiumSeconds = 0;
  let noSpike = 1;
  for (let t = 0; t < tiers.tierCount; t++) {
    if (!tiers.tierIsPremium[t]) continue;
    const from = tiers.tierFrom[t];
    const until = tiers.tierUntil[t];
    premiumSeconds += overlap(from, until, anchor, windowEnd);
    if (from <= params.start) continue;
    const spikeEnd = Math.min(from + SECONDS_PER_HOUR, until);
    const f =
      spikeEnd > from
        ? overlap(from, spikeEnd, anchor, windowEnd) / (spikeEnd - from)
        : from > anchor && from <= windowEnd
          ? 1
          : 0;
    if (f > 0) noSpike *= 1 - q * f * (1 + p2 * (1 - f));
  }
  const lambda = (premiumRatePerHour * params.premiumLargeShare * premiumSeconds) / SECONDS_PER_HOUR;
  if (lambda !== lastLambda) {
    lastLambda = lambda;
    lastNoLargeUpload = exp(-lambda);
  }
  return 1 - lastNoLargeUpload * noSpike;
}

// Consecutive anchors mostly share Λ (0 while free, a whole hour of the same premium rate after
// that), so e^(−Λ) of the last call is reused: the exp was a tenth of formatting the task file.
let lastLambda = 0;
let lastNoLargeUpload = 1;
