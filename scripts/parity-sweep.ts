/**
 * A one-off parity sweep (not part of the test suite): random valid configs run through both the
 * reference generator and ours; every CSV compared by SHA-256.
 *
 *   npx tsx scripts/parity-sweep.ts [--cases 300] [--seed 1] [--jobs 2] [--keep DIR] [--reference PATH]
 *
 * --seed picks the sequence of random configs (the sweep is reproducible), --jobs how many cases
 * run at once, --keep where to keep the outputs of mismatching cases (default: a temp folder that
 * is kept only when something mismatched). Exit status 1 when any case mismatched.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { validateConfig } from '../lambda/validation/validate.js';
import type { GenerationConfig, GenerationConfigInput } from '../lambda/config/schema.js';
import { TABLE_NAMES, TABLES } from '../lambda/layout/tables.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { formatUtcTimestamp } from '../lambda/time/utc-timestamp.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const CSV_FILES = TABLE_NAMES.map((t) => TABLES[t].file);

const { values: flags } = parseArgs({
  options: {
    cases: { type: 'string', default: '300' },
    seed: { type: 'string', default: '1' },
    jobs: { type: 'string', default: '2' },
    keep: { type: 'string' },
    reference: { type: 'string', default: join(ROOT, '..', 'shared', 'reference', 'reference_generator.py') },
  },
});
const CASES = Number(flags.cases);
const JOBS = Math.max(1, Number(flags.jobs));
const REFERENCE = resolve(flags.reference);
if (!existsSync(REFERENCE)) {
  console.error(`reference generator not found: ${REFERENCE}`);
  process.exit(2);
}

// ---- random configs ------------------------------------------------------------------------

/** mulberry32: a small seeded PRNG for the sweep's own choices (unrelated to the generators). */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const rand = prng(Number(flags.seed));
const uniform = (lo: number, hi: number) => lo + (hi - lo) * rand();
const logUniform = (lo: number, hi: number) => Math.exp(uniform(Math.log(lo), Math.log(hi)));
const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
const chance = (p: number) => rand() < p;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)];

/** A probability, often exactly 0 or 1. */
const probability = () => (chance(0.1) ? 0 : chance(0.1) ? 1 : Math.round(rand() * 1e6) / 1e6);

function uploadRate(): { mean: number; std: number } {
  // About a quarter of the rates reach numpy's PTRS branch (lam >= 10 uploads an hour = 240 a day).
  const mean = chance(0.25) ? logUniform(150, 3000) : chance(0.05) ? logUniform(1e-6, 0.01) : logUniform(0.02, 100);
  const std = chance(0.1) ? 0 : mean * logUniform(0.01, 2);
  return { mean: Number(mean.toPrecision(pick([3, 6, 17]))), std: Number(std.toPrecision(pick([3, 6, 17]))) };
}

interface Case {
  id: number;
  input: GenerationConfigInput;
  config: GenerationConfig;
  windowHours: number;
  expectedUploads: number;
}

/** Budget per case, to keep the Python side to a few seconds. */
const MAX_EXPECTED_UPLOADS = 200_000;
const MAX_USER_HOURS = 600_000;

