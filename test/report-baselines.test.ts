import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationConfig, GenerationConfigInput } from '../lambda/config/schema.js';
import { taskSettings } from '../lambda/config/task-settings.js';
import { engineRange } from '../lambda/engine/engine-range.js';
import { baselinePredictions } from '../lambda/evaluation/baselines.js';
import { readTaskRows, type TaskRow } from '../lambda/evaluation/task-rows.js';
import { readUserHistories } from '../lambda/evaluation/user-history.js';
import { runFanoutLocally } from '../lambda/fanout/fanout-steps.js';
import { REPORT_DATA_FILE, REPORT_FILE } from '../lambda/layout/tables.js';
import { publishDataset, type PublishOutcome } from '../lambda/publish/publish-dataset.js';
import type { ReportData } from '../lambda/publish/report-files.js';
import { baselineScores, SAMPLE_PREDICTORS, type SamplePredictor } from '../lambda/report/report-baselines.js';
import {
  baselineSamplePlan,
  MAX_SAMPLE_VALUES,
  mergeBaselines,
  type BaselineAggregates,
  type BaselineUser,
} from '../lambda/rows/baseline-sample.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { BASELINE_KINDS } from '../lambda/tasks/baselines.js';
import { scoreRows } from '../lambda/tasks/metrics.js';
import { mergePopulationCounts, PopulationHistory } from '../lambda/tasks/population-history.js';
import { SPLITS } from '../lambda/tasks/split.js';
import { userHistoryOf } from '../lambda/tasks/user-history.js';
import { userSampleKey } from '../lambda/tasks/user-sample.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { bundleEngineWorker } from './support/engine-worker-bundle.js';

const tmp = mkdtempSync(join(tmpdir(), 'tierdrift-report-baselines-'));
let worker: URL;
beforeAll(async () => {
  worker = await bundleEngineWorker(join(tmp, 'bundle'));
});
afterAll(() => {
  rmSync(tmp, { recursive: true, force: true });
});

interface Run {
  dir: string;
  outcome: PublishOutcome;
}
let runs = 0;
async function publish(config: GenerationConfig, options: { workers?: number; fanout?: boolean } = {}): Promise<Run> {
  const dir = join(tmp, `run-${++runs}`);
  const storage = new LocalFolderStorage(dir);
  const outcome = options.fanout
    ? await runFanoutLocally(config, storage, { shardUsers: 333, minPartBytes: 0 })
    : await publishDataset(config, { storage, engineWorker: worker, workers: options.workers ?? 1, blockUsers: 100 });
  return { dir, outcome: outcome! };
}
const file = (run: Run, name: string): Buffer => readFileSync(join(run.dir, run.outcome.prefix, name));
const folder = (run: Run) => new LocalFolderStorage(join(run.dir, run.outcome.prefix));

// More users than the sample takes, and a 3-hour grid: a sample of users, each user's rows thinned.
const raw: GenerationConfigInput = { engine: 'seedrandom', seed: 8, users: 1500, tasks: { gridHours: 3 } };

