import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationConfig } from '../lambda/config/schema.js';
import type { Manifest } from '../lambda/dataset/manifest.js';
import {
  bindQuery,
  datasetQueryArguments,
  NAMED_QUERIES,
  type NamedQuery,
  type QueryArguments,
} from '../lambda/dataset/named-queries.js';
import { catalogTables } from '../lambda/dataset/query-catalog.js';
import { readUserTimeline } from '../lambda/dataset/tier-timeline.js';
import { TABLES } from '../lambda/layout/tables.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { IntegrityChecker, type CheckResult } from '../lambda/rows/integrity-checks.js';
import { UPLOAD_50GB_TASK_FILE } from '../lambda/rows/task-files.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { timedeltaFromFloat, US_PER_HOUR } from '../lambda/time/python-timedelta.js';
import { formatUtcTimestamp, parseUtcTimestamp } from '../lambda/time/utc-timestamp.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { openDuckdbCatalog, type DuckdbCatalog } from './support/duckdb-catalog.js';

// The named queries' SQL (lambda/dataset/named-queries.ts), as the stack saves it for Athena, run
// in DuckDB over views named like the Glue tables (test/support/duckdb-catalog.ts) on a local
// folder holding several datasets (so each query must pick its dataset by seed and hash), and
// compared with what the generator itself computed: the manifest's checks and summary, the task
// file, the API's tier timeline, and on a tampered copy the generator's own integrity checker.

/** A reference config whose bytes fail no_50gb_while_free (pinned; see test/strict-checks.test.ts). */
const ARTIFACT = JSON.parse(
  readFileSync(new URL('./fixtures/truncation-artifact.json', import.meta.url), 'utf8'),
) as Record<string, unknown>;

const CONFIGS: Record<string, Record<string, unknown>> = {
  reference: { seed: 7, users: 400, formats: ['csv', 'parquet'] },
  // Same seed, another hash: a query that ignored the hash would mix the two.
  referenceOpenEnded: { seed: 7, users: 300, openEndedTiers: true, minTierGapHours: 12, formats: ['csv', 'parquet'] },
  seedrandomOpenEnded: {
    engine: 'seedrandom',
    seed: 11,
    users: 600,
    openEndedTiers: true,
    formats: ['csv', 'parquet'],
  },
  artifact: { ...ARTIFACT, formats: ['csv', 'parquet'] },
};

interface Published {
  manifest: Manifest;
  /** The dataset's folder under the root. */
  prefix: string;
  args: QueryArguments;
}

type Row = Record<string, unknown>;

let root: string;
let storage: LocalFolderStorage;
let db: DuckdbCatalog;
const datasets: Record<string, Published> = {};

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-named-queries-'));
  storage = new LocalFolderStorage(root);
  for (const [name, config] of Object.entries(CONFIGS)) {
    const { manifest, prefix } = await publishDataset(parseConfig(config), { storage });
    datasets[name] = { manifest, prefix, args: datasetQueryArguments(manifest) };
  }
  db = await openDuckdbCatalog(root);
}, 120_000);
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  db.close();
});

function namedQuery(name: string): NamedQuery {
  const query = NAMED_QUERIES.find((q) => q.name === name);
  if (!query) throw new Error(`no named query ${name}`);
  return query;
}

/** The rows of a named query run in DuckDB (BIGINTs as strings, timestamps as `YYYY-MM-DD HH:MM:SS`). */
async function run(name: string, args: QueryArguments): Promise<Row[]> {
  const reader = await db.connection.runAndReadAll(bindQuery(namedQuery(name), args));
  return reader.getRowObjectsJson();
}

/** DuckDB's timestamp text as the dataset writes it. */
function utc(value: unknown): string | null {
  if (value === null) return null;
  if (typeof value !== 'string') throw new Error(`not a timestamp: ${JSON.stringify(value)}`);
  return `${value.replace(' ', 'T')}Z`;
}

/** A dataset CSV's data rows (small test files). */
const csvRows = (file: string): string[][] =>
  readFileSync(file, 'utf8')
    .split('\r\n')
    .slice(1)
    .filter((line) => line !== '')
    .map((line) => line.split(','));

const checksOf = (rows: Row[]): [string, number][] => rows.map((r) => [String(r.check_name), Number(r.violations)]);
const manifestChecks = (checks: CheckResult[]): [string, number][] => checks.map((c) => [c.name, c.violations]);

