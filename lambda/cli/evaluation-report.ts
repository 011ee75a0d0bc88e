import type { EvaluationReport, GroupScores } from '../evaluation/evaluate.js';

const f4 = (x: number | null): string => (x === null ? '-' : x.toFixed(4));
const cells = (values: string[], width: number): string => values.map((v) => v.padStart(width)).join('');
const METRICS = ['AUC', 'AP', 'logloss', 'brier'];

/** The table `evaluate` prints: each group's scores, the predictions' next to the oracle's, then the expectations. */
export function evaluationReport(report: EvaluationReport, predictionsFile: string): string {
  const header = `${'group'.padEnd(26)}${cells(['rows'], 8)}${cells(['label', 'mean p', 'oracle'], 8)} |${cells(METRICS, 8)} | oracle:${cells(METRICS, 8)}`;
  const line = (name: string, s: GroupScores) =>
    `${name.padEnd(26)}${cells([String(s.rows)], 8)}${cells([s.labelRate, s.meanPrediction, s.meanOracle].map(f4), 8)} |` +
    `${metricCells(s.predictions)} |        ${metricCells(s.oracle)}`;
  const lines = [
    `${report.datasetId}: ${predictionsFile} on ${report.rows} task rows (${report.task}); ${report.logLossClip.note}`,
    header,
    line('overall', report.overall),
    ...Object.entries(report.splits).map(([name, s]) => line(`split ${name}`, s)),
    ...Object.entries(report.scenarios).map(([name, s]) => line(`scenario ${name}`, s)),
    'expectations:',
    ...report.expectations.map(
      (e) =>
        `  ${e.passed === null ? 'n/a ' : e.passed ? 'PASS' : 'FAIL'}  ${e.scenario.padEnd(16)} ${e.rule} (mean prediction ${f4(e.meanPrediction)})`,
    ),
  ];
  return lines.join('\n');
}

function metricCells(m: GroupScores['predictions']): string {
  return cells([m.rocAuc, m.averagePrecision, m.logLoss, m.brier].map(f4), 8);
}
