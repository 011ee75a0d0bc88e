import type { Logger } from '@aws-lambda-powertools/logger';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import type { DatasetStore } from '../datasets/dataset-store.js';
import type { UrlSigner } from '../datasets/url-signer.js';
import type { DatasetStorage } from '../storage/storage.js';
import { routeApiRequest } from './api-router.js';
import { problemResponse } from './api-response.js';
import type { AsyncInvoker } from './async-job.js';
import { runBackgroundJob, type JobReport } from './background-job.js';
import type { Environment } from './environment.js';
import { eventKind, type EventKind } from './event-kind.js';
import { runNightly, type NightlyReport } from './nightly-run.js';
import { createPublisher } from './publisher.js';

export interface HandlerDeps {
  env: Environment;
  storage: DatasetStorage;
  signer: UrlSigner;
  invokeAsync: AsyncInvoker;
  logger: Logger;
  metrics: Metrics;
  /** The clock (tests move it to make run markers stale). */
  now?: () => Date;
}

export interface TierdriftHandler {
  (event: APIGatewayProxyEvent, context?: Context): Promise<APIGatewayProxyResult>;
  (event: unknown, context?: Context): Promise<APIGatewayProxyResult | NightlyReport | JobReport>;
}

/** The one function behind API Gateway, the nightly schedule and the API's background jobs. */
export function createHandler(deps: HandlerDeps): TierdriftHandler {
  const { env, logger, metrics } = deps;
  const store: DatasetStore = { storage: deps.storage, root: env.root };
  const now = deps.now ?? (() => new Date());
  const publish = createPublisher(store, logger, metrics);

  const handle = async (kind: EventKind, event: unknown): Promise<APIGatewayProxyResult | NightlyReport | JobReport> => {
    switch (kind) {
      case 'api': {
        const ctx = { env, store, signer: deps.signer, publish, invokeAsync: deps.invokeAsync, now: now() };
        try {
          return await routeApiRequest(event as APIGatewayProxyEvent, ctx);
        } catch (error) {
          logger.error('request failed', { error: error as Error });
          return problemResponse(500, 'internal error', [{ field: '(server)', rule: 'failed unexpectedly; see the function logs' }]);
        }
      }
      case 'job':
        return runBackgroundJob(event, store, env.maxUsers, publish, now);
      case 'schedule':
        return runNightly(event, store, { maxUsers: env.maxUsers, rollingRoot: env.rollingRoot }, publish, now());
    }
  };

  const handler = async (event: unknown, context?: Context) => {
    if (context) logger.addContext(context);
    const kind = eventKind(event);
    if (!kind) {
      logger.error('unrecognised event', { event });
      throw new Error('unrecognised event: expected an API Gateway proxy event, a schedule payload {"fixtures": [...]} or a job {"kind": "tierdrift.generate"}');
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
