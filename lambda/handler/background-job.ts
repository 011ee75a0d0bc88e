import { z } from 'zod';
import { datasetAddress } from '../config/dataset-id.js';
import type { GenerationConfig } from '../config/schema.js';
import { validateDatasetRequest } from '../catalog/dataset-request.js';
import type { DatasetStore } from '../catalog/dataset-store.js';
import { issueProblems, problemsInline } from '../errors/problem.js';
import { endRun, markRunStarted, type RunMarker } from '../catalog/run-marker.js';
import { datasetKeys } from '../layout/key-layout.js';
import { FailedChecksError } from '../publish/publish-dataset.js';
import type { Publisher } from './publisher.js';

/** A background job: what the API hands to an asynchronous invocation of the same function. */
export const GENERATE_JOB_KIND = 'tierdrift.generate';

export interface GenerateJob {
  kind: typeof GENERATE_JOB_KIND;
  /** The normalized config; checked again when the job runs. */
  config: GenerationConfig;
  requestedAt: string;
  /** Failed integrity checks fail the run: nothing published (`POST /datasets?strict=true`). */
  strict?: boolean;
}

export const generateJobSchema = z.strictObject({
  kind: z.literal(GENERATE_JOB_KIND),
  config: z.unknown(),
  requestedAt: z.iso.datetime({ offset: true }).optional(),
  strict: z.boolean().optional(),
});

/** Starts a job without waiting for it (in Lambda: InvocationType 'Event'). */
export type BackgroundJobInvoker = (job: GenerateJob) => Promise<void>;

export interface JobReport {
  datasetId: string;
  /** `refused`: a strict run whose checks failed; nothing published, the run marker says why. */
  status: 'created' | 'existing' | 'refused';
  prefix: string;
}

/** A payload the function sent itself (or a state machine sent it), or an error naming every problem. */
export function parseJobPayload<T extends z.ZodType>(schema: T, payload: unknown): z.infer<T> {
  const parsed = schema.safeParse(payload);
  if (!parsed.success)
    throw new Error(
      `invalid job payload: ${problemsInline(issueProblems(parsed.error.issues, { whole: '(payload)' }))}`,
    );
  return parsed.data;
}

/** What a job may ask for: users, and bytes by the estimate (`bytesSetting` names that limit). */
export interface JobLimits {
  maxUsers: number;
  maxBytes: number;
  bytesSetting: string;
}

/** A job's config checked again (it crossed a process boundary), or an error naming every problem. */
export function checkedJobConfig(raw: unknown, limits: JobLimits): GenerationConfig {
  const checked = validateDatasetRequest(raw, limits.maxUsers, undefined, {
    maxBytes: limits.maxBytes,
    setting: limits.bytesSetting,
  });
  if (!checked.ok) throw new Error(`invalid job config: ${problemsInline(checked.problems)}`);
  return checked.config;
}

/**
 * Runs a job the API handed off: refreshes the run marker (a retried invocation starts later than
 * the request did), publishes, and marks the run over. A failure propagates, so Lambda retries
 * the asynchronous invocation; the marker keeps saying "running" until it goes stale. A strict
 * run's failed checks are no such failure: a retry would fail the same way, so the run ends there.
 */
export async function runBackgroundJob(
  payload: unknown,
  store: DatasetStore,
  limits: JobLimits,
  publish: Publisher,
  now: () => Date,
): Promise<JobReport> {
  const job = parseJobPayload(generateJobSchema, payload);
  const config = checkedJobConfig(job.config, limits);
  const address = datasetAddress(config);
  const { prefix } = datasetKeys(address, store.root);
  const marker: RunMarker = { datasetId: address.datasetId, startedAt: now().toISOString(), trigger: 'job' };
  await markRunStarted(store.storage, prefix, marker);
  try {
    const outcome = await publish(config, 'job', { strict: job.strict });
    await endRun(store.storage, prefix, marker, now());
    return { datasetId: address.datasetId, status: outcome.status, prefix };
  } catch (error) {
    if (!(error instanceof FailedChecksError)) throw error;
    await endRun(store.storage, prefix, marker, now(), error.message);
    return { datasetId: address.datasetId, status: 'refused', prefix };
  }
}
