import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { GenerationConfig } from '../config/schema.js';
import type { DatasetStore } from '../catalog/dataset-store.js';
import { publishDataset, type PublishOutcome } from '../publish/publish-dataset.js';

/**
 * Publishes under the store's root, or under `root` when given (the rolling fixtures); `strict`:
 * failed integrity checks fail the run (FailedChecksError), nothing published.
 */
export type Publisher = (
  config: GenerationConfig,
  trigger: string,
  options?: { root?: string; strict?: boolean },
) => Promise<PublishOutcome>;

/**
 * publishDataset on the function's store, logged and measured. The generator is CPU-bound and
 * Lambda gives the function its own vCPU(s), so it runs in-process, without the worker thread.
 */
export function createPublisher(
  store: DatasetStore,
  logger: Logger,
  metrics: Metrics,
  staleSeconds: number,
): Publisher {
  return async (config, trigger, { root = store.root, strict = false } = {}) => {
    const started = performance.now();
    const outcome = await publishDataset(config, { storage: store.storage, root, staleSeconds, strict });
    reportOutcome(outcome, { trigger, durationMs: Math.round(performance.now() - started) }, logger, metrics);
    return outcome;
  };
}

/** Logs a publication and records its metrics (rows, bytes, duration; or `reused`). */
export function reportOutcome(
  outcome: PublishOutcome,
  run: { trigger: string; durationMs: number },
  logger: Logger,
  metrics: Metrics,
): void {
  const files = outcome.manifest.files;
  const rows = files.reduce((sum, f) => sum + f.rows, 0);
  const bytes = files.reduce((sum, f) => sum + f.bytes, 0);
  const created = outcome.status === 'created';
  if (created) {
    metrics.addMetric('rows', MetricUnit.Count, rows);
    metrics.addMetric('bytes', MetricUnit.Bytes, bytes);
    metrics.addMetric('duration', MetricUnit.Milliseconds, run.durationMs);
  } else {
    metrics.addMetric('reused', MetricUnit.Count, 1);
  }
  logger.info(created ? 'dataset published' : 'dataset already published', {
    datasetId: outcome.address.datasetId,
    trigger: run.trigger,
    status: outcome.status,
    prefix: outcome.prefix,
    rows,
    bytes,
    durationMs: run.durationMs,
  });
}