describe('the named queries in DuckDB give the manifest’s figures', () => {
  it('each catalog table, filtered by seed and hash, holds exactly the dataset’s rows', async () => {
    for (const [name, { manifest, args }] of Object.entries(datasets)) {
      for (const table of catalogTables()) {
        const reader = await db.connection.runAndReadAll(
          `SELECT COUNT(*) AS n FROM ${table.name} WHERE seed = '${args.seed}' AND hash = '${args.hash}'`,
        );
        const file = manifest.files.find((f) => f.name === table.file);
        expect(Number(reader.getRowObjectsJson()[0].n), `${name} ${table.name}`).toBe(file?.rows);
      }
    }
  });

  it('integrity-checks: every check with the manifest’s violations, in its order (the artifact’s failure too)', async () => {
    for (const [name, { manifest, args }] of Object.entries(datasets)) {
      expect(checksOf(await run('integrity-checks', args)), name).toEqual(manifestChecks(manifest.checks));
    }
    const artifact = datasets.artifact.manifest.checks.find((c) => c.name === 'no_50gb_while_free');
    expect(artifact?.violations).toBeGreaterThan(0);
  });

  it('uploads-50gb-while-free: the violating uploads, as the manifest’s examples name them', async () => {
    for (const [name, { manifest, args }] of Object.entries(datasets)) {
      const check = manifest.checks.find((c) => c.name === 'no_50gb_while_free');
      const rows = await run('uploads-50gb-while-free', args);
      expect(rows.length, name).toBe(check?.violations);
      expect(
        rows
          .slice(0, 10)
          .map((r) => `txn_id=${String(r.txn_id)} user_id=${String(r.user_id)} datetime=${utc(r.datetime)}`),
        name,
      ).toEqual(check?.examples);
      for (const r of rows) expect(r.tier).toBe('free');
    }
  });

  it('uploads-by-tier-and-size, upgrade-spikes and users-per-cohort: the manifest’s summary', async () => {
    for (const [name, { manifest, args }] of Object.entries(datasets)) {
      const { summary } = manifest;
      const byTier = { free: { '5': 0, '50': 0 }, premium: { '5': 0, '50': 0 } };
      for (const r of await run('uploads-by-tier-and-size', args))
        byTier[r.tier as 'free' | 'premium'][String(r.size_gb) as '5' | '50'] = Number(r.uploads);
      expect(byTier, name).toEqual(summary.uploadsByTierAndSize);

      const [spikes] = await run('upgrade-spikes', args);
      expect([Number(spikes.upgrades), Number(spikes.upgrades_with_spike_within_hour)], name).toEqual([
        summary.upgrades,
        summary.upgradesWithSpikeWithinHour,
      ]);

      const cohorts = Object.fromEntries(
        (await run('users-per-cohort', args)).map((r) => [String(r.cohort), Number(r.users)]),
      );
      const expected = Object.fromEntries(Object.entries(summary.usersPerCohort).filter(([, n]) => n > 0));
      expect(cohorts, name).toEqual(expected);
    }
    // Not all zeros: the datasets have upgrades and 50 GB uploads.
    expect(datasets.reference.manifest.summary.upgradesWithSpikeWithinHour).toBeGreaterThan(0);
  });

  it('label-rate-by-scenario: anchors, positives and rates of the task file', async () => {
    for (const [name, { manifest, prefix, args }] of Object.entries(datasets)) {
      const columns: readonly string[] = UPLOAD_50GB_TASK_FILE.columns;
      const [scenario, label, oracle] = ['scenario', 'label', 'oracle_probability'].map((c) => columns.indexOf(c));
      const expected = new Map<string, { anchors: number; positives: number; oracle: number }>();
      for (const row of csvRows(join(root, prefix, UPLOAD_50GB_TASK_FILE.file))) {
        const e = expected.get(row[scenario]) ?? { anchors: 0, positives: 0, oracle: 0 };
        e.anchors++;
        e.positives += Number(row[label]);
        e.oracle += Number(row[oracle]);
        expected.set(row[scenario], e);
      }
      const rows = await run('label-rate-by-scenario', args);
      expect(
        rows.map((r) => r.scenario),
        name,
      ).toEqual([...expected.keys()].sort());
      for (const r of rows) {
        const e = expected.get(String(r.scenario))!;
        expect([Number(r.anchors), Number(r.positives)], `${name} ${String(r.scenario)}`).toEqual([
          e.anchors,
          e.positives,
        ]);
        expect(r.label_rate).toBeCloseTo(e.positives / e.anchors, 12);
        expect(r.mean_oracle_probability).toBeCloseTo(e.oracle / e.anchors, 9);
      }
      const taskRows = manifest.files.find((f) => f.name === UPLOAD_50GB_TASK_FILE.file)?.rows;
      expect(rows.reduce((sum, r) => sum + Number(r.anchors), 0)).toBe(taskRows);
    }
  });

  it('user-tier-timeline: the API’s timeline of the user, with the uploads of each item in each span', async () => {
    for (const [name, { manifest, prefix, args }] of Object.entries(datasets)) {
      const uploads = csvRows(join(root, prefix, TABLES.uploads.file));
      const users = manifest.config.users;
      for (const userId of [1, Math.ceil(users / 2), users]) {
        const spans = (await readUserTimeline(storage, prefix, userId)) ?? [];
        const rows = await run('user-tier-timeline', { ...args, userId });
        expect(
          rows.map((r) => ({ tier: r.tier, from: utc(r.from_datetime), until: utc(r.until_datetime) })),
          `${name} user ${userId}`,
        ).toEqual(spans);
        const mine = uploads.filter(([, user]) => Number(user) === userId);
        rows.forEach((r, i) => {
          const { from, until } = spans[i];
          const inSpan = mine.filter(([, , , at]) => at >= from && (until === null || at < until));
          expect([Number(r.uploads_5gb), Number(r.uploads_50gb)], `${name} user ${userId} span ${i}`).toEqual([
            inSpan.filter(([, , item]) => item === '1').length,
            inSpan.filter(([, , item]) => item === '2').length,
          ]);
        });
        expect(rows.reduce((sum, r) => sum + Number(r.uploads_5gb) + Number(r.uploads_50gb), 0)).toBe(mine.length);
      }
    }
  });
});

