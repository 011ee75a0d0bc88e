/**
 * `npm run bench [-- --quick] [-- --skip-reference] [-- --big]`
 *
 * Runs the reference generator (Python, ../shared/reference/reference_generator.py) and ours (the
 * CLI, as `npm run generate` runs it: `node bin/tierdrift.mjs generate`) on the default config
 * at 10,000 and 100,000 users, each in its own child process, and reports wall time, peak RSS and
 * whether the CSVs are byte-identical; then our peak RSS at 1,000,000 users, and what formatting
 * the CSVs costs with our CSV writers (lambda/rows/csv-format.ts) versus csv-stringify; then
 * `generate --workers 2` against `--workers 1` (seedrandom engine, 1,000,000 users, interleaved);
 * then the peak RSS of publishing to S3 (a loopback S3 server in a process of its own) beside the
 * local folder's, at 200,000 and 1,000,000 users. Prints only; writes nothing that stays.
 *
 *   --quick           10,000 users only (no 100,000 or 1,000,000 runs; workers compared at 100,000 users;
 *                     S3 against local folder at 20,000 users)
 *   --skip-reference  our figures only
 *   --big             also 10,000,000 users with --workers 2 (~200 million upload rows, ~9 GB written, then deleted)
 *   --formats-users N the output formats compared at N users (default 1,000,000; 100,000 with --quick)
 *   --formats-only    only the output formats: CSV, CSV + Parquet and Parquet only (wall time, peak RSS, bytes)
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import { datasetAddress } from '../lambda/config/dataset-id.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { CsvBuffer } from '../lambda/rows/csv-buffer.js';
import { headerLine, writeTierRows, writeUploadRows, writeUserRow } from '../lambda/rows/csv-format.js';
import { TABLES } from '../lambda/layout/tables.js';
import { createEngine } from '../lambda/engine/create-engine.js';
import { tierName } from '../lambda/engine/user-batch.js';
import { formatUtcTimestamp } from '../lambda/time/utc-timestamp.js';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
const REFERENCE = resolve(ROOT, '..', 'shared', 'reference', 'reference_generator.py');
const CSV_FILES = ['users.csv', 'tiers.csv', 'items.csv', 'uploads.csv'];
const SPEED_TARGET = 40; // x the reference at 100,000 users
const RSS_TARGET_MB = 300; // at 1,000,000 users
const SEEDRANDOM_TARGET = 10; // x the reference engine's upload rows per second, in process, one core
const WORKERS_TARGET = 1.7; // --workers 2 x faster than --workers 1 (seedrandom, 1,000,000 users)
const BIG_USERS = 10_000_000;
const BIG_SECONDS_TARGET = 120; // --workers 2 at BIG_USERS
const BIG_RSS_TARGET_MB = 300;
const S3_RSS_TARGET_MB = 300; // publishing to S3, at any size
const CSV_AND_PARQUET_TARGET = 2; // x the wall time of a CSV-only run, at 1,000,000 users
const PARQUET_ONLY_TARGET = 1.3; // x the wall time of a CSV-only run, at 1,000,000 users
const PARQUET_BYTES_TARGET = 0.12; // Parquet bytes / CSV bytes of the same dataset
const FORMATS_RSS_TARGET_MB = 300; // in every mode

const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    'skip-reference': { type: 'boolean', default: false },
    big: { type: 'boolean', default: false },
    'formats-users': { type: 'string' },
    'formats-only': { type: 'boolean', default: false },
  },
});

// ---- measuring a child process ---------------------------------------------------------------

interface Measurement {
  seconds: number;
  peakRssMb: number | undefined;
  /** User + system CPU seconds of the process (all threads), from GNU time. */
  cpuSeconds?: number;
}

