import { z } from 'zod';
import type { GenerationConfig } from '../config/schema.js';

/** What the API hands to an asynchronous invocation of the same function. */
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
export type AsyncInvoker = (job: GenerateJob) => Promise<void>;
