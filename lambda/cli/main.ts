#!/usr/bin/env node
import type { GenerationConfig } from '../config/schema.js';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { ConfigError } from '../validation/validate.js';
import { OperationError } from '../errors/operation-error.js';
import { GENERATOR } from '../dataset/generator-info.js';
import { estimateOutput } from '../catalog/output-estimate.js';
import { outputProblem } from '../catalog/sync-rule.js';
import { readUserTimeline } from '../dataset/tier-timeline.js';
import { fetchDataset } from '../publish/fetch-dataset.js';
import { publishDataset } from '../publish/publish-dataset.js';
import { rerenderReport } from '../publish/report-files.js';
import { verifyDataset } from '../publish/verify-dataset.js';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../settings/function-settings.js';
import { LocalFolderStorage } from '../storage/local-folder-storage.js';
import { isS3Uri } from '../storage/s3-location.js';
import { CliError, failureReport } from './cli-error.js';
import { loadConfig, type ConfigFlags } from './config-input.js';
import { addEvaluationCommands } from './evaluation-commands.js';
import { checkOutputFolder } from './output-folder.js';
import { ProgressBar } from './progress-bar.js';
import { fetchReport, generateReport, timelineReport, verifyReport } from './report.js';
import { datasetTarget, publishTarget } from './storage-target.js';

// bin/tierdrift.mjs bundles the engine worker beside this file; run from source, there is none
// and generation and formatting stay on this thread (same bytes either way).
const bundledWorker = new URL('./engine-worker.mjs', import.meta.url);
const engineWorker = existsSync(bundledWorker) ? bundledWorker : undefined;
const bundledParquetWorker = new URL('./parquet-worker.mjs', import.meta.url);
const parquetWorker = existsSync(bundledParquetWorker) ? bundledParquetWorker : undefined;

const MAX_WORKERS = 64;
// Each worker thread has a heap of its own: the default stays at a few, whatever the machine.
const MAX_DEFAULT_WORKERS = 4;
const DEFAULT_WORKERS = Math.min(availableParallelism(), MAX_DEFAULT_WORKERS);

/**
 * Publishing to S3, the upload bounds the speed (1,000,000 users to the loopback S3 server: 33 s with
 * one thread or two), and a second thread only adds memory (339 MB peak against 236 MB), so one.
 * With Parquet, its encoding has a thread of its own, so one core fewer: on 2 cores, a second
 * engine thread took 1,000,000 users to ~345 MB (CSV + Parquet) for no gain in speed.
 */
function defaultWorkers(dest: string, config: GenerationConfig): number {
  if (isS3Uri(dest)) return 1;
  return config.formats.includes('parquet') ? Math.max(1, DEFAULT_WORKERS - 1) : DEFAULT_WORKERS;
}

function parseWorkers(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_WORKERS)
    throw new InvalidArgumentError(`must be an integer from 1 to ${MAX_WORKERS}`);
  return n;
}

function parseMaxOutputBytes(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || !Number.isSafeInteger(n))
    throw new InvalidArgumentError('must be a whole number of bytes, at least 1');
  return n;
}

const program = new Command()
  .name('tierdrift')
  .description('Reproducible synthetic temporal relational datasets: users, tiers, items, uploads')
  .version(GENERATOR.version)
  .option('--debug', 'on a failure, also print its stack and causes (or set TIERDRIFT_DEBUG=1)')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });

// The command and its target (`generate s3://b/x`): what an error that names no object was about.
let running = 'tierdrift';
program.hook('preAction', (_program, action) => {
  const target: unknown = action.args[0] ?? action.opts().dest;
  running = typeof target === 'string' ? `${action.name()} ${target}` : action.name();
});

function reportFailure(error: unknown): void {
  const debug = program.opts().debug === true || process.env.TIERDRIFT_DEBUG === '1';
  const { text, exitCode } = failureReport(error, running, debug);
  console.error(text);
  process.exitCode = exitCode;
}