/** GNU time's `-f '%e %M %U %S'`, if /usr/bin/time is GNU time (BusyBox and BSD time lack `-f %M`). */
const GNU_TIME = (() => {
  // TIERDRIFT_BENCH_NO_GNU_TIME=1 exercises the /proc fallback on a machine that has GNU time.
  if (process.env.TIERDRIFT_BENCH_NO_GNU_TIME || !existsSync('/usr/bin/time')) return false;
  const r = spawnSync('/usr/bin/time', ['-f', 'BENCH %e %M %U %S', 'true'], { encoding: 'utf8' });
  return r.status === 0 && /BENCH [\d.]+ \d+ [\d.]+ [\d.]+/.test(r.stderr);
})();
const RSS_METHOD = GNU_TIME
  ? 'GNU time %M'
  : existsSync('/proc/self/status')
    ? 'polling /proc/<pid>/status VmHWM every 20 ms'
    : 'not measured (no GNU time, no /proc)';

function measure(command: string, args: string[], env?: Record<string, string>): Promise<Measurement> {
  const argv = GNU_TIME ? ['/usr/bin/time', '-f', 'TIERDRIFT_BENCH %e %M %U %S', command, ...args] : [command, ...args];
  return new Promise((ok, fail) => {
    const started = performance.now();
    const child = spawn(argv[0], argv.slice(1), {
      cwd: ROOT,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    let hwmKb = 0;
    const poll = GNU_TIME
      ? undefined
      : setInterval(() => {
          try {
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
            if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
          } catch {
            // gone already
          }
        }, 20);
    child.on('error', fail);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (poll) clearInterval(poll);
      const timed = /TIERDRIFT_BENCH ([\d.]+) (\d+) ([\d.]+) ([\d.]+)/.exec(stderr);
      if (code !== 0) {
        fail(new Error(`${command} ${args.join(' ')} exited ${code}:\n${stderr.replace(/TIERDRIFT_BENCH.*\n?/, '')}`));
        return;
      }
      const kb = timed ? Number(timed[2]) : hwmKb;
      ok({
        seconds,
        peakRssMb: kb > 0 ? kb / 1024 : undefined,
        cpuSeconds: timed ? Number(timed[3]) + Number(timed[4]) : undefined,
      });
    });
  });
}

async function csvHashes(dir: string): Promise<string[]> {
  return Promise.all(
    CSV_FILES.map(async (f) =>
      createHash('sha256')
        .update(await readFile(join(dir, f)))
        .digest('hex'),
    ),
  );
}

// ---- the runs --------------------------------------------------------------------------------

function referenceUnavailable(): string | undefined {
  if (flags['skip-reference']) return '--skip-reference';
  if (!existsSync(REFERENCE)) return `${REFERENCE} not found`;
  const py = spawnSync('python3', ['-c', 'import numpy'], { encoding: 'utf8' });
  if (py.error) return 'python3 not found';
  if (py.status !== 0) return 'python3 has no numpy';
  return undefined;
}

interface Row {
  users: number;
  reference?: Measurement;
  ours: Measurement;
  /** Ours with `--workers 1` (one thread generates and formats while the main one writes). */
  oursOneWorker?: Measurement;
  identical?: boolean;
}

const work = await mkdtemp(join(tmpdir(), 'tierdrift-bench-'));

/** Our CLI; without `workers`, with its default (the machine's cores, at most 4), as `npm run generate` runs. */
async function runOurs(
  users: number,
  engine: 'reference' | 'seedrandom' = 'reference',
  workers?: number,
): Promise<{ m: Measurement; dir: string }> {
  const dest = join(work, `ours-${users}`);
  const workerFlags = workers === undefined ? [] : ['--workers', String(workers)];
  const m = await measure(process.execPath, [
    'bin/tierdrift.mjs',
    'generate',
    '--config',
    await configFileFor(users, engine),
    '--dest',
    dest,
    ...workerFlags,
  ]);
  const prefix = datasetAddress(parseConfig({ users, engine })).prefix;
  return { m, dir: join(dest, ...prefix.split('/')) };
}

async function configFileFor(users: number, engine: 'reference' | 'seedrandom'): Promise<string> {
  const configFile = join(work, `config-${engine}-${users}.json`);
  await writeFile(configFile, JSON.stringify({ users, engine }));
  return configFile;
}

