import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { baselinePredictions } from '../lambda/evaluation/baselines.js';
import { evaluatePredictions } from '../lambda/evaluation/evaluate.js';
import { parsePredictions } from '../lambda/evaluation/predictions.js';
import { openTaskDataset } from '../lambda/evaluation/task-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { runCli } from './support/run-cli.js';
import { startLocalS3 } from './support/local-s3.js';
import {
  BASELINE_DATASET,
  putHandMadeDataset,
  SCORING_DATASET,
  scoringPredictions,
  writeHandMadeDataset,
} from './support/task-dataset.js';
import { S3Storage } from '../lambda/storage/s3-storage.js';
import { createS3Client } from '../lambda/storage/s3-client.js';

const cli = (...args: string[]) => runCli(args);

let root: string;
let baselineDir: string;
let scoringDir: string;
const tmp = (name: string) => join(root, name);
/** Writes a predictions file and returns its path. */
const predictionsFile = (name: string, text: string) => {
  writeFileSync(tmp(name), text);
  return tmp(name);
};

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-evaluation-cli-'));
  baselineDir = tmp('baseline-dataset');
  scoringDir = tmp('scoring-dataset');
  writeHandMadeDataset(baselineDir, BASELINE_DATASET);
  writeHandMadeDataset(scoringDir, SCORING_DATASET);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('baseline', () => {
  it.each(['tier-blind', 'tier-aware'] as const)(
    '--kind %s writes the predictions to --out (a new folder is created)',
    async (kind) => {
      const out = join(tmp(`out-${kind}`), 'predictions.csv');
      const run = await cli('baseline', baselineDir, '--kind', kind, '--out', out);
      expect(run.stderr).toBe('');
      expect(run.code).toBe(0);
      expect(run.stdout).toContain(`${kind} predictions written to ${out}`);
      const storage = new LocalFolderStorage(baselineDir);
      let expected = '';
      for await (const chunk of baselinePredictions(storage, '.', (await openTaskDataset(storage, '.')).window, kind))
        expected += chunk;
      expect(readFileSync(out, 'utf8')).toBe(expected);
    },
  );

  it.each([
    ['an unknown kind', ['--kind', 'oracle'], /--kind.*oracle.*tier-blind, tier-aware/s],
    ['no --kind', [], /--kind/],
    ['no --out', ['--kind', 'tier-blind', 'NO-OUT'], /--out/],
  ])('%s: exit 2', async (_name, flags, message) => {
    const out = tmp('never.csv');
    const args = flags.includes('NO-OUT') ? flags.filter((f) => f !== 'NO-OUT') : [...flags, '--out', out];
    const run = await cli('baseline', baselineDir, ...args);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
  });

  it('--out a folder, or a dataset without a task file: exit 2, nothing written', async () => {
    mkdirSync(tmp('a-folder'), { recursive: true });
    const folder = await cli('baseline', baselineDir, '--kind', 'tier-blind', '--out', tmp('a-folder'));
    expect([folder.code, folder.stderr]).toEqual([2, expect.stringContaining('is a folder')]);
    const bare = tmp('no-tasks');
    mkdirSync(bare);
    writeFileSync(
      join(bare, 'manifest.json'),
      JSON.stringify({ datasetId: 'seed-1-0000000000000000', config: {}, files: [] }),
    );
    const run = await cli('baseline', bare, '--kind', 'tier-blind', '--out', tmp('never.csv'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('has no tasks/upload_50gb_next_hour.csv');
    expect(existsSync(tmp('never.csv'))).toBe(false);
  });
});

describe('evaluate', () => {
  it('prints a table and writes the JSON report to --json', async () => {
    const file = predictionsFile('good.csv', scoringPredictions());
    const json = join(tmp('reports'), 'report.json');
    const run = await cli('evaluate', scoringDir, '--predictions', file, '--json', json);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const expected = await evaluatePredictions(
      new LocalFolderStorage(scoringDir),
      '.',
      'seed-1-0000000000000000',
      parsePredictions(scoringPredictions()),
    );
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual(JSON.parse(JSON.stringify(expected)));
    expect(run.stdout).toMatch(/^overall +6 +0\.3333 +0\.4000 +0\.4333 \| +0\.9375 /m);
    for (const group of ['split train', 'split val', 'split test', 'scenario premium_long', 'scenario just_upgraded'])
      expect(run.stdout).toContain(group);
    expect(run.stdout).toMatch(/PASS {2}just_downgraded +mean prediction <= 0\.05/);
  });

  it('thresholds from flags', async () => {
    const file = predictionsFile('good.csv', scoringPredictions());
    const run = await cli(
      'evaluate',
      scoringDir,
      '-p',
      file,
      '--min-just-upgraded',
      '0.95',
      '--max-just-downgraded',
      '0',
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/FAIL {2}just_upgraded +mean prediction >= 0\.95/);
    expect(run.stdout).toMatch(/PASS {2}just_downgraded +mean prediction <= 0 /);
    const bad = await cli('evaluate', scoringDir, '-p', file, '--max-just-downgraded', '1.5');
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('must be a number from 0 to 1')]);
  });

  const lines = scoringPredictions().trim().split('\n');
  it.each([
    ['an empty file', '', ['(file): is empty']],
    [
      'a missing column',
      'user_id,anchor_time,score\n',
      ['header: must name the columns user_id, anchor_time, probability; missing probability'],
    ],
    [
      'a missing row',
      lines.slice(0, -1).join('\n'),
      ['user 3 at 2025-03-01T18:30:00Z: is a task row with no prediction'],
    ],
    [
      'a duplicate row',
      [...lines, lines[2]].join('\n'),
      ['line 8: user 1 at 2025-03-02T00:00:00Z again (first on line 3)'],
    ],
    [
      'probabilities outside [0, 1]',
      scoringPredictions([0.6, 0.6, 0.2, -1, 0.9, 1.01]),
      ['line 5: probability -1 is outside [0, 1]', 'line 7: probability 1.01 is outside [0, 1]'],
    ],
    [
      'non-numeric probabilities',
      scoringPredictions([0.6, 'NaN', 0.2, 'high', 0.9, 0]),
      ['line 3: probability "NaN" is not a number', 'line 5: probability "high" is not a number'],
    ],
    [
      'an unknown anchor',
      [...lines, '2,2025-03-01T12:30:00Z,0.1'].join('\n'),
      ['line 8: user 2 at 2025-03-01T12:30:00Z is not a task row of this dataset'],
    ],
  ])('%s: exit 2 naming the rows, no --json written', async (name, text, messages) => {
    const json = tmp(`${name}.json`);
    const run = await cli(
      'evaluate',
      scoringDir,
      '--predictions',
      predictionsFile(`${name}.csv`, text),
      '--json',
      json,
    );
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    for (const message of messages) expect(run.stderr).toContain(message);
    expect(existsSync(json)).toBe(false);
  });

  it('a predictions file that does not exist: exit 2', async () => {
    const run = await cli('evaluate', scoringDir, '--predictions', tmp('nothing.csv'));
    expect([run.code, run.stderr]).toEqual([2, expect.stringContaining('cannot read it (not found)')]);
  });
});

