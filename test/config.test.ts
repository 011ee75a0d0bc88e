import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../lambda/config/canonical-json.js';
import { configHash, datasetAddress, prefixOfDatasetId } from '../lambda/config/dataset-id.js';
import type { GenerationConfig } from '../lambda/config/schema.js';
import { ConfigError, parseConfig, validateConfig } from '../lambda/validation/validate.js';
import type { Problem as ConfigProblem } from '../lambda/errors/problem.js';
import { MAX_USER_UPLOADS, userUploadBound } from '../lambda/engine/upload-bound.js';
import { defaultSplitBoundaries } from '../lambda/config/task-settings.js';

const DEFAULTS: GenerationConfig = {
  engine: 'reference',
  seed: 42,
  users: 100,
  start: '2025-03-01T00:00:00Z',
  end: '2025-03-11T00:00:00Z',
  minTierGapHours: 24,
  freeUploadsPerDay: { mean: 1.0, std: 0.7 },
  premiumUploadsPerDay: { mean: 3.0, std: 1.0 },
  premiumLargeShare: 0.4,
  upgradeSpike: { probability: 0.9, maxUploads: 2, secondUploadProbability: 0.15 },
  cohortSizes: null,
  openEndedTiers: false,
  tasks: { enabled: true, userFraction: 1, gridHours: 12, valFrom: null, testFrom: null },
  formats: ['csv'],
};

function problemsOf(raw: unknown): ConfigProblem[] {
  const result = validateConfig(raw);
  if (result.ok) return [];
  return result.problems;
}

/** Asserts the config is refused with exactly one problem, on `field`, whose rule matches `rule`. */
function expectOnlyProblem(raw: unknown, field: string, rule: RegExp): void {
  const problems = problemsOf(raw);
  expect(
    problems.map((p) => p.field),
    JSON.stringify(raw),
  ).toEqual([field]);
  expect(problems[0].rule).toMatch(rule);
}

function expectAccepted(raw: unknown): GenerationConfig {
  const result = validateConfig(raw);
  expect(result.ok ? [] : result.problems, JSON.stringify(raw)).toEqual([]);
  return (result as { ok: true; config: GenerationConfig }).config;
}

