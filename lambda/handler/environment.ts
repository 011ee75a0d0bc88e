import { z } from 'zod';
import { MAX_USERS } from '../config/schema.js';
import { DEFAULT_MAX_OUTPUT_BYTES } from '../datasets/sync-rule.js';
import { STALE_RUN_SECONDS } from '../publish/publish-dataset.js';
import { rollingRoot } from '../layout/key-layout.js';
import { bucketNameProblem } from '../storage/s3-location.js';

/**
 * Default sync limits, from measurement (`npm run dev`-style: generator and fauxqs S3 sharing this
 * 2-core machine): the default config publishes ~32,000 users/s, so 200,000 users take ~6.2 s.
 * API Gateway gives up after 29 s; a Lambda vCPU may be slower than this core and a cold start
 * adds ~1 s, so 200,000 users keeps a margin of about 4x. Their files hold ~8.8 million rows by
 * `estimateOutput` (~44 rows a user: uploads and task rows, ~20 each, dominate), and the cost of a
 * run follows its rows whatever makes them (rates, a finer task grid), so the rows limit lets
 * those through, with ~14% to spare. Anything bigger runs in the background.
 */
const DEFAULT_SYNC_MAX_USERS = 200_000;
export const DEFAULT_SYNC_MAX_ROWS = 10_000_000;
/**
 * How long a POST waits for an identical request's run (single flight) before answering 202: the
 * largest sync run measured here (~6.2 s, see above) with a margin, so a waiter usually gets the
 * dataset; at most MAX_SYNC_WAIT_SECONDS, which leaves the waiter time to answer within API
 * Gateway's 29 s.
 */
const DEFAULT_SYNC_WAIT_SECONDS = 10;
const MAX_SYNC_WAIT_SECONDS = 25;
/**
 * The most users one invocation publishes (a reference-engine config, which cannot be split; a
 * background job; a nightly fixture): 1 million users (~2.3 GB with the task files) take ~20 s of
 * CPU here, so a slower Lambda vCPU and slow S3 uploads still leave a wide margin below the
 * 15-minute timeout.
 */
const DEFAULT_SINGLE_RUN_MAX_USERS = 1_000_000;
/**
 * The most bytes one invocation writes, by `estimateOutput` (a config that is not split, a job, a
 * nightly fixture, one fan-out shard): what bounds its time whatever drives the size. The default
 * config at 1 million users is ~2.5 GB by the estimate (~20 s of CPU here); 8 GB is ~3x that,
 * still far below the 15-minute timeout on a slower vCPU with slow uploads.
 */
export const DEFAULT_SINGLE_RUN_MAX_BYTES = 8_000_000_000;
/**
 * From this many users a seedrandom config is published by the fan-out state machine (shards on
 * several invocations) instead of one asynchronous invocation: where one invocation's limit ends,
 * so every seedrandom config up to MAX_USERS has a path (see `fanoutGap`).
 */
const DEFAULT_FANOUT_MIN_USERS = DEFAULT_SINGLE_RUN_MAX_USERS;
// API Gateway refuses payloads over 10 MB; a config is a few hundred bytes.
const MAX_BODY_LIMIT = 10 * 1024 * 1024;
// SigV4 presigned URLs live at most 7 days.
const MAX_PRESIGN_SECONDS = 7 * 24 * 3600;

/** An integer variable, unset (or empty) meaning `fallback`. */
const integerVar = (min: number, max: number, fallback: number) =>
  z.preprocess(
    (v) => (v === undefined || v === '' ? String(fallback) : v),
    z
      .string()
      .refine((s) => /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max, {
        error: (issue) => `must be an integer from ${min} to ${max} (got ${JSON.stringify(issue.input)})`,
      })
      .transform(Number),
  );

const environmentSchema = z.object({
  BUCKET_NAME: z
    .string({ error: 'is required: the S3 bucket datasets are published to' })
    .superRefine((name, ctx) => {
      const problem = bucketNameProblem(name);
      if (problem) ctx.addIssue({ code: 'custom', message: `must be an S3 bucket name: ${problem}` });
    }),
  ROOT_PREFIX: z.preprocess(
    (v) => (v === undefined ? 'tierdrift' : v),
    z.string().regex(/^([A-Za-z0-9_.=-]+(\/[A-Za-z0-9_.=-]+)*)?$/, {
      error: 'must be key segments of letters, digits, "_.=-" joined by "/", without a leading or trailing "/"',
    }),
  ),
  // Where `seedFromDate` fixtures go: a new dataset every day, so the bucket expires this prefix.
  ROLLING_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.=-]+(\/[A-Za-z0-9_.=-]+)*$/, {
      error: 'must be key segments of letters, digits, "_.=-" joined by "/", without a leading or trailing "/"',
    })
    .optional(),
  // Any config, split or not, up to the schema's maximum by default: the fan-out takes the big ones.
  MAX_USERS: integerVar(1, MAX_USERS, MAX_USERS),
  SINGLE_RUN_MAX_USERS: integerVar(1, MAX_USERS, DEFAULT_SINGLE_RUN_MAX_USERS),
  SYNC_MAX_USERS: integerVar(0, MAX_USERS, DEFAULT_SYNC_MAX_USERS),
  SINGLE_RUN_MAX_BYTES: integerVar(1, Number.MAX_SAFE_INTEGER, DEFAULT_SINGLE_RUN_MAX_BYTES),
  MAX_OUTPUT_BYTES: integerVar(1, Number.MAX_SAFE_INTEGER, DEFAULT_MAX_OUTPUT_BYTES),
  SYNC_WAIT_SECONDS: integerVar(0, MAX_SYNC_WAIT_SECONDS, DEFAULT_SYNC_WAIT_SECONDS),
  SYNC_MAX_ROWS: integerVar(0, Number.MAX_SAFE_INTEGER, DEFAULT_SYNC_MAX_ROWS),
  MAX_BODY_BYTES: integerVar(1, MAX_BODY_LIMIT, 64 * 1024),
  // The function's timeout: a run older than that has died.
  RUN_MARKER_STALE_SECONDS: integerVar(1, 24 * 3600, STALE_RUN_SECONDS),
  PRESIGN_EXPIRES_SECONDS: integerVar(1, MAX_PRESIGN_SECONDS, 900),
  // The fan-out (Step Functions) for seedrandom configs of at least this many users.
  FANOUT_MIN_USERS: integerVar(1, MAX_USERS, DEFAULT_FANOUT_MIN_USERS),
  STATE_MACHINE_ARN: z.preprocess(
    (v) => (v === '' ? undefined : v),
    z
      .string()
      .regex(/^arn:[a-z-]+:states:[a-z0-9-]+:\d{12}:stateMachine:[A-Za-z0-9_-]{1,80}$/, {
        error: (issue) => `must be a Step Functions state machine ARN (got ${JSON.stringify(issue.input)})`,
      })
      .optional(),
  ),
  // Set by the Lambda runtime; needed to hand big jobs to an asynchronous invocation of itself.
  AWS_LAMBDA_FUNCTION_NAME: z.string().optional(),
});