describe('a dataset on S3 (s3://bucket/<dataset prefix>)', () => {
  it('baseline and evaluate read it like a folder', async () => {
    const s3 = await startLocalS3();
    try {
      s3.useAsSdkEndpoint();
      await s3.createBucket('data');
      const storage = new S3Storage(createS3Client(), 'data');
      await putHandMadeDataset(storage, 'tierdrift/seed=1/0000000000000000', BASELINE_DATASET);
      await putHandMadeDataset(storage, 'tierdrift/seed=2/0000000000000000', SCORING_DATASET);
      const fromS3 = tmp('from-s3.csv');
      const fromFolder = tmp('from-folder.csv');
      expect(
        (await cli('baseline', 's3://data/tierdrift/seed=1/0000000000000000', '--kind', 'tier-aware', '--out', fromS3))
          .code,
      ).toBe(0);
      expect((await cli('baseline', baselineDir, '--kind', 'tier-aware', '--out', fromFolder)).code).toBe(0);
      expect(readFileSync(fromS3, 'utf8')).toBe(readFileSync(fromFolder, 'utf8'));

      const predictions = predictionsFile('s3-good.csv', scoringPredictions());
      const [viaS3, viaFolder] = await Promise.all([
        cli('evaluate', 's3://data/tierdrift/seed=2/0000000000000000', '-p', predictions, '--json', tmp('s3.json')),
        cli('evaluate', scoringDir, '-p', predictions, '--json', tmp('folder.json')),
      ]);
      expect([viaS3.code, viaS3.stderr, viaFolder.code]).toEqual([0, '', 0]);
      expect(readFileSync(tmp('s3.json'), 'utf8')).toBe(readFileSync(tmp('folder.json'), 'utf8'));
      const missing = await cli('evaluate', 's3://data/tierdrift/seed=3/0000000000000000', '-p', predictions);
      expect([missing.code, missing.stderr]).toEqual([2, expect.stringContaining('not a published dataset')]);
    } finally {
      await s3.stop();
    }
  });
});
