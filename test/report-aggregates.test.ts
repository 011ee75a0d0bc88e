import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../lambda/validation/validate.js';
import type { GenerationConfigInput } from '../lambda/config/schema.js';
import { publishDataset, type PublishOutcome } from '../lambda/publish/publish-dataset.js';
import { runFanoutLocally } from '../lambda/fanout/fanout-steps.js';
import type { ReportData } from '../lambda/publish/report-files.js';
import { rerenderReport } from '../lambda/publish/report-files.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { REPORT_DATA_FILE, REPORT_FILE } from '../lambda/layout/tables.js';
import {
  FIXED_POINT_SCALE,
  PROBABILITY_BINS,
  RATE_EDGES,
  SAMPLE_USERS,
  SINCE_CHANGE_HOURS,
  timeBins,
  type ReportAggregates,
} from '../lambda/rows/report-aggregates.js';
import { MAX_REPORT_BYTES } from '../lambda/report/report-html.js';
import { SCENARIOS } from '../lambda/tasks/anchors.js';
import { SPLITS } from '../lambda/tasks/split.js';
import { parseUtcTimestamp } from '../lambda/time/utc-timestamp.js';
import { bundleEngineWorker } from './support/engine-worker-bundle.js';

const tmp = mkdtempSync(join(tmpdir(), 'tierdrift-report-'));
let worker: URL;
let db: DuckDBInstance;
let sql: DuckDBConnection;

beforeAll(async () => {
  worker = await bundleEngineWorker(join(tmp, 'bundle'));
  db = await DuckDBInstance.create(':memory:');
  sql = await db.connect();
});
afterAll(() => {
  sql.closeSync();
  db.closeSync();
  rmSync(tmp, { recursive: true, force: true });
});

let runs = 0;
async function publish(
  raw: GenerationConfigInput,
  options: { workers?: number; fanout?: boolean } = {},
): Promise<{ dir: string; outcome: PublishOutcome }> {
  const dir = join(tmp, `run-${++runs}`);
  const storage = new LocalFolderStorage(dir);
  const config = parseConfig(raw);
  const outcome = options.fanout
    ? await runFanoutLocally(config, storage, { shardUsers: 97, minPartBytes: 0 })
    : await publishDataset(config, { storage, engineWorker: worker, workers: options.workers ?? 1, blockUsers: 50 });
  return { dir, outcome: outcome! };
}

const file = (run: { dir: string; outcome: PublishOutcome }, name: string): Buffer =>
  readFileSync(join(run.dir, run.outcome.prefix, name));
const aggregatesOf = (run: { dir: string; outcome: PublishOutcome }): ReportAggregates =>
  (JSON.parse(file(run, REPORT_DATA_FILE).toString('utf8')) as ReportData).aggregates;

async function rows(query: string): Promise<number[][]> {
  const reader = await sql.runAndReadAll(query);
  return reader.getRowsJS().map((r) => r.map((v) => (v === null ? Number.NaN : Number(v))));
}

const units = (u: string): number => Number(BigInt(u)) / FIXED_POINT_SCALE;