describe('on broken tables the SQL checks count as the generator’s checker does', () => {
  /**
   * The generator's own checker over the tables' rows, fed as the generator feeds it: the items,
   * then user by user (ascending) that user's users rows, tiers rows and uploads rows in file order.
   */
  function checkerResult(files: Record<'users' | 'items' | 'tiers' | 'uploads', string[][]>, config: GenerationConfig) {
    const checker = new IntegrityChecker({
      start: parseUtcTimestamp(config.start)!,
      end: parseUtcTimestamp(config.end)!,
      minGapUs: timedeltaFromFloat(config.minTierGapHours, US_PER_HOUR),
      users: config.users,
    });
    for (const [item, size] of files.items) checker.addItem(Number(item), Number(size));
    const byUser = (rows: string[][], column: number) => {
      const map = new Map<number, string[][]>();
      for (const row of rows) map.set(Number(row[column]), [...(map.get(Number(row[column])) ?? []), row]);
      return map;
    };
    const users = byUser(files.users, 0);
    const tiers = byUser(files.tiers, 0);
    const uploads = byUser(files.uploads, 1);
    const ids = [...new Set([...users.keys(), ...tiers.keys(), ...uploads.keys()])].sort((a, b) => a - b);
    const at = (text: string) => parseUtcTimestamp(text)!;
    for (const id of ids) {
      (users.get(id) ?? []).forEach(() => {
        checker.addUser(id);
      });
      for (const [, from, until, tier] of tiers.get(id) ?? [])
        checker.addTier(id, at(from), until === '' ? at(config.end) : at(until), tier);
      for (const [txn, , item, datetime] of uploads.get(id) ?? [])
        checker.addUpload(Number(txn), id, Number(item), at(datetime));
    }
    return checker.finish().checks;
  }

  it('a tampered copy breaks the checks, and the SQL counts each violation as the checker does; the timeline joins split intervals', async () => {
    const source = datasets.reference;
    const config = source.manifest.config;
    const dir = (prefix: string) => join(root, prefix);
    const read = (table: keyof typeof TABLES) => csvRows(join(dir(source.prefix), TABLES[table].file));
    const files = { users: read('users'), items: read('items'), tiers: read('tiers'), uploads: read('uploads') };
    const hours = (h: number) => h * 3600;
    const at = (text: string) => parseUtcTimestamp(text)!;

    // Users with three intervals (free, premium, free: cohort 5), for the changes below.
    const intervals = new Map<string, string[][]>();
    for (const row of files.tiers) intervals.set(row[0], [...(intervals.get(row[0]) ?? []), row]);
    const threeIntervals = [...intervals.values()].filter((rows) => rows.length === 3);
    expect(threeIntervals.length).toBeGreaterThanOrEqual(5);
    const [gapUser, tooCloseUser, goldUser, twiceUser, splitUser] = threeIntervals;

    files.users.splice(5, 0, [...files.users[4]]); // users_primary_key
    files.tiers.splice(files.tiers.indexOf(gapUser[1]), 1); // tiers_cover_window; uploads_within_tier in the gap
    goldUser[0][3] = 'gold'; // tiers_cover_window (an unknown tier)
    files.tiers.splice(files.tiers.indexOf(twiceUser[0]) + 1, 0, [...twiceUser[0]]); // tiers_primary_key
    // tier_changes_min_gap: the premium interval shrunk to one hour.
    const shortEnd = formatUtcTimestamp(at(tooCloseUser[1][1]) + hours(1));
    tooCloseUser[1][2] = shortEnd;
    tooCloseUser[2][1] = shortEnd;
    // Valid, and no check fails: the premium interval cut in two at its first hour.
    const cut = formatUtcTimestamp(at(splitUser[1][1]) + hours(1));
    files.tiers.splice(files.tiers.indexOf(splitUser[1]) + 1, 0, [splitUser[1][0], cut, splitUser[1][2], 'premium']);
    splitUser[1][2] = cut;
    // A 50 GB upload while free: the first 5 GB upload in a free interval of an untouched user.
    const touched = new Set([gapUser, tooCloseUser, goldUser, twiceUser, splitUser].map((rows) => rows[0][0]));
    const freeUpload = files.uploads.find(
      ([, user, item, datetime]) =>
        !touched.has(user) &&
        item === '1' &&
        (intervals.get(user) ?? []).some(
          ([, from, until, tier]) => tier === 'free' && from <= datetime && datetime < until,
        ),
    )!;
    freeUpload[2] = '2'; // no_50gb_while_free
    files.uploads[10][2] = '3'; // uploads_item_fk
    files.uploads.splice(20, 0, [...files.uploads[20]]); // uploads_primary_key
    // An unknown user with a tier covering the window and an upload: tiers_user_fk, uploads_user_fk.
    files.tiers.push(['99999', config.start, config.end, 'free']);
    files.uploads.push([
      String(files.uploads.length + 1),
      '99999',
      '1',
      formatUtcTimestamp(at(config.start) + hours(5)),
    ]);

    const hash = 'tampered00000000';
    await db.writeTables(join(root, `seed=${config.seed}`, hash), files);

    const expected = manifestChecks(checkerResult(files, config));
    const args = { ...source.args, hash };
    expect(checksOf(await run('integrity-checks', args))).toEqual(expected);
    // Every check but the items' key is broken (the two items are written by the test, as generated).
    expect(expected.filter(([, violations]) => violations === 0).map(([name]) => name)).toEqual(['items_primary_key']);
    const listed = await run('uploads-50gb-while-free', args);
    expect(listed.map((r) => String(r.txn_id))).toContain(freeUpload[0]);
    expect(listed.length).toBe(expected.find(([name]) => name === 'no_50gb_while_free')?.[1]);

    // Adjacent intervals of one tier are joined into one span, as the API's timeline joins them.
    const userId = Number(splitUser[0][0]);
    const spans = await readUserTimeline(storage, `seed=${config.seed}/${hash}`, userId);
    const rows = await run('user-tier-timeline', { ...args, userId });
    expect(rows.map((r) => ({ tier: r.tier, from: utc(r.from_datetime), until: utc(r.until_datetime) }))).toEqual(
      spans,
    );
    expect(rows.map((r) => r.tier)).toEqual(['free', 'premium', 'free']);
    expect(files.tiers.filter(([user]) => Number(user) === userId)).toHaveLength(4);
  });
});

describe('placeholders', () => {
  it('an unreplaced placeholder is an error, never a silent empty result; a missing argument names it', async () => {
    await expect(db.connection.runAndReadAll(namedQuery('users-per-cohort').sql)).rejects.toThrow(/syntax error/i);
    expect(() => bindQuery(namedQuery('user-tier-timeline'), datasets.reference.args)).toThrow(
      /:user_id needs an integer/,
    );
  });

  it('binds string, timestamp and number literals (quotes escaped)', () => {
    const args: QueryArguments = { ...datasets.reference.args, hash: "it's" };
    const sql = bindQuery(namedQuery('integrity-checks'), args);
    expect(sql).toContain(`seed = '7' AND hash = 'it''s'`);
    expect(sql).toContain(`TIMESTAMP '2025-03-01 00:00:00'`);
    expect(sql).toContain('< 24 * 3600');
    expect(sql).not.toMatch(/:[a-z_]+\b/);
  });
});