/**
 * Our CLI publishing the default config to S3: a loopback S3 server (bench/s3-server-process.ts)
 * started for the run in a process of its own, so that its memory (it keeps the objects) is not
 * counted, and stopped after it.
 */
async function runOursToS3(users: number): Promise<Measurement> {
  const server = spawn(process.execPath, ['--import', 'tsx', 'bench/s3-server-process.ts'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let serverErr = ''; // the SDK's Node-version notice, or why it failed
  server.stderr.on('data', (d: Buffer) => (serverErr += d.toString()));
  try {
    const endpoint = await new Promise<string>((ok, fail) => {
      let out = '';
      server.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('\n')) ok(out.trim());
      });
      server.on('error', fail);
      server.on('exit', (code) =>
        fail(new Error(`the loopback S3 server exited (${code}) before it listened:\n${serverErr}`)),
      );
    });
    const env = {
      AWS_ENDPOINT_URL_S3: endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'bench',
      AWS_SECRET_ACCESS_KEY: 'bench',
      S3_FORCE_PATH_STYLE: 'true',
    };
    return await measure(
      process.execPath,
      [
        'bin/tierdrift.mjs',
        'generate',
        '--config',
        await configFileFor(users, 'reference'),
        '--dest',
        's3://bench/run',
      ],
      env,
    );
  } finally {
    server.stdin.end();
    if (server.exitCode === null) await new Promise((done) => server.once('exit', done));
  }
}

/**
 * Peak RSS of publishing to S3 beside publishing to a local folder (same config, same CLI), each
 * run in its own process; `known` holds local-folder figures measured already (by users).
 */
async function compareS3(sizes: number[], known: Map<number, Measurement>): Promise<void> {
  console.log(
    `\npublishing to S3 (loopback server in its own process) vs to a local folder, default config (${load()}):`,
  );
  for (const users of sizes) {
    let local = known.get(users);
    if (!local) {
      process.stdout.write(`  local folder, ${users} users ... `);
      local = (await runOurs(users)).m;
      await rm(join(work, `ours-${users}`), { recursive: true, force: true });
      console.log(`${fmtS(local.seconds)} s`);
    }
    process.stdout.write(`  S3, ${users} users ... `);
    const s3 = await runOursToS3(users);
    console.log(`${fmtS(s3.seconds)} s`);
    console.log(
      `  ${users.toLocaleString('en-US')} users: S3 ${fmtS(s3.seconds)} s, peak RSS ${fmtMb(s3)}; local folder ${fmtS(local.seconds)} s, peak RSS ${fmtMb(local)}`,
    );
    console.log(
      s3.peakRssMb === undefined
        ? `target S3 peak RSS <= ${S3_RSS_TARGET_MB} MB: not measured (${RSS_METHOD})`
        : `target S3 peak RSS <= ${S3_RSS_TARGET_MB} MB at ${users.toLocaleString('en-US')} users: ${s3.peakRssMb.toFixed(0)} MB -> ${s3.peakRssMb <= S3_RSS_TARGET_MB ? 'PASS' : 'FAIL'}`,
    );
  }
}

async function runReference(users: number): Promise<{ m: Measurement; dir: string }> {
  const configFile = join(work, `config-${users}.json`);
  await writeFile(configFile, JSON.stringify({ users }));
  const out = join(work, `reference-${users}`);
  const m = await measure('python3', [REFERENCE, '--config', configFile, '--out', out]);
  return { m, dir: out };
}

/** A day-cached timestamp formatter, as a user of csv-stringify would write one (strings, not bytes). */
class TimestampText {
  private day = Number.NaN;
  private prefix = '';
  format(epochSeconds: number): string {
    const day = Math.floor(epochSeconds / 86400);
    if (day !== this.day) {
      this.day = day;
      this.prefix = formatUtcTimestamp(day * 86400).slice(0, 11);
    }
    let s = epochSeconds - day * 86400;
    const h = (s / 3600) | 0;
    s -= h * 3600;
    const m = (s / 60) | 0;
    s -= m * 60;
    return `${this.prefix}${h < 10 ? '0' : ''}${h}:${m < 10 ? '0' : ''}${m}:${s < 10 ? '0' : ''}${s}Z`;
  }
}