describe('the report aggregates equal what DuckDB counts in the CSVs', () => {
  const raw: GenerationConfigInput = {
    engine: 'seedrandom',
    seed: 21,
    users: 700,
    premiumUploadsPerDay: { mean: 6, std: 2 },
    tasks: { gridHours: 3 },
  };
  let run: { dir: string; outcome: PublishOutcome };
  let agg: ReportAggregates;
  let start: number;

  beforeAll(async () => {
    run = await publish(raw, { workers: 2 });
    agg = aggregatesOf(run);
    start = parseUtcTimestamp(run.outcome.manifest.config.start)!;
    const csv = (name: string, columns: string) =>
      `read_csv('${join(run.dir, run.outcome.prefix, name)}', header = true, columns = {${columns}})`;
    const ts = (c: string) => `epoch(strptime(${c}, '%Y-%m-%dT%H:%M:%SZ'))`;
    await sql.run(`
      CREATE OR REPLACE TABLE tiers AS SELECT user_id, ${ts('from_datetime')} AS f, ${ts('until_datetime')} AS u, tier = 'premium' AS premium
        FROM ${csv('tiers.csv', "'user_id': 'BIGINT', 'from_datetime': 'VARCHAR', 'until_datetime': 'VARCHAR', 'tier': 'VARCHAR'")};
      CREATE OR REPLACE TABLE uploads AS SELECT user_id, item_id, ${ts('datetime')} AS ts
        FROM ${csv('uploads.csv', "'txn_id': 'BIGINT', 'user_id': 'BIGINT', 'item_id': 'BIGINT', 'datetime': 'VARCHAR'")};
      CREATE OR REPLACE TABLE truth AS SELECT * FROM ${csv('truth/users.csv', "'user_id': 'BIGINT', 'cohort': 'BIGINT', 'free_rate_per_hour': 'DOUBLE', 'premium_rate_per_hour': 'DOUBLE'")};
      CREATE OR REPLACE TABLE task AS SELECT user_id, ${ts('anchor_time')} AS ts, scenario, tier_at_anchor = 'premium' AS premium, hours_in_tier, label, oracle_probability AS p, split
        FROM ${csv('tasks/upload_50gb_next_hour.csv', "'user_id': 'BIGINT', 'anchor_time': 'VARCHAR', 'scenario': 'VARCHAR', 'tier_at_anchor': 'VARCHAR', 'hours_in_tier': 'DOUBLE', 'label': 'BIGINT', 'oracle_probability': 'DOUBLE', 'split': 'VARCHAR'")};
    `);
  });

  it('counts uploads per time bin by the tier in force and the item size', async () => {
    const { binSeconds, bins } = timeBins(start, parseUtcTimestamp(run.outcome.manifest.config.end)!);
    expect(agg.timeBinSeconds).toBe(binSeconds);
    const expected = new Array<number>(bins * 4).fill(0);
    for (const [bin, premium, large, n] of await rows(`
      SELECT floor((x.ts - ${start}) / ${binSeconds}), t.premium::INT, (x.item_id = 2)::INT, count(*)
      FROM uploads x JOIN tiers t ON t.user_id = x.user_id AND t.f <= x.ts AND x.ts < t.u GROUP BY ALL`))
      expected[bin * 4 + premium * 2 + large] += n;
    expect(agg.uploadsOverTime).toEqual(expected);
    expect(expected.reduce((a, n) => a + n, 0)).toBe(
      run.outcome.manifest.files.find((f) => f.name === 'uploads.csv')!.rows,
    );
  });

  it('counts tier changes and the shortest gap between two changes of a user', async () => {
    const [[upgrades, downgrades, minGap]] = await rows(`
      WITH changes AS (
        SELECT user_id, f, premium, lag(premium) OVER (PARTITION BY user_id ORDER BY f) AS before FROM tiers),
      real AS (SELECT user_id, f, premium, f - lag(f) OVER (PARTITION BY user_id ORDER BY f) AS gap FROM changes WHERE before IS NOT NULL AND before <> premium)
      SELECT count(*) FILTER (premium)::DOUBLE, count(*) FILTER (NOT premium)::DOUBLE, min(gap) FROM real`);
    expect(agg.tierChanges).toEqual({ upgrades, downgrades, minGapSeconds: minGap });
    expect(upgrades).toBeGreaterThan(0);
  });

  it('bins the truth file’s latent rates', async () => {
    const edges = `[${RATE_EDGES.map((e) => `${e}::DOUBLE`).join(', ')}]`;
    for (const column of ['free', 'premium'] as const) {
      const expected = new Array<number>(RATE_EDGES.length + 1).fill(0);
      for (const [bin, n] of await rows(
        `SELECT len(list_filter(${edges}, e -> e <= ${column}_rate_per_hour)), count(*) FROM truth GROUP BY ALL`,
      ))
        expected[bin] += n;
      expect(agg.rates[column], column).toEqual(expected);
    }
  });

  it('samples the first users of each cohort with their tiers and upload counts', async () => {
    for (let cohort = 1; cohort <= 5; cohort++) {
      const users = (
        await rows(`SELECT user_id FROM truth WHERE cohort = ${cohort} ORDER BY user_id LIMIT ${SAMPLE_USERS}`)
      ).map(([u]) => u);
      const sample = agg.samples[cohort - 1];
      expect(sample.map((s) => s.userId)).toEqual(users);
      for (const s of sample) {
        const tiers = await rows(`SELECT f, u, premium::INT FROM tiers WHERE user_id = ${s.userId} ORDER BY f`);
        expect(s.tiers).toEqual(tiers);
        const [[uploads]] = await rows(`SELECT count(*) FROM uploads WHERE user_id = ${s.userId}`);
        expect(s.uploads).toBe(uploads);
      }
    }
  });

  it('counts task rows, labels and oracle probabilities by scenario and split, by probability bin, by time since a change', async () => {
    const expectTally = async (
      tally: ReportAggregates['task']['byScenarioSplit'],
      index: string,
      size: number,
    ): Promise<void> => {
      const n = new Array<number>(size).fill(0);
      const pos = new Array<number>(size).fill(0);
      const sumP = new Array<number>(size).fill(0);
      for (const [i, count, positives, p] of await rows(
        `SELECT ${index} AS i, count(*), sum(label), sum(p) FROM task GROUP BY ALL`,
      )) {
        n[i] = count;
        pos[i] = positives;
        sumP[i] = p;
      }
      expect(tally.rows).toEqual(n);
      expect(tally.positives).toEqual(pos);
      tally.probabilityUnits.forEach((u, i) => {
        expect(units(u)).toBeCloseTo(sumP[i], 6);
      });
    };
    const scenario = `(list_position([${SCENARIOS.map((s) => `'${s}'`).join(', ')}], scenario) - 1)`;
    const split = `(list_position([${SPLITS.map((s) => `'${s}'`).join(', ')}], split) - 1)`;
    await expectTally(agg.task.byScenarioSplit, `${scenario} * 3 + ${split}`, SCENARIOS.length * 3);
    await expectTally(
      agg.task.byProbability,
      `${split} * ${PROBABILITY_BINS} + CASE WHEN p <= 0 THEN 0 ELSE 1 + least(99, floor(p * 100)) END`,
      3 * PROBABILITY_BINS,
    );
    // The interval began after the window's start (a change) or at it; hours_in_tier has 4 decimals.
    const changed = `(ts - hours_in_tier * 3600 > ${start} + 0.5)`;
    const group = `CASE WHEN premium THEN (CASE WHEN ${changed} THEN 0 ELSE 2 END) ELSE (CASE WHEN ${changed} THEN 1 ELSE 3 END) END`;
    const edges = `[${SINCE_CHANGE_HOURS.join(', ')}]`;
    await expectTally(
      agg.task.sinceChange,
      `${group} * ${SINCE_CHANGE_HOURS.length} + len(list_filter(${edges}, e -> e <= hours_in_tier)) - 1`,
      4 * SINCE_CHANGE_HOURS.length,
    );
    expect(agg.task.sinceChange.rows[0]).toBeGreaterThan(0); // anchors in an upgrade's first hour
  });

  it('sums the Brier score and log loss per split', async () => {
    const byIndex = await rows(
      `SELECT list_position(['train', 'val', 'test'], split) - 1, sum((p - label) ^ 2),
        sum(CASE WHEN label = 1 THEN -ln(greatest(p, 1e-15)) ELSE -ln(1 - least(p, 1 - 1e-15)) END) FROM task GROUP BY ALL`,
    );
    for (const [s, brier, logLoss] of byIndex) {
      expect(units(agg.task.scoreUnits[s])).toBeCloseTo(brier, 5);
      expect(units(agg.task.scoreUnits[3 + s])).toBeCloseTo(logLoss, 4);
    }
  });
});