program
  .command('generate')
  .description('generate a dataset and publish it under <dest>/seed=<seed>/<configHash>/')
  .option('-c, --config <file>', 'generation config (JSON); omitted keys take their defaults')
  .option('--seed <n>', 'override the seed (integer 0..4294967295)')
  .option('--users <n>', 'override the number of users (1..10000000)')
  .option('-d, --dest <dir|s3://bucket/root>', 'folder or S3 location to publish into', './out')
  .option('--json', 'print the manifest as JSON instead of a summary')
  .option(
    '--strict',
    'any failed integrity check fails the run (exit 1, nothing published), also when already published',
  )
  .addOption(
    new Option(
      '-w, --workers <n>',
      'threads that generate and format rows, 1..64 (the reference engine uses at most 2: one generates, one formats); same bytes for any n',
    )
      .argParser(parseWorkers)
      .default(undefined, `the machine's cores (one fewer with Parquet), at most ${MAX_DEFAULT_WORKERS}; 1 to S3`),
  )
  .addOption(
    new Option(
      '--max-output-bytes <n>',
      "refuse a config whose dataset is estimated above this many bytes, all files together (the API's MAX_OUTPUT_BYTES)",
    )
      .argParser(parseMaxOutputBytes)
      .default(DEFAULT_MAX_OUTPUT_BYTES),
  )
  .action(
    async (
      flags: ConfigFlags & { dest: string; json?: boolean; strict?: boolean; workers?: number; maxOutputBytes: number },
    ) => {
      const config = await loadConfig(flags);
      const tooBig = outputProblem(estimateOutput(config), flags.maxOutputBytes, '--max-output-bytes');
      if (tooBig) throw new CliError(new ConfigError([tooBig]).message);
      const { storage, prefix } = await publishTarget(flags.dest);
      const progress = new ProgressBar('generating');
      const outcome = await publishDataset(config, {
        storage,
        root: prefix,
        engineWorker,
        parquetWorker,
        workers: flags.workers ?? defaultWorkers(flags.dest, config),
        strict: flags.strict === true,
        onProgress: (done, total) => progress.update(done, total),
      });
      progress.clear();
      const location = storage.describe(outcome.prefix);
      console.log(flags.json ? JSON.stringify(outcome.manifest, null, 2) : generateReport(outcome, location));
    },
  );

program
  .command('verify')
  .description('re-hash every file of a dataset against its manifest (exit 1 on any mismatch)')
  .argument('<dataset>', 'dataset folder (the one holding manifest.json) or s3://bucket/<dataset prefix>')
  .action(async (location: string) => {
    const { storage, prefix } = await datasetTarget(location);
    const result = await verifyDataset(storage, prefix);
    console.log(verifyReport(result));
    if (!result.complete || !result.ok) process.exitCode = 1;
  });

program
  .command('fetch')
  .description('download a published dataset, checking every file against its manifest (exit 1 on any mismatch)')
  .argument('<dataset>', 's3://bucket/<dataset prefix> or dataset folder')
  .requiredOption('-o, --out <dir>', 'folder to download into (created if missing)')
  .action(async (location: string, flags: { out: string }) => {
    await checkOutputFolder(flags.out, '--out');
    const { storage, prefix } = await datasetTarget(location);
    const destination = new LocalFolderStorage(flags.out);
    const manifest = await fetchDataset(storage, prefix, destination);
    console.log(fetchReport(manifest, destination.root));
  });

program
  .command('tiers')
  .description("print a user's tier timeline, adjacent same-tier intervals merged")
  .argument('<dataset>', 'dataset folder (the one holding tiers.csv) or s3://bucket/<dataset prefix>')
  .requiredOption('-u, --user <id>', 'user id', (value) => {
    const id = Number(value);
    if (!Number.isInteger(id) || id < 1) throw new InvalidArgumentError('must be a positive integer user id');
    return id;
  })
  .action(async (location: string, flags: { user: number }) => {
    const { storage, prefix } = await datasetTarget(location);
    const spans = await readUserTimeline(storage, prefix, flags.user);
    if (!spans)
      throw new CliError(`no tiers.csv in ${location} (a dataset published with "formats": ["parquet"] has no CSV)`);
    if (spans.length === 0) throw new CliError(`user ${flags.user} has no tier intervals in ${location}`, 1);
    console.log(timelineReport(flags.user, spans));
  });

program
  .command('report')
  .description(
    "render a published dataset's report.html again, from its manifest and report-data.json (no regeneration)",
  )
  .argument('<dataset>', 'dataset folder (the one holding manifest.json) or s3://bucket/<dataset prefix>')
  .option('-o, --out <file>', 'where to write the page (default: report-<dataset id>.html in the current folder)')
  .action(async (location: string, flags: { out?: string }) => {
    const { storage, prefix } = await datasetTarget(location);
    const { manifest, html } = await rerenderReport(storage, prefix);
    const out = flags.out ?? `report-${manifest.datasetId}.html`;
    await writeFile(out, html).catch((error: unknown) => {
      throw new OperationError(`writing ${out}: ${(error as Error).message}`, { cause: error });
    });
    console.log(`wrote ${out} (${Buffer.byteLength(html)} bytes): the report of ${manifest.datasetId}`);
  });

addEvaluationCommands(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; usage errors were already printed by commander.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else {
    reportFailure(error);
  }
}
