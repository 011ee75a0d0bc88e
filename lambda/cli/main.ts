#!/usr/bin/env node
import { existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { GENERATOR } from '../dataset/generator-info.js';
import { readUserTimeline } from '../dataset/tier-timeline.js';
import { publishDataset } from '../publish/publish-dataset.js';
import { verifyDataset } from '../publish/verify-dataset.js';
import { LocalFolderStorage } from '../storage/local-folder-storage.js';
import { CliError } from './cli-error.js';
import { loadConfig, type ConfigFlags } from './config-input.js';
import { checkDestFolder } from './dest-folder.js';
import { ProgressBar } from './progress-bar.js';
import { generateReport, timelineReport, verifyReport } from './report.js';

// bin/tierdrift.mjs bundles the engine worker beside this file; run from source, there is none
// and generation stays on one thread (same bytes either way).
const bundledWorker = new URL('./engine-worker.mjs', import.meta.url);
const engineWorker = existsSync(bundledWorker) ? bundledWorker : undefined;

const program = new Command()
  .name('tierdrift')
  .description('Reproducible synthetic temporal relational datasets: users, tiers, items, uploads')
  .version(GENERATOR.version)
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text) });

program
  .command('generate')
  .description('generate a dataset and publish it under <dest>/seed=<seed>/<configHash>/')
  .option('-c, --config <file>', 'generation config (JSON); omitted keys take their defaults')
  .option('--seed <n>', 'override the seed (integer 0..4294967295)')
  .option('--users <n>', 'override the number of users (1..10000000)')
  .option('-d, --dest <dir>', 'folder to publish into', './out')
  .option('--json', 'print the manifest as JSON instead of a summary')
  .action(async (flags: ConfigFlags & { dest: string; json?: boolean }) => {
    const config = await loadConfig(flags);
    await checkDestFolder(flags.dest);
    const storage = new LocalFolderStorage(flags.dest);
    const progress = new ProgressBar('generating');
    const outcome = await publishDataset(config, {
      storage,
      engineWorker,
      onProgress: (done, total) => progress.update(done, total),
    });
    progress.clear();
    const location = dirname(storage.describe(outcome.manifestKey));
    console.log(flags.json ? JSON.stringify(outcome.manifest, null, 2) : generateReport(outcome, location));
  });

program
  .command('verify')
  .description('re-hash every file of a dataset folder against its manifest (exit 1 on any mismatch)')
  .argument('<dir>', 'dataset folder (the one holding manifest.json)')
  .action(async (dir: string) => {
    const result = await verifyDataset(new LocalFolderStorage(dir), '.');
    console.log(verifyReport(result));
    if (!result.complete || !result.ok) process.exitCode = 1;
  });

program
  .command('tiers')
  .description("print a user's tier timeline, adjacent same-tier intervals merged")
  .argument('<dir>', 'dataset folder (the one holding tiers.csv)')
  .requiredOption('-u, --user <id>', 'user id', (value) => {
    const id = Number(value);
    if (!Number.isInteger(id) || id < 1) throw new InvalidArgumentError('must be a positive integer user id');
    return id;
  })
  .action(async (dir: string, flags: { user: number }) => {
    const spans = await readUserTimeline(new LocalFolderStorage(dir), '.', flags.user);
    if (!spans) throw new CliError(`no tiers.csv in ${dir}`);
    if (spans.length === 0) throw new CliError(`user ${flags.user} has no tier intervals in ${dir}`, 1);
    console.log(timelineReport(flags.user, spans));
  });

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    // Help and version exit 0; usage errors were already printed by commander.
    process.exitCode = error.exitCode === 0 ? 0 : 2;
  } else if (error instanceof CliError) {
    console.error(`error: ${error.message}`);
    process.exitCode = error.exitCode;
  } else {
    console.error(error);
    process.exitCode = 1;
  }
}
