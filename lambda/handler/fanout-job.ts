import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { datasetAddress } from '../config/dataset-id.js';
import { endRun, markRunStarted, type RunMarker } from '../datasets/run-marker.js';
import { commitStep, countStep, offsetsStep, planStep, shardStep, type FanoutRun, type ShardCount } from '../fanout/fanout-steps.js';
import type { PlanOptions } from '../fanout/plan-shards.js';
import { datasetKeys } from '../publish/publish-dataset.js';
import type { ComposableStorage } from '../storage/storage.js';
import { checkedJobConfig, parseJobPayload, type JobReport } from './background-job.js';
import { FANOUT_KINDS, fanoutPayloadSchema } from './fanout-payloads.js';
import { reportOutcome } from './publisher.js';

export interface FanoutContext {
  storage: ComposableStorage;
  root: string;
  maxUsers: number;
  /** How plan cuts the users (tests make small shards); defaults to planShards'. */
  plan?: PlanOptions;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
}

export type FanoutStepResult = FanoutRun | ShardCount | JobReport;

const TRIGGER = 'fanout';

/**
 * One step of the fan-out state machine: the payload's `kind` names the step, the result is what
 * the state machine passes on. A thin adapter over lambda/fanout/fanout-steps.ts on the function's
 * store; plan marks the run started (GET answers 202) and commit marks it over.
 */
export async function runFanoutStep(payload: unknown, ctx: FanoutContext): Promise<FanoutStepResult> {
  const job = parseJobPayload(fanoutPayloadSchema, payload);
  switch (job.kind) {
    case FANOUT_KINDS.plan: {
      const config = checkedJobConfig(job.config, ctx.maxUsers);
      const run = await planStep(config, ctx.storage, ctx.root, ctx.plan);
      if (run.shards.length > 0) await markRunStarted(ctx.storage, prefixOf(run, ctx.root), runMarker(run));
      ctx.logger.info('fan-out planned', { datasetId: runMarker(run).datasetId, runId: run.runId, shards: run.shards.length });
      return run;
    }
    case FANOUT_KINDS.count:
      return countStep(checkedJobConfig(job.config, ctx.maxUsers), job.shard);
    case FANOUT_KINDS.offsets:
      return offsetsStep({ ...job.run, config: checkedJobConfig(job.run.config, ctx.maxUsers) }, job.counts);
    case FANOUT_KINDS.shard:
      return shardStep({ config: checkedJobConfig(job.config, ctx.maxUsers), runId: job.runId }, job.shard, ctx.storage, ctx.root);
    case FANOUT_KINDS.commit: {
      const run: FanoutRun = { ...job.run, config: checkedJobConfig(job.run.config, ctx.maxUsers) };
      const outcome = await commitStep(run, ctx.storage, ctx.root);
      const durationMs = ctx.now().getTime() - Date.parse(run.startedAt);
      reportOutcome(outcome, { trigger: TRIGGER, durationMs }, ctx.logger, ctx.metrics);
      if (run.shards.length > 0) await endRun(ctx.storage, outcome.prefix, runMarker(run), ctx.now());
      return { datasetId: outcome.address.datasetId, status: outcome.status, prefix: outcome.prefix };
    }
  }
}

const prefixOf = (run: FanoutRun, root: string): string => datasetKeys(datasetAddress(run.config), root).prefix;

function runMarker(run: FanoutRun): RunMarker {
  return { datasetId: datasetAddress(run.config).datasetId, startedAt: run.startedAt, trigger: TRIGGER };
}