describe("the report's baseline scores, on its sample of users", () => {
  const config = parseConfig(raw);
  const settings = taskSettings(config);
  const window = { start: settings.start, end: settings.end };
  let run: Run;
  let aggregates: ReportData['aggregates'];
  let baselines: BaselineAggregates;

  beforeAll(async () => {
    run = await publish(config, { workers: 2 });
    aggregates = (JSON.parse(file(run, REPORT_DATA_FILE).toString('utf8')) as ReportData).aggregates;
    baselines = aggregates.baselines!;
  });

  it('samples the users whose hash falls below the threshold (a part of them), thinning their rows by the stride', () => {
    const { threshold, rowStride } = baselineSamplePlan(config);
    const expected = Array.from({ length: config.users }, (_, i) => i + 1).filter(
      (u) => userSampleKey(config.seed, u) < threshold,
    );
    expect(baselines.users.map((u) => u.userId)).toEqual(expected);
    expect(expected.length).toBeGreaterThan(100);
    expect(expected.length).toBeLessThan(config.users / 2);
    expect(rowStride).toBeGreaterThan(1);
    expect(baselines).toMatchObject({ rowStride, cut: false });
  });

  it("holds the population counts the evaluator's baselines compute from tiers.csv and uploads.csv", async () => {
    const population = new PopulationHistory(window);
    for await (const user of readUserHistories(folder(run), '.', window)) population.add(user);
    expect(baselines.population).toEqual(population.counts());
  });

  it('scores the oracle and both baselines as the evaluator does over the written files, restricted to the sampled rows', async () => {
    const sampled = new Set(baselines.users.map((u) => u.userId));
    // The task file's rows of the sampled users, every rowStride-th of each user.
    const kept: TaskRow[] = [];
    let user = 0;
    let index = 0;
    for await (const row of readTaskRows(folder(run), '.')) {
      if (row.userId !== user) [user, index] = [row.userId, 0];
      if (sampled.has(row.userId) && index++ % baselines.rowStride === 0) kept.push(row);
    }
    // The sample's rows are those rows as written: anchor, label, oracle probability.
    expect(baselines.users.flatMap((u) => u.rows)).toEqual(
      kept.flatMap((r) => [r.at - window.start, r.label, r.oracleProbability]),
    );

    const predictions = new Map<string, Map<string, number>>();
    for (const kind of BASELINE_KINDS) {
      let text = '';
      for await (const chunk of baselinePredictions(folder(run), '.', window, kind)) text += chunk;
      predictions.set(
        kind,
        new Map(
          text
            .split('\r\n')
            .slice(1, -1)
            .map((line) => {
              const [u, time, p] = line.split(',');
              return [`${u} ${time}`, Number(p)];
            }),
        ),
      );
    }
    const expected = SPLITS.flatMap((split) => {
      const rows = kept.filter((r) => r.split === split);
      const labels = rows.map((r): number => r.label);
      const probabilities: Record<SamplePredictor, number[]> = {
        oracle: rows.map((r) => r.oracleProbability),
        'tier-blind': rows.map((r) => predictions.get('tier-blind')!.get(`${r.userId} ${r.anchorTime}`)!),
        'tier-aware': rows.map((r) => predictions.get('tier-aware')!.get(`${r.userId} ${r.anchorTime}`)!),
      };
      return SAMPLE_PREDICTORS.map((predictor) => ({
        predictor,
        split,
        rows: rows.length,
        positives: labels.reduce((n, y) => n + y, 0),
        metrics: scoreRows({ probabilities: probabilities[predictor], labels }),
      }));
    });
    const scores = baselineScores({ manifest: run.outcome.manifest, aggregates });
    expect(scores).toEqual({
      users: sampled.size,
      rows: kept.length,
      rowStride: baselines.rowStride,
      cut: false,
      scores: expected,
    });
    // The baselines are not the oracle: the comparison has something to show.
    expect(expected.every((s) => s.rows > 0)).toBe(true);
    const brier = (p: string) => expected.find((s) => s.split === 'train' && s.predictor === p)!.metrics.brier;
    expect(brier('oracle')).toBeLessThan(brier('tier-aware'));
    expect(brier('tier-aware')).toBeLessThan(brier('tier-blind'));
    // And the page shows them.
    const html = file(run, REPORT_FILE).toString('utf8');
    expect(html).toContain('id="baseline-scores"');
    expect(html).toContain(`sample of ${sampled.size.toLocaleString('en-US')} users`);
  });

  it('writes the same report-data.json and report.html from 3 worker threads and from a fan-out', async () => {
    const three = await publish(config, { workers: 3 });
    const fanout = await publish(config, { fanout: true });
    for (const name of [REPORT_DATA_FILE, REPORT_FILE]) {
      expect(file(three, name).equals(file(run, name)), `${name}: 3 workers`).toBe(true);
      expect(file(fanout, name).equals(file(run, name)), `${name}: fan-out`).toBe(true);
    }
  });
});

