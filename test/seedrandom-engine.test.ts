import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import seedrandom from 'seedrandom';
import { afterAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../lambda/validation/validate.js';
import { createEngine } from '../lambda/engine/create-engine.js';
import { lognormalParams } from '../lambda/engine/reference/rate-model.js';
import { fastExp, normalQuantile } from '../lambda/engine/seedrandom/fast-math.js';
import { seedrandomEngine } from '../lambda/engine/seedrandom/seedrandom-engine.js';
import {
  aleaNext,
  PROFILE_STREAM,
  seedUserStream,
  streamKeys,
  uploadStream,
  userStreamState,
} from '../lambda/engine/seedrandom/user-stream.js';
import { exp } from '../lambda/libm/exp.js';
import type { UserBatch } from '../lambda/engine/user-batch.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { formatUtcTimestamp, utcTimestampSeconds } from '../lambda/time/utc-timestamp.js';

const tmp = mkdtempSync(join(tmpdir(), 'tierdrift-seedrandom-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const snapshot = (b: UserBatch, withTxn = true) => ({
  userId: b.userId,
  cohort: b.cohort,
  rates: [b.freeRatePerHour, b.premiumRatePerHour],
  tiers: Array.from({ length: b.tierCount }, (_, t) => [b.tierFrom[t], b.tierUntil[t], b.tierIsPremium[t]]),
  uploads: Array.from({ length: b.uploadCount }, (_, j) => [
    ...(withTxn ? [b.uploadTxnId[j]] : []),
    b.uploadItemId[j],
    b.uploadAt[j],
  ]),
});
const run = (raw: object, users?: { from: number; to: number }, withTxn = true, uploadVariant?: number) =>
  Array.from(createEngine(parseConfig({ engine: 'seedrandom', ...raw }), users, { uploadVariant }), (b) =>
    snapshot(b, withTxn),
  );

describe('seedrandom engine: determinism and ranges', () => {
  const raw = { seed: 11, users: 500, freeUploadsPerDay: { mean: 0.05, std: 0.05 } }; // many users with no uploads

  it('gives the same batches for the same config, and other batches for another seed', () => {
    const a = run(raw);
    expect(run(raw)).toEqual(a);
    const b = run({ ...raw, seed: 12 });
    expect(b).not.toEqual(a);
    expect(a.filter((u, i) => JSON.stringify(u.uploads) === JSON.stringify(b[i].uploads)).length).toBeLessThan(150);
  });

  it('yields, for any range, exactly the batches of the full run (txn ids numbered 1.. within the call)', () => {
    const full = run(raw, undefined, false);
    const fullTxn = run(raw).flatMap((u) => u.uploads.map((x) => x[0]));
    expect(fullTxn).toEqual(fullTxn.map((_, i) => i + 1));
    const empties = full.filter((u) => u.uploads.length === 0).map((u) => u.userId);
    expect(empties.length).toBeGreaterThan(5);
    const ranges = [
      { from: 1, to: 500 },
      { from: 1, to: 1 },
      { from: 500, to: 500 },
      { from: 37, to: 37 },
      { from: empties[0], to: empties[0] },
      { from: empties[1], to: empties[3] },
      { from: 101, to: 333 },
      { from: 250, to: 249 }, // empty
    ];
    for (const range of ranges) {
      const part = run(raw, range);
      expect(
        part.map((u) => ({ ...u, uploads: u.uploads.map((x) => x.slice(1)) })),
        JSON.stringify(range),
      ).toEqual(full.slice(range.from - 1, Math.max(range.from - 1, range.to)));
      const txn = part.flatMap((u) => u.uploads.map((x) => x[0]));
      expect(txn).toEqual(txn.map((_, i) => i + 1));
    }
  });

  it('refuses ranges outside 1..users, and any partial range for the reference engine', () => {
    expect(() => run(raw, { from: 0, to: 3 })).toThrow(RangeError);
    expect(() => run(raw, { from: 1, to: 501 })).toThrow(RangeError);
    expect(() => run(raw, { from: 1.5, to: 3 })).toThrow(RangeError);
    const reference = parseConfig({ ...raw, engine: 'reference' });
    expect(() => createEngine(reference, { from: 1, to: 499 })).toThrow(/reference engine/);
    expect(Array.from(createEngine(reference, { from: 1, to: 500 }))).toHaveLength(500);
  });

  it("runs each user's streams as seedrandom.alea('', { state: userStreamState(seed, userId, purpose) }), draw for draw", () => {
    const cases = [
      [0, 1, PROFILE_STREAM],
      [42, 7, uploadStream(0)],
      [4_294_967_295, 10_000_000, uploadStream(3)],
      [123_456, 99_999, 0xffffffff],
    ];
    for (const [seed, uid, purpose] of cases) {
      const state = userStreamState(seed, uid, purpose);
      const pkg = seedrandom.alea('', { state });
      const st = new Float64Array(4);
      seedUserStream(st, streamKeys(purpose), seed, uid);
      for (let i = 0; i < 1000; i++) expect(aleaNext(st), `${seed}/${uid} draw ${i}`).toBe(pkg());
    }
  });

  it('derives valid, distinct alea states from (seed, userId, purpose)', () => {
    const seen = new Set<string>();
    const purposes = [PROFILE_STREAM, uploadStream(0), uploadStream(1), uploadStream(1000)];
    for (const purpose of purposes) {
      for (const seed of [0, 1, 2, 42, 4_294_967_295]) {
        for (let uid = 1; uid <= 2000; uid++) {
          const { s0, s1, s2, c } = userStreamState(seed, uid, purpose);
          for (const v of [s0, s1, s2]) {
            expect(v >= 0 && v < 1 && Number.isInteger(v * 2 ** 32)).toBe(true);
          }
          expect(Number.isInteger(c) && c >= 1 && c <= 2_091_637).toBe(true);
          seen.add(`${s0}/${s1}`);
        }
      }
    }
    expect(seen.size).toBe(purposes.length * 5 * 2000);
  });

  it("draws a user's rates from its profile stream: two normals by the inverse CDF, then the reference's lognormal", () => {
    const config = parseConfig({ engine: 'seedrandom', seed: 7, users: 10 });
    const batch = Array.from(seedrandomEngine(config, { from: 4, to: 4 }), (b) => snapshot(b))[0];
    const r = seedrandom.alea('', { state: userStreamState(7, 4, PROFILE_STREAM) });
    const z1 = normalQuantile(r() + 2 ** -33);
    const z2 = normalQuantile(r() + 2 ** -33);
    const free = lognormalParams(1, 0.7);
    const premium = lognormalParams(3, 1);
    expect(batch.rates).toEqual([
      fastExp(free.mu + free.sigma * z1) / 24,
      fastExp(premium.mu + premium.sigma * z2) / 24,
    ]);
    // fastExp stands in for the libm's exp.
    expect(batch.rates[0]).toBeCloseTo(exp(free.mu + free.sigma * z1) / 24, 12);
  });

  it('an uploadVariant keeps every cohort, rate and tier and draws independent uploads; variant 0 is the default', () => {
    const base = run(raw);
    expect(run(raw, undefined, true, 0)).toEqual(base);
    const variants = [1, 2, 4_294_967_294].map((v) => run(raw, undefined, true, v));
    const profile = (u: (typeof base)[number]) => ({
      userId: u.userId,
      cohort: u.cohort,
      rates: u.rates,
      tiers: u.tiers,
    });
    for (const other of variants) {
      expect(other.map(profile)).toEqual(base.map(profile));
      const same = other.filter(
        (u, i) => u.uploads.length > 0 && JSON.stringify(u.uploads) === JSON.stringify(base[i].uploads),
      );
      expect(same.length).toBeLessThan(10);
    }
    expect(JSON.stringify(variants[0])).not.toBe(JSON.stringify(variants[1]));
    // A range of a variant is the slice of that variant's full run.
    const full = run(raw, undefined, false, 2);
    expect(run(raw, { from: 101, to: 140 }, false, 2)).toEqual(full.slice(100, 140));
    for (const bad of [-1, 0.5, 4_294_967_295]) expect(() => run(raw, undefined, true, bad)).toThrow(RangeError);
    expect(() => createEngine(parseConfig({ ...raw, engine: 'reference' }), undefined, { uploadVariant: 1 })).toThrow(
      /reference engine/,
    );
  });

  it('fills freeRatePerHour and premiumRatePerHour in both engines', () => {
    for (const engine of ['reference', 'seedrandom'] as const) {
      const batches = Array.from(createEngine(parseConfig({ engine, users: 200 })), (b) => snapshot(b));
      const free = batches.map((b) => b.rates[0]);
      const premium = batches.map((b) => b.rates[1]);
      expect(free.every((v) => v > 0) && premium.every((v) => v > 0)).toBe(true);
      expect(new Set(free).size).toBe(200);
      const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
      expect(mean(free) * 24).toBeGreaterThan(0.8);
      expect(mean(free) * 24).toBeLessThan(1.2);
      expect(mean(premium) * 24).toBeGreaterThan(2.7);
      expect(mean(premium) * 24).toBeLessThan(3.3);
    }
  });
});

describe('seedrandom engine: integrity by construction', () => {
  // A fixed-seed stream of random configs (reproducible failures).
  const r = seedrandom.alea('tierdrift integrity configs');
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)];
  const configs = Array.from({ length: 30 }, (_, k) => {
    const users = 1 + Math.floor(r() * 2000);
    const start = utcTimestampSeconds('2024-01-01T00:00:00Z') + 1 + 2 * Math.floor(r() * 5_000_000); // odd seconds
    const windowSeconds = pick([7200, 7201, 10_801, 86_399, 3 * 86_400 + 1, 10 * 86_400 - 1, 60 * 86_400 + 3]);
    const windowHours = windowSeconds / 3600;
    const gap = pick([
      0,
      0.0001,
      1,
      windowHours / 3.2,
      windowHours / 3,
      windowHours / 2,
      windowHours * 0.999,
      r() * windowHours,
    ]);
    const highRates = windowSeconds <= 86_400 * 3 && users < 500;
    const rate = () => ({ mean: highRates ? pick([0.5, 50, 2000]) : pick([0.01, 1, 5]), std: pick([0, 0.5, 3]) });
    let cohortSizes: number[] | null = null;
    if (k % 3 === 0) {
      const cuts = [0, 0, 0, 0].map(() => Math.floor(r() * (users + 1))).sort((a, b) => a - b);
      cohortSizes = [cuts[0], cuts[1] - cuts[0], cuts[2] - cuts[1], cuts[3] - cuts[2], users - cuts[3]];
      if (k % 2 === 0) {
        cohortSizes[1] += cohortSizes[0];
        cohortSizes[0] = 0;
      }
    }
    return {
      engine: 'seedrandom',
      seed: Math.floor(r() * 4_294_967_296),
      users,
      start: formatUtcTimestamp(start),
      end: formatUtcTimestamp(start + windowSeconds),
      minTierGapHours: gap,
      freeUploadsPerDay: rate(),
      premiumUploadsPerDay: rate(),
      premiumLargeShare: pick([0, 0.4, 1]),
      upgradeSpike: {
        probability: pick([0, 0.9, 1]),
        maxUploads: pick([1, 2] as const),
        secondUploadProbability: pick([0, 0.15, 1]),
      },
      cohortSizes,
    };
  });

  it.each(configs.map((c, i) => [i, c] as const))('config %i passes every integrity check', async (_, raw) => {
    const config = parseConfig(raw);
    const outcome = await publishDataset(config, { storage: new LocalFolderStorage(tmp) });
    const failed = outcome.manifest.checks.filter((c) => !c.passed);
    expect(failed, JSON.stringify(raw)).toEqual([]);
    expect(outcome.manifest.checksPassed).toBe(true);
    expect(outcome.manifest.generator.engine).toBe('seedrandom');
    expect(outcome.manifest.files.find((f) => f.name === 'users.csv')!.rows).toBe(config.users);
  });
});
