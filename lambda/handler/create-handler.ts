import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { DatasetStore } from '../catalog/dataset-store.js';
import type { UrlSigner } from '../catalog/url-signer.js';
import type { PlanOptions } from '../fanout/plan-shards.js';
import type { ComposableStorage } from '../storage/storage.js';
import { routeApiRequest } from './api-router.js';
import { problemResponse } from './api-response.js';
import { runBackgroundJob, type BackgroundJobInvoker, type JobReport } from './background-job.js';
import type { Environment } from './environment.js';
import { eventKind, type EventKind } from './event-kind.js';
import { runFanoutStep, type FanoutStepResult } from './fanout-job.js';
import type { FanoutStarter } from '../fanout/fanout-payloads.js';
import { runNightly, type NightlyReport } from './nightly-run.js';
import { createPublisher } from './publisher.js';

export interface HandlerDeps {
  env: Environment;
  storage: ComposableStorage;
  signer: UrlSigner;
  invokeAsync: BackgroundJobInvoker;
  /** Hands a config to the fan-out state machine (in Lambda: StartExecution). */
  startFanout: FanoutStarter;
  /** How the fan-out's plan step cuts users into shards (tests make small shards). */
  fanoutPlan?: PlanOptions;
  logger: Logger;
  metrics: Metrics;
  /** The clock (tests move it to make run markers stale). */
  now?: () => Date;
}

export type HandlerResult = APIGatewayProxyResult | NightlyReport | JobReport | FanoutStepResult;

export interface TierdriftHandler {
  (event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult>;
  (event: unknown, context?: Context): Promise<HandlerResult>;
}

/** The one function behind API Gateway, the nightly schedule, the API's background jobs and the fan-out's steps. */
export function createHandler(deps: HandlerDeps): TierdriftHandler {
  const { env, logger, metrics } = deps;
  const store: DatasetStore = { storage: deps.storage, root: env.root };
  const now = deps.now ?? (() => new Date());
  const publish = createPublisher(store, logger, metrics, env.runMarkerStaleSeconds);
  const singleRun = {
    maxUsers: env.singleRunMaxUsers,
    maxBytes: Math.min(env.singleRunMaxBytes, env.maxOutputBytes),
    bytesSetting: 'SINGLE_RUN_MAX_BYTES and MAX_OUTPUT_BYTES',
  };

  const handle = async (kind: EventKind, event: unknown): Promise<HandlerResult> => {
    switch (kind) {
      case 'api': {
        const ctx = {
          env,
          store,
          signer: deps.signer,
          publish,
          invokeAsync: deps.invokeAsync,
          startFanout: deps.startFanout,
          now: now(),
        };
        try {
          return await routeApiRequest(event as APIGatewayProxyEvent, ctx);
        } catch (error) {
          logger.error('request failed', { error: error as Error });
          return problemResponse(500, 'internal error', [
            { field: '(server)', rule: 'failed unexpectedly; see the function logs' },
          ]);
        }
      }
      // Jobs and nightly fixtures run on one invocation; only the fan-out's steps take up to MAX_USERS and MAX_OUTPUT_BYTES.
      case 'job':
        return runBackgroundJob(event, store, singleRun, publish, now);
      case 'fanout':
        return runFanoutStep(event, {
          storage: deps.storage,
          root: env.root,
          limits: { maxUsers: env.maxUsers, maxBytes: env.maxOutputBytes, bytesSetting: 'MAX_OUTPUT_BYTES' },
          // Each shard runs on one invocation.
          plan: { maxShardBytes: env.singleRunMaxBytes, ...deps.fanoutPlan },
          logger,
          metrics,
          now,
        });
      case 'schedule':
        return runNightly(event, store, { ...singleRun, rollingRoot: env.rollingRoot }, publish, now());
    }
  };

  const handler = async (event: unknown, context?: Context) => {
    if (context) logger.addContext(context);
    const kind = eventKind(event);
    if (!kind) {
      logger.error('unrecognised event', { event });
      throw new Error(
        'unrecognised event: expected an API Gateway proxy event, a schedule payload {"fixtures": [...]} a job {"kind": "tierdrift.generate"} or a fan-out step {"kind": "tierdrift.fanout.<step>"}',
      );
    }
    metrics.addDimension('trigger', kind);
    try {
      return await handle(kind, event);
    } catch (error) {
      logger.error('invocation failed', { trigger: kind, error: error as Error });
      throw error;
    } finally {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
      else metrics.clearDimensions();
    }
  };
  return handler as TierdriftHandler;
}
