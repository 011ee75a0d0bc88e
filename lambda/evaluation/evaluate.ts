import { SCENARIOS, type Scenario } from '../tasks/anchors.js';
import { SPLITS, type Split } from '../tasks/split.js';
import type { DatasetStorage } from '../storage/storage.js';
import { scoreRows, type Metrics } from '../tasks/metrics.js';
import { LOG_LOSS_CLIP } from '../tasks/log-loss-clip.js';
import { predictionKey, type Prediction, type Predictions } from './predictions.js';
import { InputProblemsError, ProblemList } from './problem-list.js';
import { DatasetFileError } from '../dataset/dataset-csv.js';
import { checkExpectations, DEFAULT_EXPECTATIONS, type ExpectationResult, type Expectations } from './expectations.js';
import { readTaskRows, taskFileKey } from './task-rows.js';

/** Scores of the predictions and of the oracle on one group of task rows. */
export interface GroupScores {
  rows: number;
  labelRate: number;
  meanPrediction: number;
  meanOracle: number;
  predictions: Metrics;
  oracle: Metrics;
}

export interface EvaluationReport {
  datasetId: string;
  task: 'upload_50gb_next_hour';
  rows: number;
  logLossClip: { min: number; max: number; note: string };
  overall: GroupScores;
  splits: Partial<Record<Split, GroupScores>>;
  scenarios: Partial<Record<Scenario, GroupScores>>;
  expectations: ExpectationResult[];
  /** Every expectation with rows passed. */
  expectationsPassed: boolean;
}

/**
 * Joins predictions with a dataset's task rows and scores them next to the oracle: overall, per
 * split and per scenario. Throws InputProblemsError naming the task rows without a prediction and
 * the predictions of no task row.
 */
export async function evaluatePredictions(
  storage: DatasetStorage,
  prefix: string,
  datasetId: string,
  predictions: Predictions,
  expectations: Expectations = DEFAULT_EXPECTATIONS,
): Promise<EvaluationReport> {
  const table = new JoinedRows();
  const problems = new ProblemList();
  // Task rows are unique, so a prediction is matched at most once: counting them finds the unmatched.
  const matched = new Set<Prediction>();
  for await (const row of readTaskRows(storage, prefix)) {
    const key = predictionKey(row.userId, row.anchorTime);
    const prediction = predictions.get(key);
    if (!prediction) {
      problems.add('task rows without a prediction', {
        field: `user ${key}`,
        rule: 'is a task row with no prediction',
      });
      continue;
    }
    matched.add(prediction);
    table.push(
      prediction.probability,
      row.oracleProbability,
      row.label,
      SPLITS.indexOf(row.split),
      SCENARIOS.indexOf(row.scenario),
    );
  }
  if (matched.size < predictions.size) {
    for (const [key, prediction] of predictions) {
      const { line } = prediction;
      if (!matched.has(prediction))
        problems.add('predictions for no task row', {
          field: `line ${line}`,
          rule: `user ${key} is not a task row of this dataset`,
        });
    }
  }
  if (!problems.empty) throw new InputProblemsError('predictions do not match the task rows', problems.list());
  if (table.length === 0) throw new DatasetFileError(`${storage.describe(taskFileKey(prefix))} has no rows to score`);
  const overall = scoreGroup(
    table,
    Uint32Array.from({ length: table.length }, (_, i) => i),
  );

  const scenarios = groupScores(table, SCENARIOS, table.scenario);
  return {
    datasetId,
    task: 'upload_50gb_next_hour',
    rows: table.length,
    logLossClip: {
      min: LOG_LOSS_CLIP,
      max: 1 - LOG_LOSS_CLIP,
      note: 'log loss clips each probability to [1e-15, 1 - 1e-15]',
    },
    overall,
    splits: groupScores(table, SPLITS, table.split),
    scenarios,
    ...checkExpectations(scenarios, expectations),
  };
}

function groupScores<K extends string>(
  table: JoinedRows,
  names: readonly K[],
  codes: Uint8Array,
): Partial<Record<K, GroupScores>> {
  const counts = new Uint32Array(names.length);
  for (let i = 0; i < table.length; i++) counts[codes[i]]++;
  const members = Array.from(counts, (n) => new Uint32Array(n));
  const filled = new Uint32Array(names.length);
  for (let i = 0; i < table.length; i++) members[codes[i]][filled[codes[i]]++] = i;
  const out: Partial<Record<K, GroupScores>> = {};
  names.forEach((name, code) => {
    if (counts[code] > 0) out[name] = scoreGroup(table, members[code]);
  });
  return out;
}

function scoreGroup(table: JoinedRows, rows: Uint32Array): GroupScores {
  const labels = new Float64Array(rows.length);
  const predictions = new Float64Array(rows.length);
  const oracle = new Float64Array(rows.length);
  rows.forEach((row, i) => {
    labels[i] = table.label[row];
    predictions[i] = table.prediction[row];
    oracle[i] = table.oracle[row];
  });
  return {
    rows: rows.length,
    labelRate: mean(labels),
    meanPrediction: mean(predictions),
    meanOracle: mean(oracle),
    predictions: scoreRows({ probabilities: predictions, labels }),
    oracle: scoreRows({ probabilities: oracle, labels }),
  };
}

function mean(values: Float64Array): number {
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** The joined rows as growable columns: a prediction, the oracle, the label and group codes per row. */
class JoinedRows {
  length = 0;
  prediction = new Float64Array(1024);
  oracle = new Float64Array(1024);
  label = new Uint8Array(1024);
  split = new Uint8Array(1024);
  scenario = new Uint8Array(1024);

  push(prediction: number, oracle: number, label: number, split: number, scenario: number): void {
    if (this.length === this.prediction.length) this.grow();
    const i = this.length++;
    this.prediction[i] = prediction;
    this.oracle[i] = oracle;
    this.label[i] = label;
    this.split[i] = split;
    this.scenario[i] = scenario;
  }

  private grow(): void {
    const size = this.length * 2;
    const grown = <T extends Float64Array | Uint8Array>(old: T, make: (n: number) => T): T => {
      const next = make(size);
      next.set(old);
      return next;
    };
    this.prediction = grown(this.prediction, (n) => new Float64Array(n));
    this.oracle = grown(this.oracle, (n) => new Float64Array(n));
    this.label = grown(this.label, (n) => new Uint8Array(n));
    this.split = grown(this.split, (n) => new Uint8Array(n));
    this.scenario = grown(this.scenario, (n) => new Uint8Array(n));
  }
}