describe('defaults', () => {
  it('an empty config gets every default (the notebook config)', () => {
    expect(expectAccepted({})).toEqual(DEFAULTS);
  });

  it('partial nested objects are completed with the nested defaults', () => {
    const config = expectAccepted({ freeUploadsPerDay: { mean: 2 }, upgradeSpike: { maxUploads: 1 } });
    expect(config.freeUploadsPerDay).toEqual({ mean: 2, std: 0.7 });
    expect(config.premiumUploadsPerDay).toEqual({ mean: 3, std: 1 });
    expect(config.upgradeSpike).toEqual({ probability: 0.9, maxUploads: 1, secondUploadProbability: 0.15 });
  });

  it('given values are kept', () => {
    const raw = { ...DEFAULTS, seed: 7, users: 10, cohortSizes: [1, 2, 3, 4, 0], minTierGapHours: 0 };
    expect(expectAccepted(raw)).toEqual(raw);
  });

  it('parseConfig returns the normalized config and throws ConfigError listing problems', () => {
    expect(parseConfig({ seed: 7 })).toEqual({ ...DEFAULTS, seed: 7 });
    let error: unknown;
    try {
      parseConfig({ seed: -1, users: 0 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.field).sort()).toEqual(['seed', 'users']);
    expect((error as ConfigError).message).toMatch(/seed: must be an integer from 0 to 4294967295/);
    expect((error as ConfigError).message).toMatch(/users: must be an integer from 1 to 10000000/);
  });

  it('a config that is not a JSON object is refused', () => {
    for (const raw of [null, [], 'x', 42, true]) expectOnlyProblem(raw, '(config)', /must be a JSON object/);
  });
});

describe('unknown keys', () => {
  it('top level: {"user": 100} names the field "user" and lists the allowed keys', () => {
    expectOnlyProblem({ user: 100 }, 'user', /unknown key.*users/);
  });

  it('nested: upgradeSpike.maxUpload and freeUploadsPerDay.avg are named with their path', () => {
    expectOnlyProblem({ upgradeSpike: { maxUpload: 1 } }, 'upgradeSpike.maxUpload', /unknown key.*maxUploads/);
    expectOnlyProblem(
      { freeUploadsPerDay: { avg: 1 } },
      'freeUploadsPerDay.avg',
      /unknown key.*mean.*std|unknown key.*std.*mean/,
    );
  });

  it('several unknown keys are each reported', () => {
    const fields = problemsOf({ user: 1, sed: 2, premiumUploadsPerDay: { sd: 1 } })
      .map((p) => p.field)
      .sort();
    expect(fields).toEqual(['premiumUploadsPerDay.sd', 'sed', 'user']);
  });
});

describe('seed', () => {
  it('accepts 0 and 4294967295', () => {
    expect(expectAccepted({ seed: 0 }).seed).toBe(0);
    expect(expectAccepted({ seed: 4294967295 }).seed).toBe(4294967295);
  });
  it.each([[-1], [1.5], [4294967296], ['42'], [null], [true]])('refuses %j', (seed) => {
    expectOnlyProblem({ seed }, 'seed', /integer from 0 to 4294967295/);
  });
});

describe('users', () => {
  it('accepts 1 and 10,000,000', () => {
    expect(expectAccepted({ users: 1 }).users).toBe(1);
    expect(expectAccepted({ users: 10_000_000 }).users).toBe(10_000_000);
  });
  it.each([[0], [-5], [10_000_001], [2.5], ['100']])('refuses %j', (users) => {
    expectOnlyProblem({ users }, 'users', /integer from 1 to 10000000/);
  });
});

describe('start / end format and calendar', () => {
  it.each([
    ['start', '2025-03-01t00:00:00Z', /YYYY-MM-DDTHH:MM:SSZ/],
    ['start', '2025-03-01T00:00:00', /YYYY-MM-DDTHH:MM:SSZ/],
    ['start', '2025-03-01 00:00:00Z', /YYYY-MM-DDTHH:MM:SSZ/],
    ['start', '2025-03-01T00:00:00.000Z', /YYYY-MM-DDTHH:MM:SSZ/],
    ['start', '2025-3-01T00:00:00Z', /YYYY-MM-DDTHH:MM:SSZ/],
    ['end', '2025-03-11T00:00:00Z\n', /YYYY-MM-DDTHH:MM:SSZ/],
    ['end', '2025-03-11T00:00:00+00:00', /YYYY-MM-DDTHH:MM:SSZ/],
    ['start', 1740787200, /YYYY-MM-DDTHH:MM:SSZ/],
    ['start', '2025-02-30T00:00:00Z', /real calendar time/],
    ['start', '2025-02-29T00:00:00Z', /real calendar time/], // 2025 is not a leap year
    ['start', '2025-03-01T24:00:00Z', /real calendar time/],
    ['start', '2025-03-01T00:60:00Z', /real calendar time/],
    ['end', '2025-03-11T00:00:60Z', /real calendar time/],
    ['end', '2025-13-01T00:00:00Z', /real calendar time/],
    ['end', '2025-04-31T00:00:00Z', /real calendar time/],
    ['end', '2025-03-00T00:00:00Z', /real calendar time/],
  ])('%s = %j is refused', (field, value, rule) => {
    expectOnlyProblem({ [field]: value }, field, rule);
  });

  it('accepts a leap day and the last second of a day', () => {
    expectAccepted({ start: '2024-02-29T00:00:00Z', end: '2024-03-01T23:59:59Z' });
  });

  it('year must be 1000 or later', () => {
    expectOnlyProblem(
      { start: '0999-12-31T00:00:00Z', end: '1000-01-05T00:00:00Z' },
      'start',
      /year must be 1000 or later/,
    );
    expectAccepted({ start: '1000-01-01T00:00:00Z', end: '1000-01-05T00:00:00Z' });
  });
});

describe('window', () => {
  it('end must be after start (equal or earlier refused)', () => {
    expectOnlyProblem({ start: '2025-03-11T00:00:00Z' }, 'end', /must be after start/);
    expectOnlyProblem({ end: '2025-03-01T00:00:00Z' }, 'end', /must be after start/);
  });

  it('exactly 366 days is accepted, 366 days + 1 s refused', () => {
    expectAccepted({ start: '2024-01-01T00:00:00Z', end: '2025-01-01T00:00:00Z' }); // 2024: 366 days
    expectAccepted({ start: '2025-01-01T00:00:00Z', end: '2026-01-02T00:00:00Z' });
    expectOnlyProblem({ start: '2025-01-01T00:00:00Z', end: '2026-01-02T00:00:01Z' }, 'end', /at most 366 days/);
  });
});

describe('minTierGapHours', () => {
  it('0 is accepted; negative refused', () => {
    expect(expectAccepted({ minTierGapHours: 0 }).minTierGapHours).toBe(0);
    expectOnlyProblem({ minTierGapHours: -1 }, 'minTierGapHours', /0 or greater/);
    expectOnlyProblem({ minTierGapHours: 'x' }, 'minTierGapHours', /must be a number/);
  });

  it('must be shorter than the window (equal refused, just below accepted)', () => {
    expectOnlyProblem({ minTierGapHours: 240 }, 'minTierGapHours', /shorter than the window.*240 hours/);
    expectOnlyProblem({ minTierGapHours: 1000 }, 'minTierGapHours', /shorter than the window/);
    expectAccepted({ minTierGapHours: 239.5 });
    expectOnlyProblem(
      { start: '2025-03-01T00:00:00Z', end: '2025-03-01T02:00:00Z', minTierGapHours: 2 },
      'minTierGapHours',
      /shorter than the window.*2 hours/,
    );
    expectAccepted({ start: '2025-03-01T00:00:00Z', end: '2025-03-01T02:00:00Z', minTierGapHours: 1.5 });
  });
});

describe('upload rates', () => {
  for (const key of ['freeUploadsPerDay', 'premiumUploadsPerDay'] as const) {
    it(`${key}: mean > 0, std >= 0, both at most 1,000,000 per day`, () => {
      expectOnlyProblem({ [key]: { mean: 0 } }, `${key}.mean`, /greater than 0/);
      expectOnlyProblem({ [key]: { mean: -1 } }, `${key}.mean`, /greater than 0/);
      expectOnlyProblem({ [key]: { mean: 1_000_001 } }, `${key}.mean`, /at most 1000000/);
      expectOnlyProblem({ [key]: { std: -0.1 } }, `${key}.std`, /0 or greater/);
      expectOnlyProblem({ [key]: { std: 1_000_001 } }, `${key}.std`, /at most 1000000/);
      expectOnlyProblem({ [key]: { mean: '1' } }, `${key}.mean`, /must be a number/);
      expectAccepted({ [key]: { mean: 1e-9, std: 0 } });
      // The highest rate, over a window short enough for one user's uploads to stay bounded.
      expectAccepted({ [key]: { mean: 1_000_000, std: 0 }, end: '2025-03-02T00:00:00Z', minTierGapHours: 1 });
      expect(problemsOf({ [key]: 5 }).map((p) => p.field)).toEqual([key]);
    });
  }
});

describe("one user's uploads: bounded from the rates' far tail over the window", () => {
  it(`refused above ${MAX_USER_UPLOADS} uploads a user, naming the rate whose tail gives the bound`, () => {
    // 10,000 a day for 366 days: 3.66 million uploads a user, even without any spread.
    expectOnlyProblem(
      { users: 1, end: '2026-03-02T00:00:00Z', freeUploadsPerDay: { mean: 10_000, std: 0 } },
      'freeUploadsPerDay',
      /up to \d+ uploads.*more than the 2000000/,
    );
    expectOnlyProblem(
      { users: 1, end: '2026-03-02T00:00:00Z', premiumUploadsPerDay: { mean: 10_000, std: 0 } },
      'premiumUploadsPerDay',
      /more than the 2000000/,
    );
    // A heavy tail: mean 1 a day but std 1000 puts the far tail at billions a day.
    expectOnlyProblem(
      { users: 10, freeUploadsPerDay: { mean: 1, std: 1000 } },
      'freeUploadsPerDay',
      /more than the 2000000/,
    );
    expectAccepted({ users: 10, end: '2026-03-02T00:00:00Z', freeUploadsPerDay: { mean: 1000, std: 0 } });
  });

  it('the bound grows with the users (the far tail of more draws) and holds for the defaults at MAX_USERS', () => {
    const config = parseConfig({});
    expect(userUploadBound({ ...config, users: 10_000_000 }).uploads).toBeGreaterThan(userUploadBound(config).uploads);
    expect(userUploadBound({ ...config, users: 10_000_000 }).uploads).toBeLessThan(2000);
  });
});

describe('shares and probabilities in [0, 1]', () => {
  const fields: [string, (v: unknown) => unknown][] = [
    ['premiumLargeShare', (v) => ({ premiumLargeShare: v })],
    ['upgradeSpike.probability', (v) => ({ upgradeSpike: { probability: v } })],
    ['upgradeSpike.secondUploadProbability', (v) => ({ upgradeSpike: { secondUploadProbability: v } })],
  ];
  for (const [field, make] of fields) {
    it(`${field}: 0 and 1 accepted, -0.01 / 1.01 / "0.5" refused`, () => {
      expectAccepted(make(0));
      expectAccepted(make(1));
      expectOnlyProblem(make(-0.01), field, /between 0 and 1/);
      expectOnlyProblem(make(1.01), field, /between 0 and 1/);
      expectOnlyProblem(make('0.5'), field, /must be a number/);
    });
  }

  it('upgradeSpike.maxUploads must be 1 or 2', () => {
    expectAccepted({ upgradeSpike: { maxUploads: 1 } });
    expectAccepted({ upgradeSpike: { maxUploads: 2 } });
    for (const v of [0, 3, 1.5, '2'])
      expectOnlyProblem({ upgradeSpike: { maxUploads: v } }, 'upgradeSpike.maxUploads', /must be 1 or 2/);
  });
});

describe('cohortSizes', () => {
  it('null and five non-negative integers summing to users are accepted', () => {
    expect(expectAccepted({ cohortSizes: null }).cohortSizes).toBeNull();
    expect(expectAccepted({ cohortSizes: [100, 0, 0, 0, 0] }).cohortSizes).toEqual([100, 0, 0, 0, 0]);
    expect(expectAccepted({ users: 10, cohortSizes: [1, 2, 3, 4, 0] }).cohortSizes).toEqual([1, 2, 3, 4, 0]);
  });

  it('must have exactly five entries', () => {
    expectOnlyProblem({ cohortSizes: [50, 50] }, 'cohortSizes', /exactly five/);
    expectOnlyProblem({ cohortSizes: [20, 20, 20, 20, 10, 10] }, 'cohortSizes', /exactly five/);
  });

  it('entries must be non-negative integers (the entry is named)', () => {
    expectOnlyProblem({ cohortSizes: [20, 20, 20, 20, -1] }, 'cohortSizes.4', /integer from 0/);
    expectOnlyProblem({ cohortSizes: [20.5, 20, 20, 20, 20] }, 'cohortSizes.0', /integer from 0/);
    expect(problemsOf({ cohortSizes: [20.5, 20, 20, 20, 19.5] }).map((p) => p.field)).toEqual([
      'cohortSizes.0',
      'cohortSizes.4',
    ]);
  });

  it('must sum to users', () => {
    expectOnlyProblem({ cohortSizes: [20, 20, 20, 20, 21] }, 'cohortSizes', /sum to users \(100\), got 101/);
    expectOnlyProblem({ users: 50, cohortSizes: [20, 20, 20, 20, 20] }, 'cohortSizes', /sum to users \(50\), got 100/);
  });

  it('must be an array or null', () => {
    expectOnlyProblem({ cohortSizes: 'equal' }, 'cohortSizes', /five non-negative integers, or null/);
  });
});

describe('engine', () => {
  it('only "reference" is known', () => {
    expect(expectAccepted({ engine: 'reference' }).engine).toBe('reference');
    expectOnlyProblem({ engine: 'fast' }, 'engine', /must be one of: reference/);
  });
});

describe('tasks', () => {
  it('defaults: enabled for every user, a 12-hour grid and computed split boundaries (null)', () => {
    const defaults = { enabled: true, userFraction: 1, gridHours: 12, valFrom: null, testFrom: null };
    expect(expectAccepted({ tasks: {} }).tasks).toEqual(defaults);
    expect(expectAccepted({ tasks: { gridHours: 0.5 } }).tasks).toEqual({
      ...defaults,
      gridHours: 0.5,
      valFrom: null,
      testFrom: null,
    });
  });

  it('default boundaries: 70% and 85% of the window, rounded down to whole hours', () => {
    const start = Date.parse('2025-03-01T00:00:00Z') / 1000;
    // 240 h: 168 h and 204 h exactly (no float shortfall to 167 h).
    expect(defaultSplitBoundaries(start, start + 240 * 3600)).toEqual({
      valFrom: start + 168 * 3600,
      testFrom: start + 204 * 3600,
    });
    // 10 h: 7 h and 8.5 h -> 8 h; 10 h 59 min 59 s: 7.69.. -> 7 h and 9.33.. -> 9 h.
    expect(defaultSplitBoundaries(start, start + 10 * 3600)).toEqual({
      valFrom: start + 7 * 3600,
      testFrom: start + 8 * 3600,
    });
    expect(defaultSplitBoundaries(start, start + 11 * 3600 - 1)).toEqual({
      valFrom: start + 7 * 3600,
      testFrom: start + 9 * 3600,
    });
  });

  it('gridHours: greater than 0, a whole number of seconds, at least 1 second, at most the window', () => {
    for (const v of [0, -1]) expectOnlyProblem({ tasks: { gridHours: v } }, 'tasks.gridHours', /greater than 0/);
    expectOnlyProblem({ tasks: { gridHours: '12' } }, 'tasks.gridHours', /must be a number/);
    expectOnlyProblem({ tasks: { gridHours: 0.0001 } }, 'tasks.gridHours', /whole number of seconds/);
    // Within the whole-seconds tolerance of 0 seconds: a grid that would never advance.
    for (const v of [1e-10, 1e-12, Number.MIN_VALUE])
      expectOnlyProblem({ tasks: { gridHours: v } }, 'tasks.gridHours', /at least 1 second/);
    expectAccepted({ tasks: { gridHours: 1 / 3600 } });
    expectAccepted({ tasks: { gridHours: 1 / 3 } });
    expectAccepted({ tasks: { gridHours: 240 } });
    expectOnlyProblem({ tasks: { gridHours: 240.5 } }, 'tasks.gridHours', /at most the window.*240 hours/);
    expectOnlyProblem(
      { end: '2025-03-01T06:00:00Z', minTierGapHours: 1, tasks: { gridHours: 7 } },
      'tasks.gridHours',
      /at most the window.*6 hours/,
    );
    // The default does not refuse a window shorter than 12 hours.
    expect(expectAccepted({ end: '2025-03-01T06:00:00Z', minTierGapHours: 1 }).tasks.gridHours).toBe(12);
  });

  it('valFrom / testFrom: timestamps or null; unknown keys refused', () => {
    expectOnlyProblem({ tasks: { valFrom: '2025-03-08' } }, 'tasks.valFrom', /YYYY-MM-DDTHH:MM:SSZ, or null/);
    expectOnlyProblem({ tasks: { testFrom: 5 } }, 'tasks.testFrom', /YYYY-MM-DDTHH:MM:SSZ, or null/);
    expectOnlyProblem({ tasks: { valFrom: '2025-02-30T00:00:00Z' } }, 'tasks.valFrom', /real calendar time/);
    expectOnlyProblem({ tasks: { grid: 12 } }, 'tasks.grid', /unknown key.*gridHours/);
    const given = { gridHours: 24, valFrom: '2025-03-05T00:00:00Z', testFrom: '2025-03-05T00:00:00Z' };
    expect(expectAccepted({ tasks: given }).tasks).toEqual({ enabled: true, userFraction: 1, ...given });
  });

  it('enabled: a boolean; userFraction in (0, 1]; with enabled false no other task key', () => {
    expectOnlyProblem({ tasks: { enabled: 'no' } }, 'tasks.enabled', /true or false/);
    for (const bad of [0, -0.5, 1.5, '0.5'])
      expectOnlyProblem({ tasks: { userFraction: bad } }, 'tasks.userFraction', /greater than 0 and at most 1|number/);
    expect(expectAccepted({ tasks: { userFraction: 0.001 } }).tasks.userFraction).toBe(0.001);
    expect(expectAccepted({ tasks: { enabled: false } }).tasks).toMatchObject({ enabled: false, userFraction: 1 });
    for (const key of ['userFraction', 'gridHours', 'valFrom'] as const) {
      const value = { userFraction: 0.5, gridHours: 6, valFrom: '2025-03-05T00:00:00Z' }[key];
      expectOnlyProblem(
        { tasks: { enabled: false, [key]: value } },
        `tasks.${key}`,
        /left out when tasks.enabled is false/,
      );
    }
  });

  it('the task options are part of the dataset id', () => {
    const ids = [
      {},
      { tasks: { enabled: false } },
      { tasks: { userFraction: 0.5 } },
      { tasks: { userFraction: 0.25 } },
    ].map((raw) => datasetAddress(parseConfig(raw)).datasetId);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('start < valFrom <= testFrom < end, each error on the field given', () => {
    expectOnlyProblem(
      { tasks: { valFrom: '2025-03-01T00:00:00Z' } },
      'tasks.valFrom',
      /after start.*start < valFrom <= testFrom < end/,
    );
    expectOnlyProblem({ tasks: { valFrom: '2025-02-01T00:00:00Z' } }, 'tasks.valFrom', /after start/);
    expectAccepted({ tasks: { valFrom: '2025-03-01T00:00:01Z' } });
    expectOnlyProblem({ tasks: { testFrom: '2025-03-11T00:00:00Z' } }, 'tasks.testFrom', /before end/);
    expectAccepted({ tasks: { testFrom: '2025-03-10T23:59:59Z' } });
    // One given past the other's default (valFrom 2025-03-08, testFrom 2025-03-09T12).
    expectOnlyProblem(
      { tasks: { valFrom: '2025-03-10T00:00:00Z' } },
      'tasks.valFrom',
      /at or before tasks.testFrom \(default 2025-03-09T12:00:00Z\)/,
    );
    expectOnlyProblem(
      { tasks: { testFrom: '2025-03-07T00:00:00Z' } },
      'tasks.testFrom',
      /at or after tasks.valFrom \(default 2025-03-08T00:00:00Z\)/,
    );
    expectOnlyProblem(
      { tasks: { valFrom: '2025-03-05T00:00:01Z', testFrom: '2025-03-05T00:00:00Z' } },
      'tasks.testFrom',
      /at or after tasks.valFrom \(2025-03-05T00:00:01Z\)/,
    );
    // Follows the window it is given.
    expectAccepted({
      start: '2025-03-20T00:00:00Z',
      end: '2025-03-30T00:00:00Z',
      tasks: { valFrom: '2025-03-21T00:00:00Z' },
    });
  });

  it('a broken task field does not hide the others', () => {
    const problems = problemsOf({
      tasks: { gridHours: -1, valFrom: '2025-03-01T00:00:00Z', testFrom: '2025-04-01T00:00:00Z' },
    });
    expect(problems.map((p) => p.field).sort()).toEqual(['tasks.gridHours', 'tasks.testFrom', 'tasks.valFrom']);
  });
});

describe('several errors at once', () => {
  it('reports every broken rule in one result, each with its field path and rule', () => {
    const problems = problemsOf({
      seed: -1,
      users: 0,
      user: 3,
      start: '2025-02-30T00:00:00Z',
      end: '2025-03-11 00:00:00Z',
      premiumLargeShare: 2,
      freeUploadsPerDay: { mean: 0, std: -1 },
      upgradeSpike: { maxUploads: 3, extra: true },
      cohortSizes: [1, 2],
    });
    const byField = Object.fromEntries(problems.map((p) => [p.field, p.rule]));
    expect(Object.keys(byField).sort()).toEqual(
      [
        'seed',
        'users',
        'user',
        'start',
        'end',
        'premiumLargeShare',
        'freeUploadsPerDay.mean',
        'freeUploadsPerDay.std',
        'upgradeSpike.maxUploads',
        'upgradeSpike.extra',
        'cohortSizes',
      ].sort(),
    );
    expect(problems).toHaveLength(11);
    expect(byField.seed).toMatch(/integer from 0 to 4294967295/);
    expect(byField.users).toMatch(/integer from 1 to 10000000/);
    expect(byField.user).toMatch(/unknown key/);
    expect(byField.start).toMatch(/real calendar time/);
    expect(byField.end).toMatch(/YYYY-MM-DDTHH:MM:SSZ/);
    expect(byField.premiumLargeShare).toMatch(/between 0 and 1/);
    expect(byField['freeUploadsPerDay.mean']).toMatch(/greater than 0/);
    expect(byField['freeUploadsPerDay.std']).toMatch(/0 or greater/);
    expect(byField['upgradeSpike.maxUploads']).toMatch(/1 or 2/);
    expect(byField['upgradeSpike.extra']).toMatch(/unknown key/);
    expect(byField.cohortSizes).toMatch(/exactly five/);
  });

  it('cross-field rules are reported together with field rules', () => {
    const problems = problemsOf({ seed: 1.5, minTierGapHours: 500, users: 10, cohortSizes: [1, 1, 1, 1, 1] });
    expect(problems.map((p) => p.field).sort()).toEqual(['cohortSizes', 'minTierGapHours', 'seed']);
  });
});

describe('canonicalJson', () => {
  it('sorts keys at every depth, keeps array order, drops undefined, no whitespace', () => {
    const text = canonicalJson({ b: 1, a: { z: [3, { y: 1, x: 2 }], c: null }, u: undefined, é: 'x' });
    expect(text).toBe('{"a":{"c":null,"z":[3,{"x":2,"y":1}]},"b":1,"é":"x"}');
  });

  it('equal values in different key orders give equal text', () => {
    const a = { seed: 1, nested: { p: 1, q: [1, 2], r: { s: 'x', t: true } } };
    const b = { nested: { r: { t: true, s: 'x' }, q: [1, 2], p: 1 }, seed: 1 };
    expect(canonicalJson(a)).toBe(canonicalJson(b));
    expect(JSON.parse(canonicalJson(a))).toEqual(a);
  });
});

describe('configHash / datasetAddress', () => {
  const base = parseConfig({});

  it('is 16 lowercase hex digits and deterministic', () => {
    expect(configHash(base)).toMatch(/^[0-9a-f]{16}$/);
    expect(configHash(parseConfig({}))).toBe(configHash(base));
  });

  it('is stable under key order (top level and nested)', () => {
    const reversed = Object.fromEntries(
      Object.entries(base)
        .reverse()
        .map(([k, v]) => [
          k,
          v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
        ]),
    ) as GenerationConfig;
    expect(JSON.stringify(reversed)).not.toBe(JSON.stringify(base));
    expect(configHash(reversed)).toBe(configHash(base));
    expect(configHash(parseConfig({ users: 10, seed: 3 }))).toBe(configHash(parseConfig({ seed: 3, users: 10 })));
  });

  it('is stable under omitting keys that equal the defaults', () => {
    expect(configHash(parseConfig(DEFAULTS))).toBe(configHash(base));
    expect(configHash(parseConfig({ seed: 42, upgradeSpike: { maxUploads: 2 } }))).toBe(configHash(base));
    expect(configHash(parseConfig({ seed: 9, freeUploadsPerDay: { mean: 1, std: 0.7 } }))).toBe(
      configHash(parseConfig({ seed: 9 })),
    );
  });

  it('differs for any changed value', () => {
    const variants: unknown[] = [
      { seed: 43 },
      { seed: 0 },
      { users: 101 },
      { start: '2025-03-01T00:00:01Z' },
      { end: '2025-03-11T00:00:01Z' },
      { minTierGapHours: 24.5 },
      { freeUploadsPerDay: { mean: 1.01 } },
      { freeUploadsPerDay: { std: 0.71 } },
      { premiumUploadsPerDay: { mean: 3.01 } },
      { premiumUploadsPerDay: { std: 1.01 } },
      { premiumLargeShare: 0.41 },
      { upgradeSpike: { probability: 0.91 } },
      { upgradeSpike: { maxUploads: 1 } },
      { upgradeSpike: { secondUploadProbability: 0.16 } },
      { cohortSizes: [20, 20, 20, 20, 20] },
      { cohortSizes: [21, 20, 20, 20, 19] },
      { openEndedTiers: true },
      { tasks: { gridHours: 6 } },
      { tasks: { valFrom: '2025-03-08T00:00:00Z' } },
      { tasks: { testFrom: '2025-03-10T00:00:00Z' } },
    ];
    const hashes = [configHash(base), ...variants.map((v) => configHash(parseConfig(v)))];
    expect(new Set(hashes).size).toBe(hashes.length);
  });

  it('datasetAddress: id seed-<seed>-<hash>, prefix seed=<seed>/<hash>; prefixOfDatasetId inverts it', () => {
    const config = parseConfig({ seed: 2025, users: 10 });
    const address = datasetAddress(config);
    expect(address.configHash).toBe(configHash(config));
    expect(address.datasetId).toBe(`seed-2025-${configHash(config)}`);
    expect(address.prefix).toBe(`seed=2025/${configHash(config)}`);
    expect(prefixOfDatasetId(address.datasetId)).toBe(address.prefix);
    expect(prefixOfDatasetId('seed-1-xyz')).toBeUndefined();
    expect(prefixOfDatasetId(`../seed-1-${configHash(config)}`)).toBeUndefined();
  });
});
