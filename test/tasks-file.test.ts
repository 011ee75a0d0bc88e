import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationConfig, GenerationConfigInput } from '../lambda/config/schema.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { createEngine } from '../lambda/engine/create-engine.js';
import { publishDataset, type PublishOutcome } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';

/**
 * The truth and task files of generated datasets, checked against a second, naive implementation
 * that reads only the written CSVs: anchors, scenarios, tiers, hours and splits from tiers.csv and
 * the config; labels by scanning every upload of the user in uploads.csv for each row; the oracle
 * by the spec's formula (as written there, with Math.exp) from tiers.csv and truth/users.csv.
 */
const TASK_FILE = 'tasks/upload_50gb_next_hour.csv';
const TRUTH_FILE = 'truth/users.csv';
const H = 3600;

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-tasks-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const seconds = (text: string): number => Date.parse(text) / 1000;

/** Data rows of a CSV: CRLF after every row, a header first. */
function csvRows(text: string, header: string): string[][] {
  const lines = text.split('\r\n');
  expect(lines[0]).toBe(header);
  expect(lines.at(-1)).toBe('');
  return lines.slice(1, -1).map((l) => l.split(','));
}

interface Interval {
  from: number;
  until: number;
  premium: boolean;
}

/** What the naive implementation expects for every user, from the dataset's own CSVs. */
function expectedRows(config: GenerationConfig, files: Record<string, string>): string[][] {
  const start = seconds(config.start);
  const end = seconds(config.end);
  const tiers = new Map<number, Interval[]>();
  for (const [u, from, until, tier] of csvRows(files['tiers.csv'], 'user_id,from_datetime,until_datetime,tier')) {
    const list = tiers.get(Number(u)) ?? [];
    // An empty until (openEndedTiers) is the end of the window.
    list.push({ from: seconds(from), until: until === '' ? end : seconds(until), premium: tier === 'premium' });
    tiers.set(Number(u), list);
  }
  const large = new Map<number, number[]>();
  for (const [, u, item, at] of csvRows(files['uploads.csv'], 'txn_id,user_id,item_id,datetime')) {
    if (item !== '2') continue;
    const list = large.get(Number(u)) ?? [];
    list.push(seconds(at));
    large.set(Number(u), list);
  }
  const truth = new Map(
    csvRows(files[TRUTH_FILE], 'user_id,cohort,free_rate_per_hour,premium_rate_per_hour').map(([u, , , premium]) => [
      Number(u),
      Number(premium),
    ]),
  );

  const grid = Math.round(config.tasks.gridHours * H);
  const window = end - start;
  const valFrom = config.tasks.valFrom
    ? seconds(config.tasks.valFrom)
    : start + Math.floor((0.7 * window) / H + 1e-9) * H;
  const testFrom = config.tasks.testFrom
    ? seconds(config.tasks.testFrom)
    : start + Math.floor((0.85 * window) / H + 1e-9) * H;
  const q = config.upgradeSpike.probability;
  const p2 = config.upgradeSpike.maxUploads === 2 ? config.upgradeSpike.secondUploadProbability : 0;
  const s = config.premiumLargeShare;

  const rows: string[][] = [];
  for (let u = 1; u <= config.users; u++) {
    const intervals = tiers.get(u)!;
    const anchors = new Map<number, 'grid' | 'change'>();
    for (let k = 1; start + k * grid <= end - H; k++) anchors.set(start + k * grid, 'grid');
    for (const i of intervals) if (i.from > start) anchors.set(i.from, 'change');
    for (const t of [...anchors.keys()].sort((a, b) => a - b)) {
      const tier = intervals.find((i) => i.from <= t && t < i.until)!;
      const hours = (t - tier.from) / H;
      const scenario =
        anchors.get(t) === 'change'
          ? tier.premium
            ? 'just_upgraded'
            : 'just_downgraded'
          : !tier.premium
            ? 'free'
            : hours >= 24
              ? 'premium_long'
              : 'premium_recent';
      const label = (large.get(u) ?? []).some((at) => t < at && at <= t + H) ? '1' : '0';
      // The oracle, the spec's formula.
      let premiumHours = 0;
      let noSpike = 1;
      for (const i of intervals) {
        if (!i.premium) continue;
        premiumHours += Math.max(0, Math.min(i.until, t + H) - Math.max(i.from, t)) / H;
        if (i.from <= start) continue;
        const spikeEnd = Math.min(i.from + H, i.until);
        const f = Math.max(0, Math.min(spikeEnd, t + H) - Math.max(i.from, t)) / (spikeEnd - i.from);
        noSpike *= 1 - q + q * ((1 - p2) * (1 - f) + p2 * (1 - f) ** 2);
      }
      const oracle = 1 - Math.exp(-truth.get(u)! * s * premiumHours) * noSpike;
      const split = t >= testFrom ? 'test' : t >= valFrom ? 'val' : 'train';
      rows.push([
        String(u),
        new Date(t * 1000).toISOString().replace('.000Z', 'Z'),
        scenario,
        tier.premium ? 'premium' : 'free',
        hours.toFixed(4),
        label,
        String(oracle),
        split,
      ]);
    }
  }
  return rows;
}

async function generate(input: GenerationConfigInput, options: { workers?: number; blockUsers?: number } = {}) {
  const config = parseConfig(input);
  const dir = mkdtempSync(join(root, 'd-'));
  const outcome: PublishOutcome = await publishDataset(config, { storage: new LocalFolderStorage(dir), ...options });
  const read = (name: string) => readFileSync(join(dir, outcome.prefix, name), 'latin1');
  const files = Object.fromEntries(['tiers.csv', 'uploads.csv', TRUTH_FILE, TASK_FILE].map((f) => [f, read(f)]));
  return { config, outcome, files };
}