function randomCase(id: number): Case {
  for (;;) {
    const windowSeconds = Math.round(logUniform(2 * 3600, 60 * 86400)) | 1; // odd: odd-second bounds
    const startSeconds = Math.round(uniform(Date.UTC(2020, 0, 1), Date.UTC(2030, 0, 1)) / 1000) | 1;
    const windowHours = windowSeconds / 3600;
    const gapKind = rand();
    const minTierGapHours =
      gapKind < 0.1
        ? 0
        : gapKind < 0.25
          ? pick([1, 6, 12, 24, 36, 48]) // round values
          : gapKind < 0.45
            ? windowHours * uniform(0.33, 0.999) // short windows: the (high - low) / 2 fallbacks
            : Number((windowHours * uniform(0, 0.33)).toPrecision(pick([2, 5, 17])));
    const free = uploadRate();
    const premium = uploadRate();
    const maxRate = Math.max(free.mean, premium.mean);
    let users = Math.round(logUniform(1, 3000));
    // Shrink huge cases: the reference spends a few microseconds per hour drawn and per upload.
    const perUser = (maxRate * windowHours) / 24 + windowHours * 0.1;
    users = Math.max(
      1,
      Math.min(users, Math.floor(MAX_EXPECTED_UPLOADS / perUser), Math.floor(MAX_USER_HOURS / windowHours)),
    );
    const input: GenerationConfigInput = {
      seed: chance(0.05) ? pick([0, 4294967295]) : int(0, 4294967295),
      users,
      start: formatUtcTimestamp(startSeconds),
      end: formatUtcTimestamp(startSeconds + windowSeconds),
      minTierGapHours,
      freeUploadsPerDay: free,
      premiumUploadsPerDay: premium,
      premiumLargeShare: probability(),
      upgradeSpike: {
        probability: probability(),
        maxUploads: pick([1, 2] as const),
        secondUploadProbability: probability(),
      },
    };
    if (chance(0.3)) {
      // Explicit cohort sizes, often with empty cohorts.
      const weights: number[] = Array.from({ length: 5 }, () => (chance(0.35) ? 0 : rand()));
      if (!weights.some((w) => w > 0)) weights[int(0, 4)] = 1;
      const total = weights.reduce((a, b) => a + b, 0);
      const sizes = weights.map((w) => Math.floor((users * w) / total));
      sizes[weights.findIndex((w) => w > 0)] += users - sizes.reduce((a, b) => a + b, 0);
      input.cohortSizes = sizes;
    }
    const result = validateConfig(input);
    if (!result.ok) continue; // e.g. a gap rounded up to the window: draw again
    return { id, input, config: result.config, windowHours, expectedUploads: users * perUser };
  }
}

// ---- running both generators ---------------------------------------------------------------

function runReference(configPath: string, out: string): Promise<void> {
  return new Promise((ok, fail) => {
    const child = spawn('python3', [REFERENCE, '--config', configPath, '--out', out], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => (code === 0 ? ok() : fail(new Error(`reference exited ${code}: ${stderr.trim()}`))));
  });
}

async function runOurs(config: GenerationConfig, dest: string): Promise<string> {
  const outcome = await publishDataset(config, { storage: new LocalFolderStorage(dest) });
  return join(dest, ...outcome.prefix.split('/'));
}

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function firstDifference(ours: Buffer, ref: Buffer): string {
  const a = ours.toString('latin1').split('\r\n');
  const b = ref.toString('latin1').split('\r\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return `line ${i + 1}: ours ${JSON.stringify(a[i])} reference ${JSON.stringify(b[i])}`;
  }
  return 'same lines, different bytes';
}

interface Outcome {
  c: Case;
  ok: boolean;
  rows: number;
  detail: string[];
  error?: string;
  refSeconds: number;
  oursSeconds: number;
}

