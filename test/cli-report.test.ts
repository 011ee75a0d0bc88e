import { mkdtempSync, readFileSync, rmSync, writeFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configHash } from '../lambda/config/dataset-id.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { runCli } from './support/run-cli.js';

const root = mkdtempSync(join(tmpdir(), 'tierdrift-cli-report-'));
const hash = configHash(parseConfig({ users: 40, seed: 4 }));
const dataset = join(root, 'out', 'seed=4', hash);

beforeAll(async () => {
  const run = await runCli(['generate', '--dest', join(root, 'out'), '--users', '40', '--seed', '4']);
  expect(run.code, run.stderr).toBe(0);
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('tierdrift report', () => {
  it('renders the published report.html again, byte for byte, into -o', async () => {
    const out = join(root, 'again.html');
    const run = await runCli(['report', dataset, '-o', out]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`the report of seed-4-${hash}`);
    expect(readFileSync(out).equals(readFileSync(join(dataset, 'report.html')))).toBe(true);
  });

  it('writes report-<dataset id>.html in the current folder without -o', async () => {
    const run = await runCli(['report', dataset], {}, root);
    expect(run.code, run.stderr).toBe(0);
    expect(
      readFileSync(join(root, `report-seed-4-${hash}.html`)).equals(readFileSync(join(dataset, 'report.html'))),
    ).toBe(true);
  });

  it('a folder that is not a dataset: one line naming it, exit 1', async () => {
    const run = await runCli(['report', root, '-o', join(root, 'none.html')]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      `error: rendering the report of ${root}: no manifest.json there (not a published dataset)`,
    );
  });

  it('a dataset published before reports: says so, exit 1', async () => {
    const manifestFile = join(dataset, 'manifest.json');
    const manifest = JSON.parse(readFileSync(manifestFile, 'utf8'));
    manifest.files = manifest.files.filter((f: { name: string }) => !f.name.startsWith('report'));
    writeFileSync(manifestFile, JSON.stringify(manifest));
    unlinkSync(join(dataset, 'report-data.json'));
    const run = await runCli(['report', dataset, '-o', join(root, 'old.html')]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/lists no report-data\.json \(published before reports existed/);
  });
});