describe('population counts', () => {
  const config = parseConfig({ engine: 'seedrandom', seed: 4, users: 300, minTierGapHours: 2 });
  const settings = taskSettings(config);
  const window = { start: settings.start, end: settings.end };
  const countsOf = (from: number, to: number) => {
    const population = new PopulationHistory(window);
    for (const batch of engineRange(config, { from, to })) population.add(userHistoryOf(batch));
    return population.counts();
  };

  it('of two ranges of users merged are those of one range over both', () => {
    const whole = countsOf(1, 300);
    const merged = mergePopulationCounts(countsOf(1, 137), countsOf(138, 300));
    expect(merged).toEqual(whole);
    const a = new PopulationHistory(window, whole).finish();
    const b = new PopulationHistory(window, merged).finish();
    for (let at = window.start; at <= window.end; at += 1800) expect(b.past(at)).toEqual(a.past(at));
    expect(whole.users).toBe(300);
    expect(whole.hourly.upgrades.reduce((n, x) => n + x, 0)).toBeGreaterThan(0);
  });

  it('are the hour-by-hour figures counted the long way, from their definition', () => {
    const histories = [...engineRange(config, { from: 1, to: 300 })].map((b) => userHistoryOf(b));
    const population = new PopulationHistory(window);
    for (const h of histories) population.add(h);
    population.finish();
    const HOUR = 3600;
    const hours = Math.ceil((window.end - window.start) / HOUR);
    // Brute force: every user, every hour.
    let large = 0;
    let freeHours = 0;
    let freeHits = 0;
    let premiumSeconds = 0;
    let premiumLarge = 0;
    for (let h = 0; h < hours; h++) {
      const from = window.start + h * HOUR;
      const until = from + HOUR;
      for (const user of histories) {
        const inHour = user.largeUploads.filter((t) => t >= from && t < until);
        large += inHour.length;
        const began = user.intervals.find((i) => i.from <= from && from < i.until);
        if (began && !began.premium) {
          freeHours++;
          if (inHour.length > 0) freeHits++;
        }
        for (const i of user.intervals) {
          if (!i.premium) continue;
          const ordinaryFrom = i.from > window.start ? i.from + HOUR : i.from;
          premiumSeconds += Math.max(0, Math.min(i.until, until) - Math.max(ordinaryFrom, from));
          premiumLarge += inHour.filter((t) => t >= ordinaryFrom && t < i.until).length;
        }
      }
      const past = population.past(until);
      expect(past.largeRate, `hour ${h}`).toBe(large / (histories.length * (h + 1)));
      expect(past.freeHourRate, `hour ${h}`).toBe(freeHours > 0 ? freeHits / freeHours : 0);
      expect(past.premiumRate, `hour ${h}`).toBe(premiumSeconds > 0 ? premiumLarge / (premiumSeconds / HOUR) : 0);
    }
    expect(freeHits).toBeGreaterThanOrEqual(0);
    expect(premiumLarge).toBeGreaterThan(0);
  });
});

describe("the baselines' sample, merged", () => {
  const population = new PopulationHistory({ start: 0, end: 7200 }).counts();
  /** A user holding `values` numbers (one tier interval, the rest 50 GB upload times). */
  const user = (userId: number, values: number): BaselineUser => ({
    userId,
    tiers: [[0, 7200, 1]],
    large: new Array<number>(values - 3).fill(60),
    rows: [],
  });
  // The sample of one range over `users`: what the rule keeps of them, in user order.
  const range = (users: BaselineUser[]): BaselineAggregates =>
    mergeBaselines(
      { population, rowStride: 1, users: [], cut: false },
      { population, rowStride: 1, users, cut: false },
    );
  const third = Math.floor(MAX_SAMPLE_VALUES / 3);
  // Users 1–3 fit, user 4 does not: the sample is cut there, and user 5 (small enough) is not taken either.
  const users = [user(1, third), user(2, 100), user(3, third), user(4, third), user(5, 10), user(6, 50)];

  it('is cut at the first user over the bound, in user order', () => {
    const whole = range(users);
    expect(whole.users.map((u) => u.userId)).toEqual([1, 2, 3]);
    expect(whole.cut).toBe(true);
    expect(range(users.slice(0, 3)).cut).toBe(false);
  });

  it('is the same however the users were cut into ranges', () => {
    const whole = range(users);
    for (let k = 0; k <= users.length; k++)
      for (let j = k; j <= users.length; j++) {
        const merged = mergeBaselines(
          mergeBaselines(range(users.slice(0, k)), range(users.slice(k, j))),
          range(users.slice(j)),
        );
        expect(merged, `ranges cut at ${k} and ${j}`).toEqual(whole);
      }
  });
});