const FLUSH_AT = 1 << 20;

/**
 * Formatting cost, in process, over the same rows: ours (writeUserRow/writeTierRows/writeUploadRows
 * into a CsvBuffer, as publishDataset does) versus csv-stringify's sync API fed row arrays.
 */
function formattingCost(users: number) {
  const config = parseConfig({ users });
  const tables = ['users', 'tiers', 'uploads'] as const;
  type Table = (typeof tables)[number];
  const ourHash = Object.fromEntries(tables.map((t) => [t, createHash('sha256')])) as Record<
    Table,
    ReturnType<typeof createHash>
  >;
  const theirHash = Object.fromEntries(tables.map((t) => [t, createHash('sha256')])) as Record<
    Table,
    ReturnType<typeof createHash>
  >;
  const buffers = Object.fromEntries(tables.map((t) => [t, new CsvBuffer()])) as Record<Table, CsvBuffer>;
  const records: Record<Table, unknown[][]> = { users: [], tiers: [], uploads: [] };
  let oursMs = 0;
  let buildMs = 0;
  let stringifyMs = 0;
  let first = true;
  const flushRecords = () => {
    for (const t of tables) {
      const t0 = performance.now();
      const text = stringify(records[t], { record_delimiter: '\r\n', header: first, columns: [...TABLES[t].columns] });
      stringifyMs += performance.now() - t0;
      theirHash[t].update(text, 'latin1');
      records[t] = [];
    }
    first = false;
  };
  const takeBuffer = (t: Table) => {
    const t0 = performance.now();
    const bytes = buffers[t].take();
    oursMs += performance.now() - t0;
    ourHash[t].update(bytes);
  };

  for (const t of tables) {
    const t0 = performance.now();
    const header = headerLine(t);
    oursMs += performance.now() - t0;
    ourHash[t].update(header, 'latin1');
  }
  const tierTimes = new TimestampText();
  const uploadTimes = new TimestampText();
  for (const batch of createEngine(config)) {
    let t0 = performance.now();
    writeUserRow(batch, buffers.users);
    writeTierRows(batch, buffers.tiers);
    writeUploadRows(batch, buffers.uploads);
    oursMs += performance.now() - t0;
    for (const t of tables) if (buffers[t].length >= FLUSH_AT) takeBuffer(t);

    t0 = performance.now();
    records.users.push([batch.userId, `User ${String(batch.userId).padStart(3, '0')}`]);
    for (let t = 0; t < batch.tierCount; t++) {
      records.tiers.push([
        batch.userId,
        tierTimes.format(batch.tierFrom[t]),
        tierTimes.format(batch.tierUntil[t]),
        tierName(batch.tierIsPremium[t]),
      ]);
    }
    for (let j = 0; j < batch.uploadCount; j++) {
      records.uploads.push([
        batch.uploadTxnId[j],
        batch.userId,
        batch.uploadItemId[j],
        uploadTimes.format(batch.uploadAt[j]),
      ]);
    }
    buildMs += performance.now() - t0;
    if (batch.userId % 2000 === 0) flushRecords();
  }
  flushRecords();
  for (const t of tables) takeBuffer(t);
  const same = tables.every((t) => ourHash[t].digest('hex') === theirHash[t].digest('hex'));
  return { oursMs, buildMs, stringifyMs, same };
}

