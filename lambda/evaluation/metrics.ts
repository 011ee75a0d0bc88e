import { log } from '../libm/log.js';

/** A predicted probability and the observed 0/1 outcome it is scored against. */
export interface ScoredRows {
  probabilities: ArrayLike<number>;
  labels: ArrayLike<number>;
}

/**
 * Log loss clips probabilities to [LOG_LOSS_CLIP, 1 − LOG_LOSS_CLIP] (as scikit-learn did with
 * its `eps=1e-15`), so a confident miss costs −ln(1e−15) ≈ 34.5 instead of infinity.
 */
export const LOG_LOSS_CLIP = 1e-15;

export interface Metrics {
  /** Area under the ROC curve, ties counted half (Mann–Whitney U); null with only one class. */
  rocAuc: number | null;
  /** scikit-learn's average precision (ties grouped into one threshold); null without positives. */
  averagePrecision: number | null;
  logLoss: number;
  brier: number;
}

export function scoreRows(rows: ScoredRows): Metrics {
  return { rocAuc: rocAuc(rows), averagePrecision: averagePrecision(rows), logLoss: logLoss(rows), brier: brierScore(rows) };
}

/** Row indices by descending probability (the order both ranking metrics walk). */
function byDescendingProbability(p: ArrayLike<number>): Uint32Array {
  const order = new Uint32Array(p.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  return order.sort((a, b) => p[b] - p[a]);
}

/**
 * ROC-AUC as the Mann–Whitney statistic: the chance that a random positive scores above a random
 * negative, a tie counting one half. Walks groups of equal probability: each positive in a group
 * beats every negative below it and ties with the group's negatives.
 */
export function rocAuc({ probabilities: p, labels: y }: ScoredRows): number | null {
  const order = byDescendingProbability(p);
  let positives = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === 1) positives++;
  const negatives = y.length - positives;
  if (positives === 0 || negatives === 0) return null;
  let negativesBelow = negatives;
  let wins = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    let groupPositives = 0;
    while (end < order.length && p[order[end]] === p[order[start]]) groupPositives += y[order[end++]];
    const groupNegatives = end - start - groupPositives;
    negativesBelow -= groupNegatives;
    wins += groupPositives * (negativesBelow + groupNegatives / 2);
    start = end;
  }
  return wins / (positives * negatives);
}

/**
 * Average precision as scikit-learn defines it: Σ (Rₖ − Rₖ₋₁)·Pₖ over the distinct thresholds in
 * descending order (rows of equal probability enter together), R recall and P precision.
 */
export function averagePrecision({ probabilities: p, labels: y }: ScoredRows): number | null {
  const order = byDescendingProbability(p);
  let positives = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === 1) positives++;
  if (positives === 0) return null;
  let truePositives = 0;
  let sum = 0;
  for (let start = 0; start < order.length; ) {
    let end = start;
    let groupPositives = 0;
    while (end < order.length && p[order[end]] === p[order[start]]) groupPositives += y[order[end++]];
    truePositives += groupPositives;
    sum += (groupPositives / positives) * (truePositives / end);
    start = end;
  }
  return sum;
}

/** Mean negative log-likelihood, probabilities clipped to [LOG_LOSS_CLIP, 1 − LOG_LOSS_CLIP]. */
export function logLoss({ probabilities: p, labels: y }: ScoredRows): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const clipped = Math.min(Math.max(p[i], LOG_LOSS_CLIP), 1 - LOG_LOSS_CLIP);
    sum -= y[i] === 1 ? log(clipped) : log(1 - clipped);
  }
  return sum / p.length;
}

/** Mean squared difference between probability and outcome. */
export function brierScore({ probabilities: p, labels: y }: ScoredRows): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += (p[i] - y[i]) ** 2;
  return sum / p.length;
}