const CASES: [string, GenerationConfigInput][] = [
  ['reference engine, default model', { users: 150 }],
  [
    'reference engine, maxUploads 1, 5 h grid, given split boundaries',
    {
      users: 120,
      seed: 3,
      upgradeSpike: { maxUploads: 1 },
      tasks: { gridHours: 5, valFrom: '2025-03-04T10:00:00Z', testFrom: '2025-03-09T00:00:00Z' },
    },
  ],
  ['seedrandom engine, open-ended tiers', { engine: 'seedrandom', users: 200, seed: 11, openEndedTiers: true }],
  // A 2-hour window and a 1-second grid: every change lands on a grid anchor, or after end − 1 h.
  [
    'seedrandom engine, 2 h window, 1 s grid',
    {
      engine: 'seedrandom',
      users: 15,
      end: '2025-03-01T02:00:00Z',
      minTierGapHours: 0.25,
      premiumUploadsPerDay: { mean: 200 },
      tasks: { gridHours: 1 / 3600 },
    },
  ],
  // Default 12 h grid in a 6 h window: change anchors only.
  [
    'seedrandom engine, window shorter than the grid',
    { engine: 'seedrandom', users: 60, end: '2025-03-01T06:00:00Z', minTierGapHours: 1 },
  ],
];

describe.each(CASES)('%s', (_name, input) => {
  let run: Awaited<ReturnType<typeof generate>>;
  beforeAll(async () => {
    run = await generate(input);
  }, 60_000);

  it('the task file equals the naive recomputation from tiers.csv, uploads.csv and truth/users.csv', () => {
    const expected = expectedRows(run.config, run.files);
    const actual = csvRows(
      run.files[TASK_FILE],
      'user_id,anchor_time,scenario,tier_at_anchor,hours_in_tier,label,oracle_probability,split',
    );
    expect(actual.length).toBe(expected.length);
    const oracleIndex = 6;
    for (let r = 0; r < actual.length; r++) {
      const a = actual[r];
      const e = expected[r];
      const same =
        a.length === e.length &&
        a.every((v, i) => (i === oracleIndex ? Math.abs(Number(v) - Number(e[i])) <= 1e-12 : v === e[i]));
      if (!same) expect(a, `row ${r + 1}`).toEqual(e);
      // Shortest round-trip text, `.0` after an integral value (typed float from any rows).
      const p = Number(a[oracleIndex]);
      expect(a[oracleIndex]).toBe(Number.isInteger(p) ? `${p}.0` : String(p));
    }
  });

  it('one row per (user_id, anchor_time), sorted; counts as the anchor rules say; manifest figures', () => {
    const rows = csvRows(run.files[TASK_FILE], run.files[TASK_FILE].slice(0, run.files[TASK_FILE].indexOf('\r\n')));
    const unsorted = rows.findIndex(
      (row, r) =>
        r > 0 && !(Number(row[0]) > Number(rows[r - 1][0]) || (row[0] === rows[r - 1][0] && row[1] > rows[r - 1][1])),
    );
    expect(unsorted, 'first row not after the one before it (by user_id, then anchor_time)').toBe(-1);
    // Grid anchors per user, plus the changes, minus the changes that are on a grid anchor.
    const { config } = run;
    const start = seconds(config.start);
    const end = seconds(config.end);
    const grid = Math.round(config.tasks.gridHours * H);
    const gridPerUser = Math.max(0, Math.floor((end - H - start) / grid));
    let changes = 0;
    let onGrid = 0;
    for (const [, from] of csvRows(run.files['tiers.csv'], 'user_id,from_datetime,until_datetime,tier')) {
      const at = seconds(from);
      if (at <= start) continue;
      changes++;
      if ((at - start) % grid === 0 && at <= end - H) onGrid++;
    }
    expect(rows.length).toBe(config.users * gridPerUser + changes - onGrid);
    expect(changes).toBeGreaterThan(0);

    for (const name of [TASK_FILE, TRUTH_FILE]) {
      const entry = run.outcome.manifest.files.find((f) => f.name === name)!;
      const bytes = Buffer.from(run.files[name], 'latin1');
      expect(entry, name).toMatchObject({
        rows: run.files[name].split('\r\n').length - 2,
        bytes: bytes.length,
        sha256: createHash('sha256').update(bytes).digest('hex'),
      });
    }
  });

  it('truth/users.csv: every user, the cohort and the rates the engine drew, as shortest round-trip floats', () => {
    const rows = csvRows(run.files[TRUTH_FILE], 'user_id,cohort,free_rate_per_hour,premium_rate_per_hour');
    expect(rows.length).toBe(run.config.users);
    let u = 0;
    for (const batch of createEngine(run.config)) {
      expect(rows[u]).toEqual([
        String(batch.userId),
        String(batch.cohort),
        String(batch.freeRatePerHour),
        String(batch.premiumRatePerHour),
      ]);
      u++;
    }
  });
});

it('the seedrandom task and truth files are the same bytes with 1 and 3 engine blocks in flight', async () => {
  const input: GenerationConfigInput = { engine: 'seedrandom', users: 97, seed: 5 };
  const one = await generate(input);
  const three = await generate(input, { workers: 3, blockUsers: 7 });
  for (const name of [TASK_FILE, TRUTH_FILE]) expect(three.files[name] === one.files[name], name).toBe(true);
}, 60_000);
