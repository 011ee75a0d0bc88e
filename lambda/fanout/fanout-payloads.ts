import { z } from 'zod';
import type { GenerationConfig } from '../config/schema.js';

/**
 * The payloads the fan-out state machine sends the function, one kind per step (see docs/scale.md,
 * the state machine). The state machine passes each step's result on: plan → Map(count) → offsets →
 * Map(shard) → commit. Configs are checked again by every step.
 */
export const FANOUT_KINDS = {
  plan: 'tierdrift.fanout.plan',
  count: 'tierdrift.fanout.count',
  offsets: 'tierdrift.fanout.offsets',
  shard: 'tierdrift.fanout.shard',
  commit: 'tierdrift.fanout.commit',
  /** After any step failed for good (the state machine's Catch): delete the run's parts, mark the run failed. */
  cleanup: 'tierdrift.fanout.cleanup',
} as const;

export type FanoutKind = (typeof FANOUT_KINDS)[keyof typeof FANOUT_KINDS];

export const isFanoutKind = (kind: unknown): kind is FanoutKind =>
  (Object.values(FANOUT_KINDS) as unknown[]).includes(kind);

/** The execution's input: what the API starts the state machine with. */
export interface FanoutPlanJob {
  kind: typeof FANOUT_KINDS.plan;
  config: GenerationConfig;
  requestedAt: string;
}

const count = z.int().min(0);
const stepErrorSchema = z.object({ Error: z.string(), Cause: z.string().optional() });
const shardSchema = z.strictObject({
  index: count,
  from: z.int().min(1),
  to: z.int().min(1),
  txnFrom: z.int().min(1).optional(),
});
const runSchema = z.strictObject({
  config: z.unknown(),
  runId: z.string(),
  startedAt: z.iso.datetime({ offset: true }),
  shards: z.array(shardSchema),
});

export const fanoutPayloadSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal(FANOUT_KINDS.plan),
    config: z.unknown(),
    requestedAt: z.iso.datetime({ offset: true }).optional(),
  }),
  z.strictObject({ kind: z.literal(FANOUT_KINDS.count), config: z.unknown(), shard: shardSchema }),
  z.strictObject({
    kind: z.literal(FANOUT_KINDS.offsets),
    run: runSchema,
    counts: z.array(z.strictObject({ index: count, uploads: count })),
  }),
  z.strictObject({ kind: z.literal(FANOUT_KINDS.shard), config: z.unknown(), runId: z.string(), shard: shardSchema }),
  z.strictObject({ kind: z.literal(FANOUT_KINDS.commit), run: runSchema }),
  z.strictObject({
    kind: z.literal(FANOUT_KINDS.cleanup),
    config: z.unknown(),
    runId: z.string().optional(),
    error: stepErrorSchema,
  }),
]);

/** What a Catch puts at its ResultPath: the error name and its cause (for a Lambda error, the error as JSON). */
export type StepError = z.infer<typeof stepErrorSchema>;

const MAX_ERROR_TEXT = 1000;

/** One line for the run marker: the error's name and, from a Lambda error's cause, its message. */
export function describeStepError(error: StepError): string {
  let cause = error.Cause ?? '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') cause = parsed.errorMessage;
  } catch {
    // not JSON: a Step Functions cause is plain text
  }
  const text = cause ? `${error.Error}: ${cause}` : error.Error;
  return text.length > MAX_ERROR_TEXT ? `${text.slice(0, MAX_ERROR_TEXT - 1)}…` : text;
}

/**
 * Starts the state machine with execution name `name` (the dataset id, so one execution per
 * dataset); 'already-running' when an execution of that name exists.
 */
export type FanoutStarter = (name: string, input: FanoutPlanJob) => Promise<'started' | 'already-running'>;