describe('report.html', () => {
  const raw: GenerationConfigInput = { engine: 'seedrandom', seed: 5, users: 400 };

  it('is the same bytes from 1 and 3 worker threads and from a fan-out, and re-renders to them', async () => {
    const one = await publish(raw, { workers: 1 });
    const three = await publish(raw, { workers: 3 });
    const fanout = await publish(raw, { fanout: true });
    for (const name of [REPORT_FILE, REPORT_DATA_FILE]) {
      expect(file(three, name).equals(file(one, name)), `${name}: 3 workers`).toBe(true);
      expect(file(fanout, name).equals(file(one, name)), `${name}: fan-out`).toBe(true);
    }
    const again = await rerenderReport(new LocalFolderStorage(join(one.dir, one.outcome.prefix)), '.');
    expect(Buffer.from(again.html).equals(file(one, REPORT_FILE))).toBe(true);
    // Listed in the manifest with its size and digest.
    const listed = one.outcome.manifest.files.find((f) => f.name === REPORT_FILE)!;
    expect(listed.bytes).toBe(file(one, REPORT_FILE).length);
  });

  it('stays under 1 MB, and its aggregates do not grow with the number of users', async () => {
    const longWindow: GenerationConfigInput = {
      engine: 'seedrandom',
      seed: 3,
      start: '2024-01-01T00:00:00Z',
      end: '2025-01-01T00:00:00Z',
    };
    const small = await publish({ ...longWindow, users: 100, tasks: { gridHours: 720 } });
    const large = await publish({ ...longWindow, users: 3000, tasks: { gridHours: 720 } });
    // A year in 27-hour bins: near the most time bins there are.
    expect(aggregatesOf(large).uploadsOverTime.length).toBe(4 * 326);
    for (const run of [small, large]) expect(file(run, REPORT_FILE).length).toBeLessThanOrEqual(MAX_REPORT_BYTES);
    // Digits grow with the counts, nothing else does: 30 times the users, a few percent more bytes.
    expect(file(large, REPORT_DATA_FILE).length).toBeLessThan(file(small, REPORT_DATA_FILE).length * 1.5);
  });

  it('refuses to re-render from aggregates that do not match the manifest', async () => {
    const run = await publish({ ...raw, seed: 6 }, { workers: 1 });
    const folder = join(run.dir, run.outcome.prefix);
    const storage = new LocalFolderStorage(folder);
    const tampered = file(run, REPORT_DATA_FILE).toString('utf8').replace('"upgrades":', '"upgrades":1');
    const writer = storage.createWriter(REPORT_DATA_FILE);
    await writer.write(Buffer.from(tampered));
    await writer.commit();
    await expect(rerenderReport(storage, '.')).rejects.toThrow(/report-data\.json does not match its sha256/);
  });
});
