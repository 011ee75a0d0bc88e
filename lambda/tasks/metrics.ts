import { log } from '../libm/log.js';
import { clipProbability } from './log-loss-clip.js';

/** A predicted probability and the observed 0/1 outcome it is scored against. */
export interface ScoredRows {
  probabilities: ArrayLike<number>;
  labels: ArrayLike<number>;
}

export interface Metrics {
  /** Area under the ROC curve, ties counted half (Mann–Whitney U); null with only one class. */
  rocAuc: number | null;
  /** scikit-learn's average precision (ties grouped into one threshold); null without positives. */
  averagePrecision: number | null;
  logLoss: number;
  brier: number;
}

export function scoreRows(rows: ScoredRows): Metrics {
  return {
    rocAuc: rocAuc(rows),
    averagePrecision: averagePrecision(rows),
    logLoss: logLoss(rows),
    brier: brierScore(rows),
  };
}

/**
 * The rows grouped by distinct probability, highest first: how many positives and negatives share
 * each value. Both ranking metrics walk these groups. The positives' and the negatives'
 * probabilities are sorted apart (the typed arrays' native numeric sort) and merged.
 */
function descendingGroups({ probabilities: p, labels: y }: ScoredRows): {
  positives: number;
  negatives: number;
  groups: Array<[number, number]>;
} {
  let positives = 0;
  for (let i = 0; i < y.length; i++) if (y[i] === 1) positives++;
  const pos = new Float64Array(positives);
  const neg = new Float64Array(y.length - positives);
  for (let i = 0, a = 0, b = 0; i < y.length; i++) {
    if (y[i] === 1) pos[a++] = p[i];
    else neg[b++] = p[i];
  }
  pos.sort();
  neg.sort();
  const groups: Array<[number, number]> = [];
  for (let i = pos.length - 1, j = neg.length - 1; i >= 0 || j >= 0;) {
    const value = i < 0 ? neg[j] : j < 0 ? pos[i] : Math.max(pos[i], neg[j]);
    let groupPositives = 0;
    let groupNegatives = 0;
    for (; i >= 0 && pos[i] === value; i--) groupPositives++;
    for (; j >= 0 && neg[j] === value; j--) groupNegatives++;
    groups.push([groupPositives, groupNegatives]);
  }
  return { positives, negatives: neg.length, groups };
}

/**
 * ROC-AUC as the Mann–Whitney statistic: the chance that a random positive scores above a random
 * negative, a tie counting one half. Each positive in a group beats every negative below it and
 * ties with the group's negatives.
 */
export function rocAuc(rows: ScoredRows): number | null {
  const { positives, negatives, groups } = descendingGroups(rows);
  if (positives === 0 || negatives === 0) return null;
  let negativesBelow = negatives;
  let wins = 0;
  for (const [groupPositives, groupNegatives] of groups) {
    negativesBelow -= groupNegatives;
    wins += groupPositives * (negativesBelow + groupNegatives / 2);
  }
  return wins / (positives * negatives);
}

/**
 * Average precision as scikit-learn defines it: Σ (Rₖ − Rₖ₋₁)·Pₖ over the distinct thresholds in
 * descending order (rows of equal probability enter together), R recall and P precision.
 */
export function averagePrecision(rows: ScoredRows): number | null {
  const { positives, groups } = descendingGroups(rows);
  if (positives === 0) return null;
  let truePositives = 0;
  let chosen = 0;
  let sum = 0;
  for (const [groupPositives, groupNegatives] of groups) {
    truePositives += groupPositives;
    chosen += groupPositives + groupNegatives;
    sum += (groupPositives / positives) * (truePositives / chosen);
  }
  return sum;
}

/** Mean negative log-likelihood, probabilities clipped to [LOG_LOSS_CLIP, 1 − LOG_LOSS_CLIP]. */
export function logLoss({ probabilities: p, labels: y }: ScoredRows): number {
  let sum = 0;
  for (let i = 0; i < p.length; i++) {
    const clipped = clipProbability(p[i]);
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
