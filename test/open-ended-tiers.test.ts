import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configHash } from '../lambda/config/dataset-id.js';
import type { GenerationConfigInput } from '../lambda/config/schema.js';
import { parseConfig, validateConfig } from '../lambda/validation/validate.js';
import { timelineReport } from '../lambda/cli/report.js';
import { CsvBuffer } from '../lambda/rows/csv-buffer.js';
import { writeTierRows } from '../lambda/rows/csv-format.js';
import { readUserTimeline } from '../lambda/dataset/tier-timeline.js';
import { createEngine } from '../lambda/engine/create-engine.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { apiEvent, createHarness, withRequest } from './support/handler-harness.js';
import { useLocalS3 } from './support/local-s3.js';

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-open-ended-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** tiers.csv rows (no header) of a config, written closed and open-ended from the same batches. */
function tierRows(input: GenerationConfigInput): { closed: string[][]; open: string[][]; lastOfUser: boolean[] } {
  const config = parseConfig(input);
  const closed = new CsvBuffer();
  const open = new CsvBuffer();
  const lastOfUser: boolean[] = [];
  for (const batch of createEngine(config)) {
    writeTierRows(batch, closed);
    writeTierRows(batch, open, true);
    for (let t = 0; t < batch.tierCount; t++) lastOfUser.push(t === batch.tierCount - 1);
  }
  const rows = (buf: CsvBuffer) =>
    buf
      .take()
      .toString('latin1')
      .split('\r\n')
      .slice(0, -1)
      .map((line) => line.split(','));
  return { closed: rows(closed), open: rows(open), lastOfUser };
}

describe('config key openEndedTiers', () => {
  it('defaults to false, accepts true, refuses a non-boolean naming the field', () => {
    expect(parseConfig({}).openEndedTiers).toBe(false);
    expect(parseConfig({ openEndedTiers: true }).openEndedTiers).toBe(true);
    const refused = validateConfig({ openEndedTiers: 'yes' });
    expect(refused.ok ? [] : refused.problems).toEqual([{ field: 'openEndedTiers', rule: 'must be true or false' }]);
  });

  it('is part of the config hash', () => {
    expect(configHash(parseConfig({ openEndedTiers: true }))).not.toBe(configHash(parseConfig({})));
    expect(configHash(parseConfig({ openEndedTiers: false }))).toBe(configHash(parseConfig({})));
  });
});

describe('tiers.csv with openEndedTiers', () => {
  const configs: [string, GenerationConfigInput][] = [
    ['reference engine, the notebook config', {}],
    [
      'seedrandom engine, 500 users, odd-second window',
      {
        engine: 'seedrandom',
        seed: 3,
        users: 500,
        start: '2024-02-27T12:34:56Z',
        end: '2024-03-03T01:02:03Z',
        minTierGapHours: 7.25,
      },
    ],
  ];
  for (const [name, input] of configs) {
    it(`${name}: only each user's last until_datetime differs, and it is empty`, () => {
      const { closed, open, lastOfUser } = tierRows(input);
      const end = parseConfig(input).end;
      expect(open.length).toBe(closed.length);
      expect(lastOfUser.filter(Boolean).length).toBe(parseConfig(input).users);
      for (let i = 0; i < closed.length; i++) {
        if (lastOfUser[i]) {
          expect(closed[i][2]).toBe(end); // the last interval ends at the window's end
          expect(open[i]).toEqual([closed[i][0], closed[i][1], '', closed[i][3]]);
          // The next row (if any) is another user's.
          if (i + 1 < closed.length) expect(closed[i + 1][0]).not.toBe(closed[i][0]);
        } else {
          expect(open[i]).toEqual(closed[i]);
          expect(closed[i + 1][0]).toBe(closed[i][0]);
        }
      }
    });
  }
});