export interface Environment {
  bucket: string;
  root: string;
  /** Root of the rolling (date-seeded) nightly fixtures; defaults to `<root>/rolling`. */
  rollingRoot: string;
  /** The most users a request may ask for (a fan-out run). */
  maxUsers: number;
  /** The most users published by one invocation: configs that are not split, jobs, nightly fixtures. */
  singleRunMaxUsers: number;
  /** The most bytes (estimated) one invocation writes: configs that are not split, jobs, nightly fixtures, fan-out shards. */
  singleRunMaxBytes: number;
  /** The most bytes (estimated) a dataset may have. */
  maxOutputBytes: number;
  sync: { maxUsers: number; maxRows: number };
  /** How long a POST waits for the run of an identical request before answering 202. */
  syncWaitSeconds: number;
  /** Seedrandom configs of at least `minUsers` users go to the state machine (STATE_MACHINE_ARN). */
  fanout: { minUsers: number; stateMachineArn?: string };
  maxBodyBytes: number;
  runMarkerStaleSeconds: number;
  presignExpiresSeconds: number;
  functionName?: string;
}

export class EnvironmentError extends Error {
  constructor(readonly problems: { variable: string; rule: string }[]) {
    super(`invalid environment:\n${problems.map((p) => `  - ${p.variable}: ${p.rule}`).join('\n')}`);
    this.name = 'EnvironmentError';
  }
}

/** Reads and checks the function's settings, reporting every bad variable at once. */
export function loadEnvironment(env: Record<string, string | undefined>): Environment {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new EnvironmentError(parsed.error.issues.map((i) => ({ variable: String(i.path[0]), rule: i.message })));
  }
  const v = parsed.data;
  const gap = fanoutGap(v.SINGLE_RUN_MAX_USERS, v.FANOUT_MIN_USERS);
  if (gap) throw new EnvironmentError([{ variable: 'FANOUT_MIN_USERS', rule: gap }]);
  return {
    bucket: v.BUCKET_NAME,
    root: v.ROOT_PREFIX,
    rollingRoot: v.ROLLING_PREFIX ?? rollingRoot(v.ROOT_PREFIX),
    maxUsers: v.MAX_USERS,
    singleRunMaxUsers: v.SINGLE_RUN_MAX_USERS,
    singleRunMaxBytes: v.SINGLE_RUN_MAX_BYTES,
    maxOutputBytes: v.MAX_OUTPUT_BYTES,
    sync: { maxUsers: v.SYNC_MAX_USERS, maxRows: v.SYNC_MAX_ROWS },
    syncWaitSeconds: v.SYNC_WAIT_SECONDS,
    fanout: { minUsers: v.FANOUT_MIN_USERS, stateMachineArn: v.STATE_MACHINE_ARN },
    maxBodyBytes: v.MAX_BODY_BYTES,
    runMarkerStaleSeconds: v.RUN_MARKER_STALE_SECONDS,
    presignExpiresSeconds: v.PRESIGN_EXPIRES_SECONDS,
    functionName: v.AWS_LAMBDA_FUNCTION_NAME || undefined,
  };
}

/**
 * Seedrandom configs of SINGLE_RUN_MAX_USERS + 1 to FANOUT_MIN_USERS - 1 users would be too big for
 * one invocation and too small for the fan-out: refused, however valid. The problem, or undefined.
 */
export function fanoutGap(singleRunMaxUsers: number, fanoutMinUsers: number): string | undefined {
  if (fanoutMinUsers <= singleRunMaxUsers + 1) return undefined;
  return `must be at most SINGLE_RUN_MAX_USERS + 1 (${singleRunMaxUsers + 1}; got ${fanoutMinUsers}): seedrandom configs in between would fit neither one invocation nor the fan-out`;
}
