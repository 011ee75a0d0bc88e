import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { GenerationConfigInput } from '../lambda/config/schema.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { MANIFEST_FILE, REPORT_DATA_FILE, REPORT_FILE } from '../lambda/layout/tables.js';
import { estimateOutput, estimateUserRows } from '../lambda/catalog/output-estimate.js';
import { placeRun, type RunLimits } from '../lambda/catalog/sync-rule.js';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../lambda/settings/function-settings.js';
import { planShards } from '../lambda/fanout/plan-shards.js';
import { loadEnvironment } from '../lambda/handler/environment.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';

const tmp = mkdtempSync(join(tmpdir(), 'tierdrift-estimate-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// The estimate leans high: each file within this factor above what is written...
const OVER = 1.5;
// ...and never more than a few percent below (the draws around the mean), but for a few rows of a small file.
const UNDER = 0.95;
const FEW_ROWS = 50;
const FEW_ROWS_BYTES = 4096;

const CONFIGS: Array<{ name: string; raw: GenerationConfigInput }> = [
  { name: 'defaults, 20,000 users', raw: { users: 20_000 } },
  {
    name: 'seedrandom, 20,000 users, open-ended tiers',
    raw: { engine: 'seedrandom', users: 20_000, openEndedTiers: true },
  },
  {
    name: 'high premium rate, cohort sizes, 1-hour grid',
    raw: {
      engine: 'seedrandom',
      seed: 4,
      users: 3000,
      premiumUploadsPerDay: { mean: 120, std: 30 },
      cohortSizes: [300, 1000, 400, 900, 400],
      tasks: { gridHours: 1 },
    },
  },
  {
    name: 'one user, 1-second grid over 2 days',
    raw: { users: 1, end: '2025-03-03T00:00:00Z', minTierGapHours: 1, tasks: { gridHours: 1 / 3600 } },
  },
  {
    name: 'free only, long window, 6-hour grid',
    raw: {
      seed: 8,
      users: 2000,
      end: '2025-09-01T00:00:00Z',
      cohortSizes: [0, 2000, 0, 0, 0],
      freeUploadsPerDay: { mean: 2, std: 1 },
      tasks: { gridHours: 6 },
    },
  },
  { name: 'a quarter of the users with task rows', raw: { seed: 6, users: 4000, tasks: { userFraction: 0.25 } } },
  { name: 'no task file', raw: { engine: 'seedrandom', users: 2000, tasks: { enabled: false } } },
];

describe('estimateOutput against generated datasets', () => {
  for (const { name, raw } of CONFIGS) {
    it(
      name,
      async () => {
        const config = parseConfig(raw);
        const estimate = estimateOutput(config);
        const { manifest } = await publishDataset(config, { storage: new LocalFolderStorage(join(tmp, name)) });
        // Every file the dataset has, in the manifest's order, and the manifest itself.
        expect(estimate.files.map((f) => f.name)).toEqual([...manifest.files.map((f) => f.name), MANIFEST_FILE]);
        for (const file of manifest.files) {
          const guess = estimate.files.find((f) => f.name === file.name)!;
          expect(guess.rows, `${file.name} rows`).toBeGreaterThanOrEqual(Math.floor(file.rows * UNDER) - FEW_ROWS);
          expect(guess.rows, `${file.name} rows`).toBeLessThanOrEqual(Math.ceil(file.rows * OVER) + 2);
          // The report's files are bounded (at most 1 MB) and guessed within a factor of 2.
          const report = file.name === REPORT_FILE || file.name === REPORT_DATA_FILE;
          expect(guess.bytes, `${file.name} bytes`).toBeGreaterThanOrEqual(
            report ? file.bytes / 2 : file.bytes * UNDER - FEW_ROWS_BYTES,
          );
          expect(guess.bytes, `${file.name} bytes`).toBeLessThanOrEqual(
            report ? file.bytes * 2 : file.bytes * OVER + 200,
          );
        }
        const written =
          manifest.files.reduce((sum, f) => sum + f.bytes, 0) + Buffer.byteLength(JSON.stringify(manifest, null, 2));
        expect(estimate.bytes).toBeGreaterThanOrEqual(written);
        expect(estimate.bytes).toBeLessThanOrEqual(written * OVER + 20_000);
        expect(estimate.rows).toBe(estimate.files.reduce((sum, f) => sum + f.rows, 0));
      },
      120_000,
    );
  }

  it('of a range of users is the share of the whole (fan-out shards add up to the run)', () => {
    const config = parseConfig({ engine: 'seedrandom', users: 1_000_003, cohortSizes: [1, 2, 3, 4, 999_993] });
    const whole = estimateUserRows(config);
    const parts = [
      estimateUserRows(config, 1, 5),
      estimateUserRows(config, 6, 500_000),
      estimateUserRows(config, 500_001, 1_000_003),
    ];
    whole.forEach((table, i) => {
      expect(parts.reduce((sum, p) => sum + p[i].rows, 0)).toBeGreaterThanOrEqual(table.rows);
      expect(parts.reduce((sum, p) => sum + p[i].rows, 0)).toBeLessThanOrEqual(table.rows + 3);
      expect(parts.reduce((sum, p) => sum + p[i].bytes, 0)).toBeGreaterThanOrEqual(table.bytes);
      expect(parts.reduce((sum, p) => sum + p[i].bytes, 0)).toBeLessThanOrEqual(table.bytes + 3);
    });
  });
});

describe('placeRun: where a config runs, by its estimate', () => {
  const env = loadEnvironment({ BUCKET_NAME: 'my-bucket' });
  const limits: RunLimits = env;

  it('1000 users on a 1-second grid (~53 GB of task rows) never runs inside an API request', () => {
    const fine = parseConfig({ users: 1000, tasks: { gridHours: 1 / 3600 } });
    expect(estimateOutput(fine).bytes).toBeGreaterThan(50e9);
    expect(placeRun(fine, limits)).toMatchObject({
      problem: { field: '(config)', rule: expect.stringMatching(/MAX_OUTPUT_BYTES/) },
    });
    // A day of it: below the output cap and what one invocation writes, still far above the sync rows.
    const day = parseConfig({
      users: 1000,
      end: '2025-03-02T00:00:00Z',
      minTierGapHours: 1,
      tasks: { gridHours: 1 / 3600 },
    });
    expect(placeRun(day, limits)).toMatchObject({ place: 'job' });
    // On seedrandom, above what one invocation writes: the fan-out, whatever the user count.
    const split = parseConfig({
      engine: 'seedrandom',
      users: 1000,
      end: '2025-03-08T00:00:00Z',
      minTierGapHours: 1,
      tasks: { gridHours: 1 / 3600 },
    });
    expect(estimateOutput(split).bytes).toBeGreaterThan(env.singleRunMaxBytes);
    expect(placeRun(split, limits)).toMatchObject({ place: 'fanout' });
    // The same on the reference engine, which cannot be split: refused, naming the one-invocation limit.
    expect(placeRun({ ...split, engine: 'reference' }, limits)).toMatchObject({
      problem: { rule: expect.stringMatching(/SINGLE_RUN_MAX_BYTES/) },
    });
  });

  it('the defaults: 200,000 users answered in the request, 200,001 in the background, MAX_USERS within the output cap', () => {
    expect(placeRun(parseConfig({ users: 200_000 }), limits)).toMatchObject({ place: 'request' });
    expect(placeRun(parseConfig({ users: 200_001 }), limits)).toMatchObject({ place: 'job' });
    // High rates at few users: the rows, not the users, send it to the background.
    expect(
      placeRun(
        parseConfig({ users: 100, freeUploadsPerDay: { mean: 100_000 }, premiumUploadsPerDay: { mean: 100_000 } }),
        limits,
      ),
    ).toMatchObject({ place: 'job' });
    expect(estimateOutput(parseConfig({ engine: 'seedrandom', users: 10_000_000 })).bytes).toBeLessThan(
      DEFAULT_MAX_OUTPUT_BYTES,
    );
    expect(placeRun(parseConfig({ engine: 'seedrandom', users: 10_000_000 }), limits)).toMatchObject({
      place: 'fanout',
    });
  });

  it('fan-out shards each fit one invocation by their estimated bytes', () => {
    const config = parseConfig({
      engine: 'seedrandom',
      users: 1000,
      end: '2025-03-08T00:00:00Z',
      minTierGapHours: 1,
      tasks: { gridHours: 1 / 3600 },
    });
    const maxShardBytes = 1e9;
    const shards = planShards(config, { maxShardBytes });
    expect(shards.length).toBeGreaterThan(1);
    expect(shards.at(-1)!.to).toBe(1000);
    for (const shard of shards) {
      expect(estimateUserRows(config, shard.from, shard.to).reduce((sum, t) => sum + t.bytes, 0)).toBeLessThanOrEqual(
        maxShardBytes,
      );
    }
    // By users only (the old plan), it would have been one shard of every user.
    expect(planShards(config)).toHaveLength(1);
  });
});