describe('readers accept an empty until_datetime', () => {
  const TIERS =
    'user_id,from_datetime,until_datetime,tier\r\n' +
    '1,2025-03-01T00:00:00Z,,premium\r\n' +
    '2,2025-03-01T00:00:00Z,2025-03-02T00:00:00Z,free\r\n' +
    '2,2025-03-02T00:00:00Z,2025-03-03T00:00:00Z,free\r\n' +
    '2,2025-03-03T00:00:00Z,,premium\r\n' +
    '3,2025-03-01T00:00:00Z,2025-03-04T00:00:00Z,free\r\n' +
    '3,2025-03-04T00:00:00Z,,free\r\n';

  it('readUserTimeline: until null for the open-ended interval, merged like any other', async () => {
    writeFileSync(join(root, 'tiers.csv'), TIERS);
    const storage = new LocalFolderStorage(root);
    expect(await readUserTimeline(storage, '', 1)).toEqual([
      { tier: 'premium', from: '2025-03-01T00:00:00Z', until: null },
    ]);
    expect(await readUserTimeline(storage, '', 2)).toEqual([
      { tier: 'free', from: '2025-03-01T00:00:00Z', until: '2025-03-03T00:00:00Z' },
      { tier: 'premium', from: '2025-03-03T00:00:00Z', until: null },
    ]);
    expect(await readUserTimeline(storage, '', 3)).toEqual([
      { tier: 'free', from: '2025-03-01T00:00:00Z', until: null },
    ]);
  });

  it('the CLI report prints an open-ended period without a length', () => {
    const text = timelineReport(2, [
      { tier: 'free', from: '2025-03-01T00:00:00Z', until: '2025-03-03T00:00:00Z' },
      { tier: 'premium', from: '2025-03-03T00:00:00Z', until: null },
    ]);
    expect(text.split('\n')).toEqual([
      'user 2: 2 period(s)',
      '  free     2025-03-01T00:00:00Z → 2025-03-03T00:00:00Z  (48.00 h)',
      '  premium  2025-03-03T00:00:00Z → (still in effect)',
    ]);
  });

  it('the CLI `tiers` command prints it (the real CLI, as npm run cli runs it)', async () => {
    const dir = join(root, 'cli');
    const storage = new LocalFolderStorage(dir);
    const writer = storage.createWriter('tiers.csv');
    await writer.write(Buffer.from(TIERS));
    await writer.commit();
    const run = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        ['bin/tierdrift.mjs', 'tiers', dir, '--user', '2'],
        { cwd: fileURLToPath(new URL('..', import.meta.url)), timeout: 60_000 },
        (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
      );
    });
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain('user 2: 2 period(s)');
    expect(run.stdout).toMatch(/premium +2025-03-03T00:00:00Z → \(still in effect\)/);
  }, 90_000);
});

describe('publishing with openEndedTiers', () => {
  it('only tiers.csv (and schema.json, and report.html, which shows the config) differ: one empty end time per user; the checks and the report aggregates are the same', async () => {
    const base = { engine: 'seedrandom', seed: 8, users: 300 } as const;
    const [closed, open] = await Promise.all(
      [false, true].map((openEndedTiers) =>
        publishDataset(parseConfig({ ...base, openEndedTiers }), {
          storage: new LocalFolderStorage(join(root, `publish-${openEndedTiers}`)),
        }),
      ),
    );
    expect(open.manifest.checksPassed).toBe(true);
    expect(open.manifest.checks).toEqual(closed.manifest.checks);
    expect(open.manifest.summary).toEqual(closed.manifest.summary);
    const byName = (files: typeof open.manifest.files) => Object.fromEntries(files.map((f) => [f.name, f]));
    const [c, o] = [byName(closed.manifest.files), byName(open.manifest.files)];
    expect(Object.keys(o)).toEqual(Object.keys(c));
    for (const name of Object.keys(c)) {
      if (name === 'tiers.csv' || name === 'schema.json' || name === 'report.html') continue;
      expect(o[name].sha256, name).toBe(c[name].sha256);
    }
    // Every user's last until_datetime (20 characters) is left out.
    expect(o['tiers.csv'].rows).toBe(c['tiers.csv'].rows);
    expect(c['tiers.csv'].bytes - o['tiers.csv'].bytes).toBe(20 * base.users);
  }, 60_000);
});

describe('the API on a dataset with openEndedTiers', () => {
  const s3 = useLocalS3();

  it('GET .../users/{userId}/tiers answers until: null for the span still in effect', async () => {
    const h = await createHarness(s3);
    const post = apiEvent('api-post-default.json');
    const created = await h.api(
      withRequest(post, { body: JSON.stringify({ seed: 3, users: 40, openEndedTiers: true }) }),
    );
    expect(created.statusCode).toBe(201);
    const id = created.json.datasetId as string;
    // Users 33..40 are cohort 5 (free, premium, free): three spans.
    for (const user of [1, 40]) {
      const got = await h.api(
        withRequest(apiEvent('api-get-tiers.json'), { path: `/datasets/${id}/users/${user}/tiers` }),
      );
      expect(got.statusCode).toBe(200);
      const tiers = got.json.tiers as { tier: string; from: string; until: string | null }[];
      expect(tiers.at(-1)!.until).toBeNull();
      for (let i = 0; i + 1 < tiers.length; i++) expect(tiers[i].until).toBe(tiers[i + 1].from);
      expect(tiers.length).toBe(user === 1 ? 1 : 3);
    }
  }, 60_000);
});
