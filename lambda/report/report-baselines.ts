import { taskSettings } from '../config/task-settings.js';
import { BASELINE_KINDS, PREDICTORS, type BaselineKind } from '../tasks/baselines.js';
import { scoreRows, type Metrics } from '../tasks/metrics.js';
import { PopulationHistory } from '../tasks/population-history.js';
import { splitOf, SPLITS, type Split } from '../tasks/split.js';
import type { UserHistory } from '../tasks/user-history.js';
import type { TopLevelSpec } from 'vega-lite';
import { round, WIDTH, type ReportSource } from './report-charts.js';
import { PALETTE, type ChartSpec } from './svg-chart.js';

/** The predictors scored on the sample: the oracle (as written in the task file) and the baselines. */
export const SAMPLE_PREDICTORS = ['oracle', ...BASELINE_KINDS] as const;
export type SamplePredictor = 'oracle' | BaselineKind;

export interface SampleScore {
  predictor: SamplePredictor;
  split: Split;
  rows: number;
  positives: number;
  metrics: Metrics;
}

export interface BaselineScores {
  users: number;
  rows: number;
  rowStride: number;
  cut: boolean;
  /** By split, then predictor (`SAMPLE_PREDICTORS`); splits without sampled rows are left out. */
  scores: SampleScore[];
}

/**
 * The oracle's and the baselines' scores on the report's sample of users (lambda/rows/baseline-sample.ts):
 * the baselines' own predictors (lambda/tasks/baselines.ts) with the whole population's past at
 * each anchor, from the counts over every user, and the evaluator's metrics. Null without a task file.
 */
export function baselineScores(source: ReportSource): BaselineScores | null {
  const aggregates = source.aggregates.baselines;
  if (!aggregates) return null;
  if (!aggregates.population) throw new Error("the report's baseline aggregates have no population counts");
  const settings = taskSettings(source.manifest.config);
  const { start } = settings;
  const window = { start, end: settings.end };
  const population = new PopulationHistory(window, aggregates.population).finish();
  const columns = SPLITS.map(() => ({
    labels: [] as number[],
    probabilities: SAMPLE_PREDICTORS.map(() => [] as number[]),
  }));
  for (const user of aggregates.users) {
    const history: UserHistory = {
      userId: user.userId,
      intervals: user.tiers.map(([from, until, premium]) => ({
        from: start + from,
        until: start + until,
        premium: premium === 1,
      })),
      largeUploads: user.large.map((at) => start + at),
    };
    for (let i = 0; i < user.rows.length; i += 3) {
      const at = start + user.rows[i];
      const column = columns[SPLITS.indexOf(splitOf(at, settings))];
      const past = population.past(at);
      column.labels.push(user.rows[i + 1]);
      column.probabilities[0].push(user.rows[i + 2]);
      BASELINE_KINDS.forEach((kind, k) => {
        column.probabilities[k + 1].push(PREDICTORS[kind](history, at, past, window));
      });
    }
  }
  const scores = SPLITS.flatMap((split, s) => {
    const { labels, probabilities } = columns[s];
    if (labels.length === 0) return [];
    const positives = labels.reduce((n, y) => n + y, 0);
    return SAMPLE_PREDICTORS.map((predictor, k) => ({
      predictor,
      split,
      rows: labels.length,
      positives,
      metrics: scoreRows({ probabilities: probabilities[k], labels }),
    }));
  });
  return {
    users: aggregates.users.length,
    rows: columns.reduce((n, c) => n + c.labels.length, 0),
    rowStride: aggregates.rowStride,
    cut: aggregates.cut,
    scores,
  };
}

const PREDICTOR_COLOURS = [PALETTE.black, PALETTE.skyBlue, PALETTE.vermillion];

/** The Brier score per split of the oracle and the baselines on the sample, as grouped bars. */
export function baselineChart(scores: BaselineScores): ChartSpec {
  const values = scores.scores.map((s) => ({
    split: s.split,
    predictor: s.predictor,
    brier: round(s.metrics.brier, 5),
    rows: s.rows,
  }));
  const spec: TopLevelSpec = {
    width: WIDTH,
    height: 240,
    data: { values },
    mark: 'bar',
    encoding: {
      x: { field: 'split', type: 'nominal', sort: [...SPLITS], title: 'split' },
      xOffset: { field: 'predictor', type: 'nominal', sort: [...SAMPLE_PREDICTORS] },
      y: { field: 'brier', type: 'quantitative', title: 'Brier score (lower is better)' },
      color: {
        field: 'predictor',
        type: 'nominal',
        title: 'predictor',
        scale: { domain: [...SAMPLE_PREDICTORS], range: PREDICTOR_COLOURS },
      },
    },
  };
  return {
    id: 'baseline-scores',
    title: 'Brier score of the oracle and the two baselines, by split (sample)',
    subtitle: [
      'All three scored on the same task rows of the sampled users.',
      'Brier score: the mean squared difference between probability and label. The oracle knows the generator, the baselines only the past.',
    ],
    description: `Grouped bars of the Brier score per split for the oracle, tier-blind and tier-aware on the same ${scores.rows} task rows of ${scores.users} sampled users. ${values.map((v) => `${v.split} ${v.predictor}: ${v.brier}`).join('; ')}.`,
    spec,
  };
}
