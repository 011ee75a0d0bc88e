import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import { datasetAddress } from '../config/dataset-id.js';
import type { GenerationConfig } from '../config/schema.js';
import { endRun, markRunStarted, openRunMarker, refreshRun, type RunMarker } from '../catalog/run-marker.js';
import {
  cleanupStep,
  commitStep,
  countStep,
  offsetsStep,
  planStep,
  shardStep,
  type FanoutRun,
  type ShardCount,
} from '../fanout/fanout-steps.js';
import type { PlanOptions } from '../fanout/plan-shards.js';
import { datasetKeys } from '../layout/key-layout.js';
import type { ComposableStorage } from '../storage/storage.js';
import { checkedJobConfig, parseJobPayload, type JobLimits, type JobReport } from './background-job.js';
import { describeStepError, FANOUT_KINDS, fanoutPayloadSchema } from '../fanout/fanout-payloads.js';
import { reportOutcome } from './publisher.js';

export interface FanoutContext {
  storage: ComposableStorage;
  root: string;
  /** What a fan-out run may ask for: MAX_USERS, MAX_OUTPUT_BYTES. */
  limits: JobLimits;
  /** How plan cuts the users (tests make small shards); defaults to planShards'. */
  plan?: PlanOptions;
  logger: Logger;
  metrics: Metrics;
  now: () => Date;
}

/** What cleanup reports (the execution then fails with the original error). */
export interface FailedRunReport {
  datasetId: string;
  runId?: string;
  error: string;
}

export type FanoutStepResult = FanoutRun | ShardCount | JobReport | FailedRunReport;

const TRIGGER = 'fanout';

/**
 * One step of the fan-out state machine: the payload's `kind` names the step, the result is what
 * the state machine passes on. A thin adapter over lambda/fanout/fanout-steps.ts on the function's
 * store; plan marks the run started (GET answers 202), every later step refreshes the mark as it
 * starts (a fan-out may run for longer than RUN_MARKER_STALE_SECONDS), commit marks the run over,
 * and cleanup (after a failure) deletes its parts and marks it failed.
 */
export async function runFanoutStep(payload: unknown, ctx: FanoutContext): Promise<FanoutStepResult> {
  const job = parseJobPayload(fanoutPayloadSchema, payload);
  switch (job.kind) {
    case FANOUT_KINDS.plan: {
      const config = checkedJobConfig(job.config, ctx.limits);
      const run = await planStep(config, ctx.storage, ctx.root, ctx.plan, ctx.now());
      if (run.shards.length > 0) await markRunStarted(ctx.storage, prefixOf(config, ctx.root), runMarker(run));
      ctx.logger.info('fan-out planned', {
        datasetId: runMarker(run).datasetId,
        runId: run.runId,
        shards: run.shards.length,
      });
      return run;
    }
    case FANOUT_KINDS.count: {
      const config = checkedJobConfig(job.config, ctx.limits);
      await refreshRun(ctx.storage, prefixOf(config, ctx.root), ctx.now());
      return countStep(config, job.shard);
    }
    case FANOUT_KINDS.offsets: {
      const config = checkedJobConfig(job.run.config, ctx.limits);
      await refreshRun(ctx.storage, prefixOf(config, ctx.root), ctx.now());
      return offsetsStep({ ...job.run, config }, job.counts);
    }
    case FANOUT_KINDS.shard: {
      const config = checkedJobConfig(job.config, ctx.limits);
      await refreshRun(ctx.storage, prefixOf(config, ctx.root), ctx.now());
      return shardStep({ config, runId: job.runId }, job.shard, ctx.storage, ctx.root);
    }
    case FANOUT_KINDS.commit: {
      const run: FanoutRun = { ...job.run, config: checkedJobConfig(job.run.config, ctx.limits) };
      await refreshRun(ctx.storage, prefixOf(run.config, ctx.root), ctx.now());
      const outcome = await commitStep(run, ctx.storage, ctx.root);
      const durationMs = ctx.now().getTime() - Date.parse(run.startedAt);
      reportOutcome(outcome, { trigger: TRIGGER, durationMs }, ctx.logger, ctx.metrics);
      if (run.shards.length > 0) await endRun(ctx.storage, outcome.prefix, runMarker(run), ctx.now());
      return { datasetId: outcome.address.datasetId, status: outcome.status, prefix: outcome.prefix };
    }
    case FANOUT_KINDS.cleanup: {
      const config = checkedJobConfig(job.config, ctx.limits);
      const prefix = prefixOf(config, ctx.root);
      const error = describeStepError(job.error);
      await cleanupStep(config, job.runId, ctx.storage, ctx.root);
      const datasetId = datasetAddress(config).datasetId;
      const started = (await openRunMarker(ctx.storage, prefix)) ?? {
        datasetId,
        startedAt: ctx.now().toISOString(),
        trigger: TRIGGER,
      };
      await endRun(ctx.storage, prefix, started, ctx.now(), error);
      ctx.logger.error('fan-out failed', { datasetId, runId: job.runId, error });
      return { datasetId, ...(job.runId !== undefined && { runId: job.runId }), error };
    }
  }
}

const prefixOf = (config: GenerationConfig, root: string): string => datasetKeys(datasetAddress(config), root).prefix;

function runMarker(run: FanoutRun): RunMarker {
  return { datasetId: datasetAddress(run.config).datasetId, startedAt: run.startedAt, trigger: TRIGGER };
}
