import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ENGINES } from '../lambda/config/schema.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { baselinePredictions } from '../lambda/evaluation/baselines.js';
import { BASELINE_KINDS, type BaselineKind } from '../lambda/tasks/baselines.js';
import { evaluatePredictions, type EvaluationReport } from '../lambda/evaluation/evaluate.js';
import { DEFAULT_EXPECTATIONS } from '../lambda/evaluation/expectations.js';
import { parsePredictions } from '../lambda/evaluation/predictions.js';
import { openTaskDataset } from '../lambda/evaluation/task-dataset.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { UPLOAD_50GB_TASK_FILE } from '../lambda/rows/task-files.js';
import { csvRows, truncateDataset } from './support/task-dataset.js';

/**
 * The dataset works as a test: on generated datasets (default config, both engines), the oracle
 * beats both baselines, and the expectations tell the tier-blind baseline from the tier-aware one.
 */
const USERS = 2000;
const STRICT_JUST_DOWNGRADED = 0.01;

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-evaluation-dataset-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function baselineCsv(dir: string, kind: BaselineKind): Promise<string> {
  const storage = new LocalFolderStorage(dir);
  const { window } = await openTaskDataset(storage, '.');
  let text = '';
  for await (const chunk of baselinePredictions(storage, '.', window, kind)) text += chunk;
  return text;
}

/** The oracle's probabilities as a predictions file. */
function oracleCsv(dir: string): string {
  const rows = csvRows(join(dir, UPLOAD_50GB_TASK_FILE.file)).map((r) => {
    const f = r.split(',');
    return `${f[0]},${f[1]},${f[6]}\n`;
  });
  return `user_id,anchor_time,probability\n${rows.join('')}`;
}

describe.each(ENGINES)('the %s engine, default config', (engine) => {
  let dir: string;
  const reports = {} as Record<BaselineKind | 'oracle', EvaluationReport>;
  const predictions = {} as Record<BaselineKind, string>;

  beforeAll(async () => {
    const storage = new LocalFolderStorage(join(root, engine));
    const outcome = await publishDataset(parseConfig({ engine, users: USERS }), { storage });
    dir = join(root, engine, outcome.prefix);
    const evaluate = (text: string, expectations = DEFAULT_EXPECTATIONS) =>
      evaluatePredictions(
        new LocalFolderStorage(dir),
        '.',
        outcome.manifest.datasetId,
        parsePredictions(text),
        expectations,
      );
    reports.oracle = await evaluate(oracleCsv(dir));
    for (const kind of BASELINE_KINDS) {
      predictions[kind] = await baselineCsv(dir, kind);
      reports[kind] = await evaluate(predictions[kind]);
    }
  });

  it('the oracle beats both baselines on log loss, overall and in every split', () => {
    for (const kind of BASELINE_KINDS) {
      expect(reports.oracle.overall.predictions.logLoss, kind).toBeLessThan(reports[kind].overall.predictions.logLoss);
      for (const split of ['train', 'val', 'test'] as const) {
        expect(reports.oracle.splits[split]!.predictions.logLoss, `${kind} ${split}`).toBeLessThan(
          reports[kind].splits[split]!.predictions.logLoss,
        );
      }
    }
    // And the tier-aware baseline beats the tier-blind one.
    expect(reports['tier-aware'].overall.predictions.logLoss).toBeLessThan(
      reports['tier-blind'].overall.predictions.logLoss,
    );
  });

  it('at the default thresholds the tier-aware baseline passes all three expectations, the tier-blind one fails just_upgraded', () => {
    const passed = (kind: BaselineKind) =>
      Object.fromEntries(reports[kind].expectations.map((e) => [e.scenario, e.passed]));
    expect(passed('tier-aware')).toEqual({ just_downgraded: true, just_upgraded: true, premium_long: true });
    expect(passed('tier-blind').just_upgraded).toBe(false);
    expect(reports.oracle.expectationsPassed).toBe(true);
  });

  it('the tier-blind baseline treats just-downgraded users like premium ones; the oracle knows they cannot upload 50 GB', () => {
    const blind = reports['tier-blind'].scenarios.just_downgraded!.meanPrediction;
    expect(blind).toBeGreaterThan(STRICT_JUST_DOWNGRADED);
    expect(blind).toBeGreaterThanOrEqual(reports.oracle.scenarios.premium_long!.meanPrediction / 2);
    expect(reports['tier-aware'].scenarios.just_downgraded!.meanPrediction).toBeLessThanOrEqual(STRICT_JUST_DOWNGRADED);
    expect(reports.oracle.scenarios.just_downgraded!.meanPrediction).toBe(0);
  });

  it('the baselines never look past the anchor: the dataset cut at an anchor gives the same predictions up to it', async () => {
    // A downgrade anchor (not on the grid) and a grid anchor, both mid-window.
    const tasks = csvRows(join(dir, UPLOAD_50GB_TASK_FILE.file)).map((r) => r.split(','));
    const downgrade = tasks.find(
      (f) => f[2] === 'just_downgraded' && f[1] > '2025-03-05' && !f[1].endsWith('00:00Z'),
    )![1];
    for (const cut of [downgrade, '2025-03-06T12:00:00Z']) {
      const folder = join(root, `${engine}-cut-${cut.replaceAll(':', '')}`);
      truncateDataset(dir, folder, cut);
      for (const kind of BASELINE_KINDS) {
        const full = new Map(
          predictions[kind].split('\r\n').map((l) => [l.split(',').slice(0, 2).join(','), l] as const),
        );
        const kept = (await baselineCsv(folder, kind)).split('\r\n').filter((l) => l !== '');
        expect(kept.length, kind).toBeGreaterThan(USERS);
        for (const line of kept)
          expect(line, `${kind} cut at ${cut}`).toBe(full.get(line.split(',').slice(0, 2).join(',')));
      }
    }
  });
});
