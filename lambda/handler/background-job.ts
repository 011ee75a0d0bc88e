import { datasetAddress } from '../config/dataset-id.js';
import { validateDatasetRequest } from '../datasets/dataset-request.js';
import type { DatasetStore } from '../datasets/dataset-store.js';
import { endRun, markRunStarted, type RunMarker } from '../datasets/run-marker.js';
import { datasetKeys } from '../publish/publish-dataset.js';
import { generateJobSchema } from './async-job.js';
import type { Publisher } from './publisher.js';

export interface JobReport {
  datasetId: string;
  status: 'created' | 'existing';
  prefix: string;
}

/**
 * Runs a job the API handed off: refreshes the run marker (a retried invocation starts later than
 * the request did), publishes, and marks the run over. A failure propagates, so Lambda retries
 * the asynchronous invocation; the marker keeps saying "running" until it goes stale.
 */
export async function runBackgroundJob(payload: unknown, store: DatasetStore, maxUsers: number, publish: Publisher, now: () => Date): Promise<JobReport> {
  const job = generateJobSchema.safeParse(payload);
  if (!job.success) throw new Error(`invalid job payload: ${job.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  const checked = validateDatasetRequest(job.data.config, maxUsers);
  if (!checked.ok) throw new Error(`invalid job config: ${checked.problems.map((p) => `${p.field}: ${p.rule}`).join('; ')}`);

  const address = datasetAddress(checked.config);
  const { prefix } = datasetKeys(address, store.root);
  const marker: RunMarker = { datasetId: address.datasetId, startedAt: now().toISOString(), trigger: 'job' };
  await markRunStarted(store.storage, prefix, marker);
  const outcome = await publish(checked.config, 'job');
  await endRun(store.storage, prefix, marker, now());
  return { datasetId: address.datasetId, status: outcome.status, prefix };
}
