import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configHash } from '../lambda/config/dataset-id.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { runCli } from './support/run-cli.js';
import { EXPECTED_FILES, EXPECTED_FOLDERS } from './support/expected-files.js';

const REPO = fileURLToPath(new URL('..', import.meta.url));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI as `npm run cli` does (`node bin/tierdrift.mjs ...`) from the repo root. */
function cli(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/tierdrift.mjs', ...args],
      { cwd: REPO, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Every file and folder under `dir`, relative, sorted. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).map((p) => p.split('\\').join('/')).sort();
}

let root: string;
const tmp = (name: string): string => join(root, name);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-cli-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('generate', () => {
  let dest: string;
  let datasetDir: string;
  let first: Run;

  beforeAll(async () => {
    dest = tmp('gen');
    first = await cli('generate', '--dest', dest, '--users', '10');
    const hash = configHash(parseConfig({ users: 10 }));
    datasetDir = join(dest, 'seed=42', hash);
  });

  it('prints the dataset path and a summary, and exits 0', () => {
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const hash = configHash(parseConfig({ users: 10 }));
    expect(first.stdout).toContain(`published seed-42-${hash}`);
    expect(first.stdout).toContain(`path:    ${datasetDir}`);
    expect(first.stdout).toMatch(/seed 42, 10 users, 2025-03-01T00:00:00Z \.\. 2025-03-11T00:00:00Z/);
    expect(first.stdout).toMatch(/rows: +users 10, tiers \d+, items 2, uploads \d+/);
    expect(first.stdout).toMatch(/checks: +11\/11 passed/);
  });

  it('creates seed=42/<hash>/ with the CSVs, schema.json and manifest.json, and no leftover temp files', () => {
    const hash = configHash(parseConfig({ users: 10 }));
    expect(tree(dest)).toEqual(
      [
        'seed=42',
        `seed=42/${hash}`,
        ...[...EXPECTED_FOLDERS, ...EXPECTED_FILES, 'manifest.json'].map((f) => `seed=42/${hash}/${f}`),
      ].sort(),
    );
    const manifest = JSON.parse(readFileSync(join(datasetDir, 'manifest.json'), 'utf8'));
    expect(manifest.datasetId).toBe(`seed-42-${hash}`);
    expect(manifest.config.users).toBe(10);
    for (const file of manifest.files) {
      const bytes = readFileSync(join(datasetDir, file.name));
      expect(file.sha256).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    // The row counts printed are the rows in the files.
    const rows = (f: string) => readFileSync(join(datasetDir, f), 'latin1').split('\r\n').length - 2;
    expect(first.stdout).toContain(
      `users ${rows('users.csv')}, tiers ${rows('tiers.csv')}, items 2, uploads ${rows('uploads.csv')}`,
    );
  });

  it('a second run says it is already published and rewrites nothing', async () => {
    const before = Object.fromEntries(tree(dest).map((p) => [p, statSync(join(dest, p)).mtimeMs]));
    const second = await cli('generate', '--dest', dest, '--users', '10');
    expect(second.code).toBe(0);
    expect(second.stdout).toMatch(/is already published; not regenerated/);
    expect(second.stdout).toContain(`path:    ${datasetDir}`);
    const after = Object.fromEntries(tree(dest).map((p) => [p, statSync(join(dest, p)).mtimeMs]));
    expect(after).toEqual(before);
  });

  it('--config FILE with --seed/--users flags: the flags override the file, other keys come from the file', async () => {
    const file = tmp('override.json');
    const fileConfig = { seed: 3, users: 50, minTierGapHours: 12, premiumLargeShare: 0.25 };
    writeFileSync(file, JSON.stringify(fileConfig));
    const out = tmp('override-out');
    const run = await cli('generate', '--config', file, '--seed', '7', '--users', '10', '--dest', out);
    expect(run.code).toBe(0);
    const hash = configHash(parseConfig({ ...fileConfig, seed: 7, users: 10 }));
    expect(tree(out)).toContain(`seed=7/${hash}/manifest.json`);
    const manifest = JSON.parse(readFileSync(join(out, 'seed=7', hash, 'manifest.json'), 'utf8'));
    expect(manifest.config).toMatchObject({ seed: 7, users: 10, minTierGapHours: 12, premiumLargeShare: 0.25 });
    expect(run.stdout).toContain(`published seed-7-${hash}`);
  });

  it('--json prints the manifest', async () => {
    const out = tmp('json-out');
    const run = await cli('generate', '--dest', out, '--users', '5', '--seed', '11', '--json');
    expect(run.code).toBe(0);
    const printed = JSON.parse(run.stdout);
    const hash = configHash(parseConfig({ users: 5, seed: 11 }));
    expect(printed.datasetId).toBe(`seed-11-${hash}`);
    expect(printed).toEqual(JSON.parse(readFileSync(join(out, 'seed=11', hash, 'manifest.json'), 'utf8')));
  });
});

describe.concurrent('generate refuses bad input with exit code 2 and creates nothing', () => {
  const refused = async (args: string[], dest: string): Promise<Run> => {
    const run = await cli('generate', ...args, '--dest', dest);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stdout).toBe('');
    expect(existsSync(dest) ? tree(dest) : []).toEqual([]);
    return run;
  };

  it('a config with several errors names every bad field', async () => {
    const file = tmp('several.json');
    writeFileSync(
      file,
      JSON.stringify({
        seed: -1,
        users: 0,
        user: 5,
        start: '2025-02-30T00:00:00Z',
        upgradeSpike: { maxUploads: 3 },
        premiumLargeShare: 1.5,
      }),
    );
    const run = await refused(['--config', file], tmp('several-out'));
    for (const field of ['seed', 'users', 'user', 'start', 'upgradeSpike.maxUploads', 'premiumLargeShare']) {
      expect(run.stderr).toMatch(new RegExp(`^\\s+- ${field.replace('.', '\\.')}: `, 'm'));
    }
    expect(run.stderr).toMatch(/seed: must be an integer from 0 to 4294967295/);
    expect(run.stderr).toMatch(/user: unknown key/);
  });

  it('an unknown key', async () => {
    const file = tmp('unknown.json');
    writeFileSync(file, JSON.stringify({ user: 100 }));
    const run = await refused(['--config', file], tmp('unknown-out'));
    expect(run.stderr).toMatch(/- user: unknown key/);
  });

  it('bad --seed / --users flags name the field', async () => {
    const [a, b] = await Promise.all([
      refused(['--seed', 'abc'], tmp('flag-seed-out')),
      refused(['--users', '0'], tmp('flag-users-out')),
    ]);
    expect(a.stderr).toMatch(/- seed: must be an integer/);
    expect(b.stderr).toMatch(/- users: must be an integer from 1 to 10000000/);
  });

  it('an unreadable config file', async () => {
    const missing = tmp('does-not-exist.json');
    const run = await refused(['--config', missing], tmp('unreadable-out'));
    expect(run.stderr).toContain(`cannot read config file ${missing}`);
  });

  it('malformed JSON', async () => {
    const file = tmp('malformed.json');
    writeFileSync(file, '{"seed": 42,');
    const run = await refused(['--config', file], tmp('malformed-out'));
    expect(run.stderr).toContain(`config file ${file} is not valid JSON`);
  });

  it('a config that is not an object', async () => {
    const file = tmp('array.json');
    writeFileSync(file, '[1, 2]');
    const run = await refused(['--config', file], tmp('array-out'));
    expect(run.stderr).toMatch(/must be a JSON object/);
  });

  it('--dest that is a file', async () => {
    const file = tmp('dest-file');
    writeFileSync(file, 'not a folder');
    const run = await cli('generate', '--users', '3', '--dest', file);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/exists and is not a folder/);
    expect(readFileSync(file, 'utf8')).toBe('not a folder');
  });

  it('--dest that cannot be created (a path under a regular file)', async () => {
    const file = tmp('blocker');
    writeFileSync(file, 'x');
    const run = await cli('generate', '--users', '3', '--dest', join(file, 'sub'));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--dest ${join(file, 'sub')}`);
    expect(statSync(file).isFile()).toBe(true);
  });

  it('an empty --dest (an unset shell variable) is refused, naming --dest; nothing lands in the current folder', async () => {
    const cwd = tmp('empty-dest-cwd');
    mkdirSync(cwd);
    const runs = await Promise.all([
      runCli(['generate', '--users', '3', '--dest', ''], {}, cwd),
      runCli(['fetch', tmp('no-dataset'), '--out', ''], {}, cwd),
    ]);
    expect(runs.map((r) => [r.code, r.stdout])).toEqual([
      [2, ''],
      [2, ''],
    ]);
    expect(runs[0].stderr).toBe("error: --dest '': must not be empty (name a folder, e.g. ./out)\n");
    expect(runs[1].stderr).toMatch(/^error: --out '': must not be empty/);
    expect(tree(cwd)).toEqual([]);
  });

  it('an unknown option is a usage error', async () => {
    const run = await cli('generate', '--bogus');
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/unknown option '--bogus'/);
  });
});

describe.concurrent('verify and tiers on a published dataset', () => {
  let dataset: string;

  beforeAll(async () => {
    const dest = tmp('vt');
    const run = await cli('generate', '--dest', dest, '--users', '12', '--seed', '5');
    expect(run.code).toBe(0);
    dataset = join(dest, 'seed=5', configHash(parseConfig({ users: 12, seed: 5 })));
  });

  const copy = (name: string): string => {
    const dir = tmp(name);
    cpSync(dataset, dir, { recursive: true });
    return dir;
  };

  it('verify: exit 0 on a clean dataset, every file ok', async () => {
    const run = await cli('verify', dataset);
    expect(run.code).toBe(0);
    for (const f of EXPECTED_FILES) expect(run.stdout).toMatch(new RegExp(`^ok +${f.replace('.', '\\.')} `, 'm'));
    expect(run.stdout).toMatch(/all 9 files verified/);
  });

  it('verify: one changed byte in a CSV fails and names the file', async () => {
    const dir = copy('tampered');
    const path = join(dir, 'uploads.csv');
    const bytes = readFileSync(path);
    const i = bytes.length - 5; // a digit of the last timestamp's seconds
    bytes[i] = bytes[i] === 0x30 ? 0x31 : 0x30;
    writeFileSync(path, bytes);
    const run = await cli('verify', dir);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toMatch(/^MISMATCH +uploads\.csv/m);
    expect(run.stdout).toMatch(/^ok +users\.csv/m);
    expect(run.stdout).toMatch(/verification FAILED/);
  });

  it('verify: a deleted CSV fails and names the file', async () => {
    const dir = copy('deleted');
    unlinkSync(join(dir, 'tiers.csv'));
    const run = await cli('verify', dir);
    expect(run.code).not.toBe(0);
    expect(run.stdout).toMatch(/^MISSING +tiers\.csv/m);
  });

  it('verify: a folder without manifest fails', async () => {
    const dir = copy('no-manifest');
    unlinkSync(join(dir, 'manifest.json'));
    const run = await cli('verify', dir);
    expect(run.code).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/manifest\.json/);
  });

  it('tiers --user N prints the merged timeline from tiers.csv', async () => {
    const rows = readFileSync(join(dataset, 'tiers.csv'), 'latin1')
      .split('\r\n')
      .slice(1, -1)
      .map((line) => line.split(','));
    const users = [1, 3, 7, 10, 12];
    const runs = await Promise.all(users.map((u) => cli('tiers', dataset, '--user', String(u))));
    runs.forEach((run, k) => {
      const user = users[k];
      expect(run.code, run.stderr).toBe(0);
      // Expected: this user's rows, adjacent same-tier rows merged.
      const expected: [string, string, string][] = [];
      for (const [id, from, until, tier] of rows) {
        if (Number(id) !== user) continue;
        const last = expected.at(-1);
        if (last && last[0] === tier && last[2] === from) last[2] = until;
        else expected.push([tier, from, until]);
      }
      expect(expected.length).toBeGreaterThan(0);
      const printed = [...run.stdout.matchAll(/^\s+(free|premium)\s+(\S+) → (\S+)\s+\(([\d.]+) h\)$/gm)];
      expect(printed.map((m) => [m[1], m[2], m[3]])).toEqual(expected);
      for (const m of printed) expect(Number(m[4])).toBeCloseTo((Date.parse(m[3]) - Date.parse(m[2])) / 3_600_000, 2);
      expect(run.stdout).toContain(`user ${user}: ${expected.length} period(s)`);
    });
    // With 12 users, user 12 is in cohort 5 (free → premium → free).
    expect(runs[4].stdout).toMatch(/3 period\(s\)/);
  });

  it('tiers merges adjacent same-tier rows', async () => {
    const dir = tmp('merge');
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'tiers.csv'),
      'user_id,from_datetime,until_datetime,tier\r\n' +
        '1,2025-03-01T00:00:00Z,2025-03-02T00:00:00Z,free\r\n' +
        '2,2025-03-01T00:00:00Z,2025-03-02T00:00:00Z,free\r\n' +
        '2,2025-03-02T00:00:00Z,2025-03-03T00:00:00Z,free\r\n' +
        '2,2025-03-03T00:00:00Z,2025-03-04T00:00:00Z,premium\r\n' +
        '3,2025-03-01T00:00:00Z,2025-03-04T00:00:00Z,free\r\n',
    );
    const run = await cli('tiers', dir, '--user', '2');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/user 2: 2 period\(s\)/);
    expect(run.stdout).toMatch(/free +2025-03-01T00:00:00Z → 2025-03-03T00:00:00Z +\(48\.00 h\)/);
    expect(run.stdout).toMatch(/premium +2025-03-03T00:00:00Z → 2025-03-04T00:00:00Z +\(24\.00 h\)/);
  });

  it('tiers: an unknown user exits non-zero', async () => {
    const run = await cli('tiers', dataset, '--user', '13');
    expect(run.code).not.toBe(0);
    expect(run.stderr).toMatch(/user 13 has no tier intervals/);
  });

  it('tiers: a folder without tiers.csv, a bad user id', async () => {
    const [noTiers, badId] = await Promise.all([
      cli('tiers', tmp('nowhere'), '--user', '1'),
      cli('tiers', dataset, '--user', 'x'),
    ]);
    expect(noTiers.code).not.toBe(0);
    expect(noTiers.stderr).toMatch(/no tiers\.csv/);
    expect(badId.code).toBe(2);
    expect(badId.stderr).toMatch(/positive integer user id/);
  });
});

describe.concurrent('help', () => {
  it('--help exits 0 and lists the commands', async () => {
    const run = await cli('--help');
    expect(run.code).toBe(0);
    for (const command of ['generate', 'verify', 'tiers'])
      expect(run.stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
  });

  it('generate --help exits 0 and lists its options', async () => {
    const run = await cli('generate', '--help');
    expect(run.code).toBe(0);
    for (const option of ['--config', '--seed', '--users', '--dest']) expect(run.stdout).toContain(option);
  });
});

describe.concurrent('a failure prints one line; the stack only with --debug or TIERDRIFT_DEBUG=1', () => {
  const STACK_FRAME = /^\s+at /m;
  let dataset: string;
  let syntaxError = '';

  beforeAll(() => {
    // A manifest that is not JSON: an error no layer expects (a SyntaxError from deep inside).
    dataset = tmp('unparseable-manifest');
    mkdirSync(dataset);
    writeFileSync(join(dataset, 'manifest.json'), '{not json');
    // V8's wording of it, which changes between Node majors (the CLI runs on this Node).
    try {
      JSON.parse('{not json');
    } catch (error) {
      syntaxError = String(error);
    }
  });

  it('an unexpected error: its message on one line, naming the command and its object, with the --debug hint; exit 1', async () => {
    const run = await runCli(['verify', dataset]);
    expect(run.code).toBe(1);
    expect(syntaxError).toMatch(/^SyntaxError: Expected property name or '}' in JSON at position 1/);
    expect(run.stderr).toBe(`error: verify ${dataset}: ${syntaxError} (run with --debug for the stack)\n`);
  });

  it('--debug (before or after the command) and TIERDRIFT_DEBUG=1 add the stack', async () => {
    const runs = await Promise.all([
      runCli(['--debug', 'verify', dataset]),
      runCli(['verify', dataset, '--debug']),
      runCli(['verify', dataset], { TIERDRIFT_DEBUG: '1' }),
    ]);
    for (const run of runs) {
      expect(run.code).toBe(1);
      expect(run.stderr.split('\n')[0]).toBe(`error: verify ${dataset}: ${syntaxError}`);
      expect(run.stderr).toMatch(STACK_FRAME);
      expect(run.stderr).toMatch(/at parseManifest /);
    }
  });

  it('bad input stays one line without a stack, with or without --debug: exit 2', async () => {
    const run = await runCli(['--debug', 'generate', '--users', '0', '--dest', tmp('debug-bad-input')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/- users: must be an integer from 1 to 10000000/);
    expect(run.stderr).not.toMatch(STACK_FRAME);
  });
});

describe.concurrent('the reference engine truncation artifact in the summary; --strict', () => {
  // A reference-engine config pinned for its one `no_50gb_while_free` artifact (test/strict-checks.test.ts).
  const ARTIFACT = fileURLToPath(new URL('./fixtures/truncation-artifact.json', import.meta.url));
  const hash = configHash(parseConfig(JSON.parse(readFileSync(ARTIFACT, 'utf8'))));
  const files = (dir: string) => tree(dir).filter((p) => statSync(join(dir, p)).isFile());

  it('the summary shows the failed check and why, with how to avoid it; exit 0 without --strict', async () => {
    const run = await runCli(['generate', '--config', ARTIFACT, '--dest', tmp('artifact')]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(
      /^ {4}FAIL no_50gb_while_free: 1 violation\(s\), e\.g\. txn_id=\d+ user_id=\d+ datetime=\S+\n {9}why: the reference engine keeps sub-second times and writes them truncated to the second.*generate with "engine": "seedrandom"/m,
    );
  });

  it('--strict: exit 1 with one line naming the failed check and why; no file written', async () => {
    const dest = tmp('artifact-strict');
    const run = await runCli(['generate', '--config', ARTIFACT, '--dest', dest, '--strict']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      new RegExp(
        `^error: seed-2-${hash}: integrity checks failed: no_50gb_while_free \\(1 violation\\); nothing published \\(strict\\); no_50gb_while_free: the reference engine .*"seedrandom".*\n$`,
      ),
    );
    expect(files(dest)).toEqual([]);
  });

  it('--strict over a dataset already published with failed checks: exit 1 saying so, nothing rewritten', async () => {
    const dest = tmp('artifact-published');
    expect((await runCli(['generate', '--config', ARTIFACT, '--dest', dest])).code).toBe(0);
    const manifest = join(dest, 'seed=2', hash, 'manifest.json');
    const before = readFileSync(manifest, 'utf8');
    const run = await runCli(['generate', '--config', ARTIFACT, '--dest', dest, '--strict']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^error: seed-2-${hash} is already published with failed integrity checks: no_50gb_while_free \\(1 violation\\); not regenerated \\(strict\\)`,
      ),
    );
    expect(readFileSync(manifest, 'utf8')).toBe(before);
  });

  it('--strict on a dataset whose checks pass publishes as usual', async () => {
    const run = await runCli(['generate', '--users', '5', '--dest', tmp('clean-strict'), '--strict']);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/checks: {2}11\/11 passed/);
  });
});
