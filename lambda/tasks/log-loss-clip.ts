/**
 * Log loss clips probabilities to [LOG_LOSS_CLIP, 1 − LOG_LOSS_CLIP] (as scikit-learn did with
 * its `eps=1e-15`), so a confident miss costs −ln(1e−15) ≈ 34.5 instead of infinity. One home for
 * the metrics (lambda/tasks/metrics.ts, the evaluator's and the report's baselines') and the report's scores (lambda/rows/report-aggregates.ts).
 */
export const LOG_LOSS_CLIP = 1e-15;

/** `p` within [LOG_LOSS_CLIP, 1 − LOG_LOSS_CLIP]. */
export const clipProbability = (p: number): number => Math.min(Math.max(p, LOG_LOSS_CLIP), 1 - LOG_LOSS_CLIP);
