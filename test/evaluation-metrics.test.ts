import { describe, expect, it } from 'vitest';
import { averagePrecision, brierScore, logLoss, rocAuc, scoreRows } from '../lambda/tasks/metrics.js';
import { LOG_LOSS_CLIP } from '../lambda/tasks/log-loss-clip.js';

const rows = (probabilities: number[], labels: number[]) => ({ probabilities, labels });

describe('metrics on hand-worked cases', () => {
  // scikit-learn's documentation example: roc_auc_score 0.75, average_precision_score 0.8333.
  const docs = rows([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]);

  it('ROC-AUC: 3 of the 4 positive-negative pairs ordered right', () => {
    expect(rocAuc(docs)).toBe(0.75);
  });

  it('average precision: thresholds 0.8 (recall 1/2, precision 1) and 0.35 (recall 1, precision 2/3)', () => {
    expect(averagePrecision(docs)).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3), 15);
  });

  it('log loss and Brier score', () => {
    expect(logLoss(docs)).toBeCloseTo(-(Math.log(0.9) + Math.log(0.6) + Math.log(0.35) + Math.log(0.8)) / 4, 14);
    expect(brierScore(docs)).toBeCloseTo((0.01 + 0.16 + 0.4225 + 0.04) / 4, 15);
  });

  it('ties: a tied positive-negative pair counts one half; tied rows enter average precision together', () => {
    const tied = rows([0.9, 0.5, 0.5, 0.1], [1, 1, 0, 0]);
    expect(rocAuc(tied)).toBe(3.5 / 4);
    expect(averagePrecision(tied)).toBeCloseTo(0.5 * 1 + 0.5 * (2 / 3), 15);
    const allTied = rows([0.5, 0.5, 0.5, 0.5], [0, 1, 0, 1]);
    expect(rocAuc(allTied)).toBe(0.5);
    expect(averagePrecision(allTied)).toBe(0.5);
  });

  it('log loss clips to [1e-15, 1 - 1e-15]: a certain miss costs -ln(1e-15), a certain hit about 0', () => {
    expect(LOG_LOSS_CLIP).toBe(1e-15);
    expect(logLoss(rows([0], [1]))).toBeCloseTo(-Math.log(1e-15), 12);
    expect(logLoss(rows([1], [0]))).toBeCloseTo(-Math.log(1e-15), 1);
    expect(logLoss(rows([1, 0], [1, 0]))).toBeLessThan(1e-14);
  });

  it('undefined ranking metrics are null: AUC with one class, AP without positives', () => {
    expect(rocAuc(rows([0.2, 0.3], [0, 0]))).toBeNull();
    expect(rocAuc(rows([0.2, 0.3], [1, 1]))).toBeNull();
    expect(averagePrecision(rows([0.2, 0.3], [0, 0]))).toBeNull();
    expect(averagePrecision(rows([0.2, 0.3], [1, 1]))).toBe(1);
    expect(scoreRows(rows([0.2], [0]))).toEqual({
      rocAuc: null,
      averagePrecision: null,
      logLoss: expect.any(Number),
      brier: 0.2 ** 2,
    });
  });
});

describe('against brute force on random data with many ties', () => {
  // A small deterministic generator: the test needs varied data, not a particular seed's.
  function lcg(seed: number) {
    let s = seed;
    return () => (s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  }

  function bruteAuc(p: number[], y: number[]): number {
    let wins = 0;
    let pairs = 0;
    for (let i = 0; i < p.length; i++) {
      for (let j = 0; j < p.length; j++) {
        if (y[i] !== 1 || y[j] !== 0) continue;
        pairs++;
        wins += p[i] > p[j] ? 1 : p[i] === p[j] ? 0.5 : 0;
      }
    }
    return wins / pairs;
  }

  /** Σ over distinct thresholds (descending) of (recall step) × precision, each counted from scratch. */
  function bruteAp(p: number[], y: number[]): number {
    const positives = y.filter((v) => v === 1).length;
    const thresholds = [...new Set(p)].sort((a, b) => b - a);
    let previousRecall = 0;
    let sum = 0;
    for (const t of thresholds) {
      const chosen = p.map((v, i) => [v, y[i]]).filter(([v]) => v >= t);
      const tp = chosen.filter(([, label]) => label === 1).length;
      const recall = tp / positives;
      sum += (recall - previousRecall) * (tp / chosen.length);
      previousRecall = recall;
    }
    return sum;
  }

  it.each([1, 2, 3, 4, 5])('seed %i: 300 rows, probabilities on a 0.05 grid', (seed) => {
    const random = lcg(seed);
    const p = Array.from({ length: 300 }, () => Math.round(random() * 20) / 20);
    const y = p.map((v) => (random() < v ? 1 : 0));
    expect(rocAuc({ probabilities: p, labels: y })).toBeCloseTo(bruteAuc(p, y), 12);
    expect(averagePrecision({ probabilities: p, labels: y })).toBeCloseTo(bruteAp(p, y), 12);
  });
});