async function runCase(c: Case, work: string, keep: string): Promise<Outcome> {
  const dir = await mkdtemp(join(work, `case-${c.id}-`));
  const configPath = join(dir, 'config.json');
  await writeFile(configPath, `${JSON.stringify(c.input, null, 2)}\n`);
  const refOut = join(dir, 'reference');
  let refSeconds = 0;
  let oursSeconds = 0;
  try {
    const t0 = performance.now();
    const ref = runReference(configPath, refOut).then(() => (refSeconds = (performance.now() - t0) / 1000));
    const t1 = performance.now();
    const ours = runOurs(c.config, join(dir, 'ours')).then((d) => ((oursSeconds = (performance.now() - t1) / 1000), d));
    const [, oursDir] = await Promise.all([ref, ours]);
    const detail: string[] = [];
    let rows = 0;
    for (const file of CSV_FILES) {
      const [a, b] = await Promise.all([readFile(join(oursDir, file)), readFile(join(refOut, file))]);
      rows += b.toString('latin1').split('\r\n').length - 2;
      if (sha256(a) !== sha256(b)) detail.push(`${file}: ${firstDifference(a, b)}`);
    }
    if (detail.length) {
      const kept = join(keep, `case-${c.id}`);
      await mkdir(keep, { recursive: true });
      await rm(kept, { recursive: true, force: true });
      await rename(dir, kept);
      detail.push(`kept in ${kept}`);
    }
    return { c, ok: detail.length === 0, rows, detail, refSeconds, oursSeconds };
  } catch (error) {
    return { c, ok: false, rows: 0, detail: [], error: String(error), refSeconds, oursSeconds };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---- main ----------------------------------------------------------------------------------

const work = await mkdtemp(join(tmpdir(), 'tierdrift-sweep-'));
const keep = flags.keep ? resolve(flags.keep) : join(work, 'mismatches');
const cases = Array.from({ length: CASES }, (_, i) => randomCase(i + 1));
const outcomes: Outcome[] = [];
const started = performance.now();
let next = 0;
await Promise.all(
  Array.from({ length: JOBS }, async () => {
    while (next < cases.length) {
      const c = cases[next++];
      const o = await runCase(c, work, keep);
      outcomes.push(o);
      const tag = o.ok ? 'ok      ' : o.error ? 'ERROR   ' : 'MISMATCH';
      console.log(
        `${tag} #${c.id} users=${c.config.users} window=${c.windowHours.toFixed(2)}h gap=${c.config.minTierGapHours} ` +
          `free=${c.config.freeUploadsPerDay.mean}/${c.config.freeUploadsPerDay.std} ` +
          `premium=${c.config.premiumUploadsPerDay.mean}/${c.config.premiumUploadsPerDay.std} rows=${o.rows} ` +
          `(ref ${o.refSeconds.toFixed(1)}s, ours ${o.oursSeconds.toFixed(1)}s)`,
      );
      for (const d of o.detail) console.log(`    ${d}`);
      if (o.error) console.log(`    ${o.error}\n    config: ${JSON.stringify(c.input)}`);
    }
  }),
);

const failed = outcomes.filter((o) => !o.ok);
const count = (p: (c: Case) => boolean) => cases.filter(p).length;
const ptrs = (c: Case) => Math.max(c.config.freeUploadsPerDay.mean, c.config.premiumUploadsPerDay.mean) >= 240;
const fallback = (c: Case) => c.config.minTierGapHours * 3 >= c.windowHours;
console.log('\n== parity sweep summary ==');
console.log(
  `cases: ${outcomes.length} (config seed ${flags.seed}), ${((performance.now() - started) / 1000).toFixed(0)} s`,
);
console.log(`rows compared: ${outcomes.reduce((a, o) => a + o.rows, 0)}`);
console.log(
  `coverage: ${count(ptrs)} with a mean rate >= 240/day (PTRS), ${count(fallback)} with gap >= window/3 ((high-low)/2 fallbacks), ` +
    `${count((c) => c.config.cohortSizes !== null)} with cohortSizes, ${count((c) => c.config.users === 1)} with 1 user, ` +
    `${count((c) => c.config.minTierGapHours === 0)} with gap 0, ${count((c) => c.windowHours < 24)} windows under a day`,
);
console.log(
  `identical: ${outcomes.length - failed.length}, mismatched: ${failed.filter((o) => !o.error).length}, errors: ${failed.filter((o) => o.error).length}`,
);
for (const o of failed)
  console.log(
    `  #${o.c.id}: ${JSON.stringify(o.c.input)}\n    ${[...o.detail, o.error ?? ''].filter(Boolean).join('\n    ')}`,
  );
if (failed.length === 0) await rm(work, { recursive: true, force: true });
else console.log(`outputs of mismatching cases: ${keep}`);
process.exitCode = failed.length ? 1 : 0;
