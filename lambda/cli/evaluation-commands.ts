import { createWriteStream } from 'node:fs';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { baselinePredictions } from '../evaluation/baselines.js';
import { BASELINE_KINDS, type BaselineKind } from '../tasks/baselines.js';
import { DatasetFileError } from '../dataset/dataset-csv.js';
import { evaluatePredictions } from '../evaluation/evaluate.js';
import {
  DEFAULT_EXPECTATIONS,
  EXPECTATION_PARAMETERS,
  expectationThreshold,
  thresholdRule,
  type Expectations,
} from '../evaluation/expectations.js';
import { parsePredictions } from '../evaluation/predictions.js';
import { InputProblemsError } from '../evaluation/problem-list.js';
import { openTaskDataset } from '../evaluation/task-dataset.js';
import { CliError } from './cli-error.js';
import { checkOutputFolder } from './output-folder.js';
import { evaluationReport } from './evaluation-report.js';
import { datasetTarget } from './storage-target.js';
import { fsCause } from '../storage/fs-failure.js';

/** `baseline` and `evaluate`: the task's reference predictions, and scoring any predictions file. */
export function addEvaluationCommands(program: Command): void {
  program
    .command('baseline')
    .description("write a baseline's predictions for every task row, from the data at or before each anchor")
    .argument('<dataset>', 'dataset folder (the one holding manifest.json) or s3://bucket/<dataset prefix>')
    .addOption(
      new Option(
        '-k, --kind <kind>',
        'tier-blind: the past 50 GB rate; tier-aware: by the tier in force and the time since the change',
      )
        .choices(BASELINE_KINDS)
        .makeOptionMandatory(),
    )
    .requiredOption('-o, --out <file>', 'CSV file to write (user_id,anchor_time,probability)')
    .action(async (location: string, flags: { kind: BaselineKind; out: string }) => {
      await checkOutputFile(flags.out);
      const { storage, prefix } = await datasetTarget(location);
      const dataset = await asCliError(openTaskDataset(storage, prefix));
      // Written under a temporary name and renamed: a failed run leaves no partial file at --out.
      const temporary = `${flags.out}.tmp-${process.pid}`;
      try {
        await asCliError(
          pipeline(
            Readable.from(baselinePredictions(storage, prefix, dataset.window, flags.kind)),
            createWriteStream(temporary),
          ),
        );
        await rename(temporary, flags.out);
      } finally {
        await rm(temporary, { force: true });
      }
      console.log(`${dataset.datasetId}: ${flags.kind} predictions written to ${flags.out}`);
    });

  const evaluate = program
    .command('evaluate')
    .description(
      "score predictions against a dataset's task rows next to the oracle: overall, per split, per scenario, and the three expectations",
    )
    .argument('<dataset>', 'dataset folder (the one holding manifest.json) or s3://bucket/<dataset prefix>')
    .requiredOption(
      '-p, --predictions <file>',
      'CSV with the columns user_id, anchor_time, probability (any order; others ignored), a row per task row',
    )
    .option('--json <file>', 'also write the report as JSON to this file');
  for (const [name, { max, meaning }] of Object.entries(EXPECTATION_PARAMETERS) as Array<
    [keyof Expectations, { max: number; meaning: string }]
  >) {
    const flag = `--${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} <x>`;
    const parse = (text: string) => {
      const value = expectationThreshold(text, max);
      if (value === undefined) throw new InvalidArgumentError(thresholdRule(max));
      return value;
    };
    evaluate.option(flag, `expectation: ${meaning}`, parse, DEFAULT_EXPECTATIONS[name]);
  }
  evaluate.action(async (location: string, flags: Expectations & { predictions: string; json?: string }) => {
    if (flags.json) await checkOutputFile(flags.json);
    const text = await readFile(flags.predictions, 'utf8').catch((error: unknown) => {
      throw new CliError(`--predictions ${flags.predictions}: cannot read it (${fsCause(error)})`);
    });
    const { storage, prefix } = await datasetTarget(location);
    const dataset = await asCliError(openTaskDataset(storage, prefix));
    const predictions = await asCliError(Promise.resolve().then(() => parsePredictions(text)));
    const expectations: Expectations = {
      maxJustDowngraded: flags.maxJustDowngraded,
      minJustUpgraded: flags.minJustUpgraded,
      minPremiumLongRatio: flags.minPremiumLongRatio,
    };
    const report = await asCliError(evaluatePredictions(storage, prefix, dataset.datasetId, predictions, expectations));
    if (flags.json) await writeFile(flags.json, `${JSON.stringify(report, null, 2)}\n`);
    console.log(evaluationReport(report, flags.predictions));
  });
}

/** Bad predictions and a dataset without its task file are bad input: exit 2 with their message. */
async function asCliError<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof InputProblemsError || error instanceof DatasetFileError) throw new CliError(error.message);
    throw error;
  }
}

/** Refuses an output file that is a folder or whose folder cannot be written, before any work; creates its folder. */
async function checkOutputFile(file: string): Promise<void> {
  const info = await stat(file).catch(() => undefined);
  if (info?.isDirectory()) throw new CliError(`${file} is a folder, not a file`);
  await checkOutputFolder(dirname(resolve(file)), file);
  await mkdir(dirname(resolve(file)), { recursive: true });
}