/** Upload rows per second of an engine on one core, in a fresh process (bench/engine-rate.ts). */
function engineRowsPerSecond(
  engine: 'reference' | 'seedrandom',
  users: number,
): { rows: number; seconds: number; runs: number } {
  const run = spawnSync(process.execPath, ['--import', 'tsx', 'bench/engine-rate.ts', engine, String(users)], {
    cwd: ROOT,
    encoding: 'utf8',
  });
  if (run.status !== 0) throw new Error(`bench/engine-rate.ts ${engine} failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as { rows: number; seconds: number; runs: number };
}

const fmtCpu = (m: Measurement) => (m.cpuSeconds === undefined ? '' : `, CPU ${m.cpuSeconds.toFixed(2)} s`);
const load = () => `load average ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`;

/**
 * `generate --workers 2` against `--workers 1` (seedrandom engine, default config, local folder):
 * the runs interleaved (1, 2, 1, 2) so both see the same machine, best of two each.
 */
async function compareWorkers(users: number): Promise<void> {
  console.log(
    `\ngenerate --workers 2 vs --workers 1 (seedrandom engine, ${users.toLocaleString('en-US')} users, local folder, interleaved, best of 2; ${load()}):`,
  );
  const seconds: Record<1 | 2, number> = { 1: Infinity, 2: Infinity }; // the best of the rounds
  for (let round = 0; round < 2; round++) {
    for (const workers of [1, 2] as const) {
      process.stdout.write(`  --workers ${workers} ... `);
      const { m } = await runOurs(users, 'seedrandom', workers);
      await rm(join(work, `ours-${users}`), { recursive: true, force: true });
      console.log(`${fmtS(m.seconds)} s${fmtCpu(m)}, peak RSS ${fmtMb(m)}`);
      seconds[workers] = Math.min(seconds[workers], m.seconds);
    }
  }
  const ratio = seconds[1] / seconds[2];
  const verdict =
    users === 1_000_000 ? (ratio >= WORKERS_TARGET ? 'PASS' : 'FAIL') : 'not measured at 1,000,000 users (--quick)';
  console.log(
    `target --workers 2 >= ${WORKERS_TARGET}x faster than --workers 1 at 1,000,000 users: ${ratio.toFixed(2)}x -> ${verdict} (${load()} after)`,
  );
}

/** `generate --workers 2` at 10,000,000 users: time and peak RSS against their targets. */
async function bigRun(): Promise<void> {
  console.log(
    `\n--big: generate --workers 2, seedrandom engine, ${BIG_USERS.toLocaleString('en-US')} users, local folder (${load()}):`,
  );
  process.stdout.write('  running ... ');
  const { m } = await runOurs(BIG_USERS, 'seedrandom', 2);
  await rm(join(work, `ours-${BIG_USERS}`), { recursive: true, force: true });
  console.log(`${fmtS(m.seconds)} s${fmtCpu(m)}, peak RSS ${fmtMb(m)}`);
  console.log(
    `target under ${BIG_SECONDS_TARGET} s: ${fmtS(m.seconds)} s -> ${m.seconds < BIG_SECONDS_TARGET ? 'PASS' : 'FAIL'}`,
  );
  console.log(
    m.peakRssMb === undefined
      ? `target peak RSS <= ${BIG_RSS_TARGET_MB} MB: not measured (${RSS_METHOD})`
      : `target peak RSS <= ${BIG_RSS_TARGET_MB} MB: ${m.peakRssMb.toFixed(0)} MB -> ${m.peakRssMb <= BIG_RSS_TARGET_MB ? 'PASS' : 'FAIL'}`,
  );
}

/**
 * The output formats against each other (default config, the CLI's default --workers, local
 * folder), interleaved round by round, best of 2 (1 with --quick): CSV only, CSV + Parquet,
 * Parquet only; wall time, CPU and peak RSS, and the Parquet bytes against the CSV bytes.
 */
async function compareFormats(users: number): Promise<void> {
  console.log(
    `\noutput formats, default config, ${users.toLocaleString('en-US')} users, local folder (interleaved, best of ${flags.quick ? 1 : 2}; ${load()}):`,
  );
  const modes = [['csv'], ['csv', 'parquet'], ['parquet']] as const;
  const best = new Map<string, Measurement>();
  const bytes = { csv: 0, parquet: 0 };
  for (let round = 0; round < (flags.quick ? 1 : 2); round++) {
    for (const formats of modes) {
      const mode = formats.join(' + ');
      const config = { users, formats: [...formats] };
      const configFile = join(work, `config-formats-${formats.join('-')}.json`);
      await writeFile(configFile, JSON.stringify(config));
      const dest = join(work, 'formats');
      process.stdout.write(`  ${mode} ... `);
      const m = await measure(process.execPath, [
        'bin/tierdrift.mjs',
        'generate',
        '--config',
        configFile,
        '--dest',
        dest,
      ]);
      if (formats.length === 2) {
        const dir = join(dest, ...datasetAddress(parseConfig(config)).prefix.split('/'));
        const manifest = JSON.parse(await readFile(join(dir, 'manifest.json'), 'utf8')) as {
          files: Array<{ name: string; bytes: number }>;
        };
        bytes.csv = manifest.files.filter((f) => f.name.endsWith('.csv')).reduce((a, f) => a + f.bytes, 0);
        bytes.parquet = manifest.files.filter((f) => f.name.endsWith('.parquet')).reduce((a, f) => a + f.bytes, 0);
      }
      await rm(dest, { recursive: true, force: true });
      console.log(`${fmtS(m.seconds)} s${fmtCpu(m)}, peak RSS ${fmtMb(m)}`);
      const known = best.get(mode);
      if (!known || m.seconds < known.seconds) best.set(mode, m);
    }
  }
  const wallOf = (mode: string): number => {
    const m = best.get(mode);
    if (!m) throw new Error(`no ${mode} run`);
    return m.seconds;
  };
  const at1M = users === 1_000_000;
  const verdict = (pass: boolean) => (at1M ? (pass ? 'PASS' : 'FAIL') : `not measured at 1,000,000 users (${users})`);
  for (const [mode, target] of [
    ['csv + parquet', CSV_AND_PARQUET_TARGET],
    ['parquet', PARQUET_ONLY_TARGET],
  ] as const) {
    const ratio = wallOf(mode) / wallOf('csv');
    console.log(
      `target ${mode} <= ${target}x the wall time of csv: ${ratio.toFixed(2)}x -> ${verdict(ratio <= target)}`,
    );
  }
  for (const [mode, m] of best)
    console.log(
      m.peakRssMb === undefined
        ? `target peak RSS <= ${FORMATS_RSS_TARGET_MB} MB (${mode}): not measured (${RSS_METHOD})`
        : `target peak RSS <= ${FORMATS_RSS_TARGET_MB} MB (${mode}): ${m.peakRssMb.toFixed(0)} MB -> ${verdict(m.peakRssMb <= FORMATS_RSS_TARGET_MB)}`,
    );
  const share = bytes.parquet / bytes.csv;
  console.log(
    `target Parquet <= ${PARQUET_BYTES_TARGET * 100}% of the CSV bytes: ${(bytes.parquet / 1e6).toFixed(1)} MB of ${(bytes.csv / 1e6).toFixed(1)} MB = ${(share * 100).toFixed(1)}% -> ${share <= PARQUET_BYTES_TARGET ? 'PASS' : 'FAIL'}`,
  );
}

// ---- main ------------------------------------------------------------------------------------

const fmtS = (s: number | undefined) => (s === undefined ? '-' : s.toFixed(2));
const fmtMb = (m: Measurement | undefined) =>
  m === undefined ? '-' : m.peakRssMb === undefined ? 'n/a' : `${m.peakRssMb.toFixed(0)} MB`;

const formatsUsers = Number(flags['formats-users'] ?? (flags.quick ? 100_000 : 1_000_000));
if (!Number.isInteger(formatsUsers) || formatsUsers < 1) throw new Error('--formats-users must be a positive integer');

async function fullBench(): Promise<void> {
  const noReference = referenceUnavailable();
  const sizes = flags.quick ? [10_000] : [10_000, 100_000];
  console.log(
    `tierdrift bench: node ${process.version}, ${availableParallelism()} cores, peak RSS via ${RSS_METHOD}; ours = the CLI with its default --workers unless stated`,
  );
  console.log(noReference ? `reference: not run (${noReference}); our figures only` : `reference: ${REFERENCE}`);

  // The first CLI start builds its bundle; keep that out of the measurements.
  spawnSync(process.execPath, ['bin/tierdrift.mjs', '--version'], { cwd: ROOT });
  const rows: Row[] = [];
  for (const users of sizes) {
    const row: Row = { users, ours: undefined as unknown as Measurement };
    let refHashes: string[] | undefined;
    if (!noReference) {
      process.stdout.write(`  reference, ${users} users ... `);
      const ref = await runReference(users);
      row.reference = ref.m;
      refHashes = await csvHashes(ref.dir);
      await rm(ref.dir, { recursive: true, force: true });
      console.log(`${fmtS(ref.m.seconds)} s`);
    }
    process.stdout.write(`  ours, ${users} users ... `);
    const ours = await runOurs(users);
    row.ours = ours.m;
    const ourHashes = await csvHashes(ours.dir);
    await rm(join(work, `ours-${users}`), { recursive: true, force: true });
    console.log(`${fmtS(ours.m.seconds)} s`);
    if (users === 100_000) {
      process.stdout.write(`  ours, ${users} users, --workers 1 ... `);
      row.oursOneWorker = (await runOurs(users, 'reference', 1)).m;
      await rm(join(work, `ours-${users}`), { recursive: true, force: true });
      console.log(`${fmtS(row.oursOneWorker.seconds)} s`);
    }
    if (refHashes) row.identical = refHashes.every((h, i) => h === ourHashes[i]);
    rows.push(row);
  }

  let million: Measurement | undefined;
  if (!flags.quick) {
    process.stdout.write('  ours, 1000000 users ... ');
    const run = await runOurs(1_000_000);
    million = run.m;
    await rm(join(work, 'ours-1000000'), { recursive: true, force: true });
    console.log(`${fmtS(million.seconds)} s`);
  }

  const formatUsers = sizes[sizes.length - 1];
  process.stdout.write(`  CSV formatting in process, ${formatUsers} users ... `);
  const cost = formattingCost(formatUsers);
  console.log('done\n');

  const header = ['config', 'reference s', 'ours s', 'speed ratio', 'reference peak RSS', 'ours peak RSS', 'identical'];
  const table = rows.map((r) => [
    `default, ${r.users.toLocaleString('en-US')} users`,
    fmtS(r.reference?.seconds),
    fmtS(r.ours.seconds),
    r.reference ? `${(r.reference.seconds / r.ours.seconds).toFixed(1)}x` : '-',
    fmtMb(r.reference),
    fmtMb(r.ours),
    r.identical === undefined ? '-' : r.identical ? 'yes' : 'NO',
  ]);
  if (million) table.push(['default, 1,000,000 users', '-', fmtS(million.seconds), '-', '-', fmtMb(million), '-']);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(header));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const r of table) console.log(line(r));
  console.log('');

  const at100k = rows.find((r) => r.users === 100_000);
  if (at100k?.reference) {
    const ratio = at100k.reference.seconds / at100k.ours.seconds;
    console.log(
      `target speed >= ${SPEED_TARGET}x the reference at 100,000 users: ${ratio.toFixed(1)}x -> ${ratio >= SPEED_TARGET ? 'PASS' : 'FAIL'}`,
    );
    if (at100k.oursOneWorker)
      console.log(
        `  (with --workers 1: ${fmtS(at100k.oursOneWorker.seconds)} s = ${(at100k.reference.seconds / at100k.oursOneWorker.seconds).toFixed(1)}x)`,
      );
  } else {
    console.log(
      `target speed >= ${SPEED_TARGET}x the reference at 100,000 users: not measured (${noReference ?? '--quick'})`,
    );
  }
  if (million?.peakRssMb !== undefined) {
    console.log(
      `target peak RSS <= ${RSS_TARGET_MB} MB at 1,000,000 users: ${million.peakRssMb.toFixed(0)} MB -> ${million.peakRssMb <= RSS_TARGET_MB ? 'PASS' : 'FAIL'}`,
    );
  } else {
    console.log(
      `target peak RSS <= ${RSS_TARGET_MB} MB at 1,000,000 users: not measured (${million ? RSS_METHOD : '--quick'})`,
    );
  }
  const mismatched = rows.filter((r) => r.identical === false);
  if (mismatched.length)
    console.log(`OUTPUTS DIFFER from the reference at: ${mismatched.map((r) => r.users).join(', ')} users`);

  // The share of the run: our CLI run of the same size is the whole; swapping formatters changes only the formatting part.
  const runMs = rows[rows.length - 1].ours.seconds * 1000;
  const theirMs = cost.buildMs + cost.stringifyMs;
  console.log(
    `\nCSV formatting, ${formatUsers.toLocaleString('en-US')} users (same rows, ${cost.same ? 'same bytes' : 'BYTES DIFFER'}):\n` +
      `  ours (CsvBuffer writers): ${cost.oursMs.toFixed(0)} ms = ${((100 * cost.oursMs) / runMs).toFixed(1)}% of our ${(runMs / 1000).toFixed(2)} s run\n` +
      `  csv-stringify: ${theirMs.toFixed(0)} ms (${cost.buildMs.toFixed(0)} ms building row arrays with formatted timestamps + ` +
      `${cost.stringifyMs.toFixed(0)} ms stringify()), ${(theirMs / cost.oursMs).toFixed(1)}x ours\n` +
      `  csv-stringify would cost ${((100 * theirMs) / (runMs - cost.oursMs + theirMs)).toFixed(1)}% of the run ` +
      `(the run with csv-stringify in place of ours: ${((runMs - cost.oursMs + theirMs) / 1000).toFixed(2)} s)`,
  );

  // ---- seedrandom engine vs reference engine, upload rows per second on one core ----
  const engineUsers = flags.quick ? 20_000 : 100_000;
  console.log(
    `\nseedrandom engine vs reference engine, upload rows per second on one core (each in a fresh process, no output, ${engineUsers.toLocaleString('en-US')} users, default config, best of the runs that fit in ~2 s, at least 3):`,
  );
  const refRate = engineRowsPerSecond('reference', engineUsers);
  const srRate = engineRowsPerSecond('seedrandom', engineUsers);
  const perSecond = (r: { rows: number; seconds: number }) => r.rows / r.seconds;
  for (const [name, r] of [
    ['reference', refRate],
    ['seedrandom', srRate],
  ] as const) {
    console.log(
      `  ${name.padEnd(10)} ${r.rows.toLocaleString('en-US')} rows in ${r.seconds.toFixed(3)} s (best of ${r.runs}) = ${(perSecond(r) / 1e6).toFixed(2)} M rows/s`,
    );
  }
  const engineRatio = perSecond(srRate) / perSecond(refRate);
  console.log(
    `target seedrandom >= ${SEEDRANDOM_TARGET}x the reference engine's rows/s: ${engineRatio.toFixed(2)}x -> ${engineRatio >= SEEDRANDOM_TARGET ? 'PASS' : 'FAIL'}`,
  );
  if (!flags.quick) {
    process.stdout.write('  CLI end to end, seedrandom engine, 100000 users ... ');
    const cli = await runOurs(100_000, 'seedrandom');
    await rm(join(work, 'ours-100000'), { recursive: true, force: true });
    console.log(`${fmtS(cli.m.seconds)} s, peak RSS ${fmtMb(cli.m)}`);
  }

  await compareWorkers(flags.quick ? 100_000 : 1_000_000);
  await compareS3(flags.quick ? [20_000] : [200_000, 1_000_000], new Map(million ? [[1_000_000, million]] : []));
  await compareFormats(formatsUsers);
  if (flags.big) await bigRun();
}

try {
  if (flags['formats-only']) {
    // The first CLI start builds its bundle; keep that out of the measurements.
    spawnSync(process.execPath, ['bin/tierdrift.mjs', '--version'], { cwd: ROOT });
    await compareFormats(formatsUsers);
  } else await fullBench();
} finally {
  await rm(work, { recursive: true, force: true });
}
