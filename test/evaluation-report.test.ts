import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { evaluatePredictions } from '../lambda/evaluation/evaluate.js';
import { DEFAULT_EXPECTATIONS } from '../lambda/evaluation/expectations.js';
import { scoreRows } from '../lambda/tasks/metrics.js';
import { parsePredictions } from '../lambda/evaluation/predictions.js';
import { EXAMPLES_PER_KIND, InputProblemsError } from '../lambda/evaluation/problem-list.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { SCORING_DATASET, scoringPredictions, writeHandMadeDataset } from './support/task-dataset.js';

let root: string;
let storage: LocalFolderStorage;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-evaluate-'));
  writeHandMadeDataset(root, SCORING_DATASET);
  storage = new LocalFolderStorage(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const evaluate = (text: string, expectations = DEFAULT_EXPECTATIONS) =>
  evaluatePredictions(storage, '.', 'seed-1-0000000000000000', parsePredictions(text), expectations);

/** The problems an input is refused with. */
async function problemsOf(text: string): Promise<Array<{ field: string; rule: string }>> {
  try {
    await evaluate(text);
  } catch (error) {
    if (error instanceof InputProblemsError) return error.problems;
    throw error;
  }
  throw new Error('accepted');
}

// The rows of SCORING_DATASET: labels, oracle values; and the default predictions' probabilities.
const LABELS = [1, 0, 0, 0, 1, 0];
const ORACLE = [0.8, 0.4, 0.1, 0.35, 0.9, 0.05];
const P = [0.6, 0.6, 0.2, 0.1, 0.9, 0];
const pick = (rows: number[]) => ({
  predictions: scoreRows({ probabilities: rows.map((i) => P[i]), labels: rows.map((i) => LABELS[i]) }),
  oracle: scoreRows({ probabilities: rows.map((i) => ORACLE[i]), labels: rows.map((i) => LABELS[i]) }),
});
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('the report', () => {
  it('scores the predictions and the oracle overall, per split and per scenario', async () => {
    const report = await evaluate(scoringPredictions());
    expect(report.rows).toBe(6);
    // By hand: the positives score 0.6 and 0.9, the negatives 0.6, 0.2, 0.1, 0: 7.5 of 8 pairs.
    expect(report.overall.predictions.rocAuc).toBe(7.5 / 8);
    expect(report.overall).toMatchObject({
      rows: 6,
      labelRate: 2 / 6,
      meanPrediction: mean(P),
      meanOracle: mean(ORACLE),
      ...pick([0, 1, 2, 3, 4, 5]),
    });
    expect(report.splits).toEqual({
      train: expect.objectContaining({ rows: 3, labelRate: 2 / 3, ...pick([0, 2, 4]) }),
      val: expect.objectContaining({ rows: 1, labelRate: 0, ...pick([1]) }),
      test: expect.objectContaining({ rows: 2, labelRate: 0, ...pick([3, 5]) }),
    });
    expect(Object.keys(report.scenarios).sort()).toEqual(['free', 'just_downgraded', 'just_upgraded', 'premium_long']);
    expect(report.scenarios.premium_long).toMatchObject({
      rows: 2,
      meanPrediction: 0.6,
      meanOracle: mean([0.8, 0.4]),
      ...pick([0, 1]),
    });
    expect(report.scenarios.just_downgraded).toMatchObject({ rows: 1, meanPrediction: 0, meanOracle: 0.05 });
    expect(report.logLossClip).toMatchObject({ min: 1e-15, max: 1 - 1e-15 });
  });

  it('the three expectations with their thresholds, at the defaults and at others', async () => {
    const report = await evaluate(scoringPredictions());
    expect(report.expectations).toEqual([
      {
        scenario: 'just_downgraded',
        rule: 'mean prediction <= 0.05',
        threshold: 0.05,
        meanPrediction: 0,
        passed: true,
      },
      { scenario: 'just_upgraded', rule: 'mean prediction >= 0.5', threshold: 0.5, meanPrediction: 0.9, passed: true },
      {
        scenario: 'premium_long',
        rule: expect.stringContaining('mean prediction >= 0.5 x mean oracle'),
        threshold: 0.5 * mean([0.8, 0.4]),
        meanPrediction: 0.6,
        passed: true,
      },
    ]);
    expect(report.expectationsPassed).toBe(true);

    const strict = await evaluate(scoringPredictions([0.6, 0.6, 0.2, 0.1, 0.9, 0.01]), {
      maxJustDowngraded: 0,
      minJustUpgraded: 0.95,
      minPremiumLongRatio: 1.01,
    });
    expect(strict.expectations.map((e) => e.passed)).toEqual([false, false, false]);
    expect(strict.expectationsPassed).toBe(false);
  });

  it('reads columns in any order, ignores extra columns, accepts pandas-style times and quoted fields', async () => {
    const text = [
      'probability,model,anchor_time,user_id',
      ...SCORING_DATASET.tasks.map((r, i) => {
        const [user, time] = r.split(',');
        return `"${P[i]}",m1,${i % 2 ? time.replace('T', ' ').replace('Z', '') : time.replace('Z', '+00:00').replace('T', ' ')},${user}`;
      }),
    ].join('\r\n');
    expect((await evaluate(text)).overall).toEqual((await evaluate(scoringPredictions())).overall);
  });
});

describe('bad predictions: every problem named', () => {
  const header = 'user_id,anchor_time,probability';
  const lines = scoringPredictions().trim().split('\n');

  it.each([
    ['an empty file', '', [{ field: '(file)', rule: expect.stringContaining('is empty') }]],
    ['only blank lines', '\n\n', [{ field: '(file)', rule: expect.stringContaining('is empty') }]],
    [
      'a missing column',
      'user_id,anchor_time,p\n1,2025-03-01T12:00:00Z,0.5\n',
      [{ field: 'header', rule: expect.stringContaining('missing probability') }],
    ],
    [
      'no header',
      '1,2025-03-01T12:00:00Z,0.5\n',
      [{ field: 'header', rule: expect.stringContaining('missing user_id, anchor_time, probability') }],
    ],
  ])('%s', async (_name, text, problems) => {
    expect(await problemsOf(text)).toEqual(problems);
  });

  it('probabilities outside [0, 1], non-numeric, NaN, empty; malformed ids, times and rows: each line named', async () => {
    const text = [
      header,
      '1,2025-03-01T12:00:00Z,1.5',
      '1,2025-03-02T00:00:00Z,-0.1',
      '2,2025-03-01T12:00:00Z,NaN',
      '2,2025-03-02T00:00:00Z,abc',
      '3,2025-03-01T12:00:00Z,',
      'x,2025-03-01T18:30:00Z,0.5',
      '3,2025-02-30T18:30:00Z,0.5',
      '3,2025-03-01T18:30:00Z,0.5,extra',
      '3,2025-03-01T18:30:00Z,Infinity',
    ].join('\n');
    // Listed kind by kind; sorted by line here.
    const byLine = (await problemsOf(text)).sort((a, b) => Number(a.field.slice(5)) - Number(b.field.slice(5)));
    expect(byLine).toEqual([
      { field: 'line 2', rule: 'probability 1.5 is outside [0, 1]' },
      { field: 'line 3', rule: 'probability -0.1 is outside [0, 1]' },
      { field: 'line 4', rule: 'probability "NaN" is not a number' },
      { field: 'line 5', rule: 'probability "abc" is not a number' },
      { field: 'line 6', rule: 'probability "" is not a number' },
      { field: 'line 7', rule: 'user_id "x" is not a whole number' },
      { field: 'line 8', rule: 'anchor_time "2025-02-30T18:30:00Z" is not a UTC time YYYY-MM-DDTHH:MM:SSZ' },
      { field: 'line 9', rule: 'has 4 fields, the header 3' },
      { field: 'line 10', rule: 'probability "Infinity" is not a number' },
    ]);
  });

  it('a duplicate row names both lines', async () => {
    expect(await problemsOf([...lines, lines[3]].join('\n'))).toEqual([
      { field: 'line 8', rule: 'user 2 at 2025-03-01T12:00:00Z again (first on line 4)' },
    ]);
  });

  it('missing rows and rows of no task (an unknown anchor, an unknown user) are named', async () => {
    const text = [
      ...lines.filter((_, i) => i !== 3 && i !== 6),
      '3,2025-03-01T19:00:00Z,0.5',
      '9,2025-03-01T12:00:00Z,0.5',
    ].join('\n');
    expect(await problemsOf(text)).toEqual([
      { field: 'user 2 at 2025-03-01T12:00:00Z', rule: 'is a task row with no prediction' },
      { field: 'user 3 at 2025-03-01T18:30:00Z', rule: 'is a task row with no prediction' },
      { field: 'line 6', rule: 'user 3 at 2025-03-01T19:00:00Z is not a task row of this dataset' },
      { field: 'line 7', rule: 'user 9 at 2025-03-01T12:00:00Z is not a task row of this dataset' },
    ]);
  });

  it(`problems of one kind are capped at ${EXAMPLES_PER_KIND}, the rest counted`, async () => {
    const bad = Array.from({ length: 25 }, (_, i) => `${i + 1},2025-03-01T12:00:00Z,2`);
    const problems = await problemsOf([header, ...bad].join('\n'));
    expect(problems).toHaveLength(EXAMPLES_PER_KIND + 1);
    expect(problems[0]).toEqual({ field: 'line 2', rule: 'probability 2 is outside [0, 1]' });
    expect(problems[EXAMPLES_PER_KIND]).toEqual({
      field: '(more)',
      rule: `15 more probabilities outside [0, 1] not listed (25 in all)`,
    });
  });
});
