import { PROBABILITY_BINS } from '../rows/report-aggregates.js';
import { clipProbability } from '../tasks/log-loss-clip.js';
import { SPLITS, type Split } from '../tasks/split.js';
import { cell, fromUnits, type ReportSource } from './report-charts.js';

export interface ScoreRow {
  predictor: string;
  split: Split;
  rows: number;
  positives: number;
  brier: number | null;
  logLoss: number | null;
  /** From the probability bins: rows within a bin count as tied (exact when each bin holds one value). */
  rocAuc: number | null;
  averagePrecision: number | null;
}

/** ROC-AUC and average precision over groups of tied scores, highest first: [positives, negatives] each. */
function rankingScores(groups: Array<[number, number]>): { rocAuc: number | null; averagePrecision: number | null } {
  const positives = groups.reduce((a, [p]) => a + p, 0);
  const negatives = groups.reduce((a, [, n]) => a + n, 0);
  let negativesBelow = negatives;
  let wins = 0;
  let truePositives = 0;
  let chosen = 0;
  let ap = 0;
  for (const [p, n] of groups) {
    negativesBelow -= n;
    wins += p * (negativesBelow + n / 2);
    truePositives += p;
    chosen += p + n;
    if (positives > 0 && chosen > 0) ap += (p / positives) * (truePositives / chosen);
  }
  return {
    rocAuc: positives > 0 && negatives > 0 ? wins / (positives * negatives) : null,
    averagePrecision: positives > 0 ? ap : null,
  };
}

/**
 * The oracle's scores per split, from the streamed sums (Brier and log loss exact to 2^-32 per
 * row) and probability bins (ranking scores), beside a no-skill reference: the train split's label
 * rate, predicted for every row. The project's baselines are scored on a sample of users
 * (report-baselines.ts): their predictions need each user's history.
 */
export function reportScores(source: ReportSource): ScoreRow[] {
  const { byScenarioSplit, byProbability, scoreUnits } = source.aggregates.task;
  const totals = SPLITS.map((_, s) => {
    let rows = 0;
    let positives = 0;
    for (let k = s; k < byScenarioSplit.rows.length; k += SPLITS.length) {
      const c = cell(byScenarioSplit, k);
      rows += c.rows;
      positives += c.positives;
    }
    return { rows, positives };
  });
  const base = totals[0].rows > 0 ? totals[0].positives / totals[0].rows : 0;
  const clipped = clipProbability(base);
  return SPLITS.flatMap((split, s) => {
    const { rows, positives } = totals[s];
    const negatives = rows - positives;
    const groups: Array<[number, number]> = [];
    for (let b = PROBABILITY_BINS - 1; b >= 0; b--) {
      const i = s * PROBABILITY_BINS + b;
      const p = byProbability.positives[i];
      if (byProbability.rows[i] > 0) groups.push([p, byProbability.rows[i] - p]);
    }
    const mean = (units: string) => (rows > 0 ? fromUnits(units) / rows : null);
    return [
      {
        predictor: 'oracle',
        split,
        rows,
        positives,
        brier: mean(scoreUnits[s]),
        logLoss: mean(scoreUnits[SPLITS.length + s]),
        ...rankingScores(groups),
      },
      {
        predictor: 'train label rate (constant)',
        split,
        rows,
        positives,
        brier: rows > 0 ? (positives * (1 - base) ** 2 + negatives * base ** 2) / rows : null,
        logLoss: rows > 0 ? -(positives * Math.log(clipped) + negatives * Math.log(1 - clipped)) / rows : null,
        rocAuc: positives > 0 && negatives > 0 ? 0.5 : null,
        averagePrecision: positives > 0 ? positives / rows : null,
      },
    ];
  });
}
