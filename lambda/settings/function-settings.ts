// The function's settings: each environment variable's name, default, range and meaning. The
// handler validates its environment against this (lambda/handler/environment.ts), the stack's
// deployment settings take their defaults and ranges from it (infra/settings.ts), the stack's
// environment map is typed by it, and the CLI takes its --max-output-bytes default from it.
import { MAX_USERS } from '../config/schema.js';

export interface IntegerSetting {
  readonly default: number;
  readonly min: number;
  readonly max: number;
  readonly meaning: string;
}

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
const DEFAULT_SYNC_MAX_ROWS = 10_000_000;
/**
 * The most users one invocation publishes (a reference-engine config, which cannot be split; a
 * background job; a nightly fixture): 1 million users (~2.3 GB with the task files) take ~20 s of
 * CPU here, so a slower Lambda vCPU and slow S3 uploads still leave a wide margin below the
 * 15-minute timeout.
 */
const DEFAULT_SINGLE_RUN_MAX_USERS = 1_000_000;
/**
 * The most bytes one invocation writes, by `estimateOutput`: what bounds its time whatever drives
 * the size. The default config at 1 million users is ~2.5 GB by the estimate (~20 s of CPU here);
 * 8 GB is ~3x that, still far below the 15-minute timeout on a slower vCPU with slow uploads.
 */
const DEFAULT_SINGLE_RUN_MAX_BYTES = 8_000_000_000;
/**
 * The most bytes a dataset may have, all files together, by `estimateOutput` (MAX_OUTPUT_BYTES,
 * and the CLI's --max-output-bytes): the default config at 10,000,000 users (the schema's most,
 * ~25 GB estimated) fits with room; 1000 users on a 1-second grid (~61 GB of task rows) does not.
 */
export const DEFAULT_MAX_OUTPUT_BYTES = 50_000_000_000;
/**
 * How long a POST waits for an identical request's run (single flight) before answering 202: the
 * largest sync run measured here (~6.2 s, see above) with a margin; at most 25 s, which leaves the
 * waiter time to answer within API Gateway's 29 s.
 */
const DEFAULT_SYNC_WAIT_SECONDS = 10;
/** A run older than this has died: Lambda's longest timeout, 15 minutes (RUN_MARKER_STALE_SECONDS). */
export const STALE_RUN_SECONDS = 900;

/** The function's integer variables; an unset (or empty) variable takes its default. */
export const INTEGER_SETTINGS = {
  MAX_USERS: {
    default: MAX_USERS,
    min: 1,
    max: MAX_USERS,
    meaning: 'largest `users` accepted at all: what the fan-out publishes',
  },
  SINGLE_RUN_MAX_USERS: {
    default: DEFAULT_SINGLE_RUN_MAX_USERS,
    min: 1,
    max: MAX_USERS,
    meaning: 'largest `users` published by one invocation: reference-engine configs, jobs, nightly fixtures',
  },
  SYNC_MAX_USERS: {
    default: DEFAULT_SYNC_MAX_USERS,
    min: 0,
    max: MAX_USERS,
    meaning: 'largest `users` answered inside the API request',
  },
  SINGLE_RUN_MAX_BYTES: {
    default: DEFAULT_SINGLE_RUN_MAX_BYTES,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    meaning: 'largest estimated bytes written by one invocation or one fan-out shard',
  },
  MAX_OUTPUT_BYTES: {
    default: DEFAULT_MAX_OUTPUT_BYTES,
    min: 1,
    max: Number.MAX_SAFE_INTEGER,
    meaning: 'largest estimated bytes of a dataset, all files together',
  },
  SYNC_WAIT_SECONDS: {
    default: DEFAULT_SYNC_WAIT_SECONDS,
    min: 0,
    max: 25,
    meaning: "how long a POST waits for an identical request's run before answering 202",
  },
  SYNC_MAX_ROWS: {
    default: DEFAULT_SYNC_MAX_ROWS,
    min: 0,
    max: Number.MAX_SAFE_INTEGER,
    meaning: 'largest estimated rows answered inside the API request',
  },
  // API Gateway refuses payloads over 10 MB; a config is a few hundred bytes.
  MAX_BODY_BYTES: { default: 64 * 1024, min: 1, max: 10 * 1024 * 1024, meaning: 'largest POST body the handler reads' },
  RUN_MARKER_STALE_SECONDS: {
    default: STALE_RUN_SECONDS,
    min: 1,
    max: 24 * 3600,
    meaning: "the function's timeout: a run older than that has died",
  },
  // SigV4 presigned URLs live at most 7 days.
  PRESIGN_EXPIRES_SECONDS: {
    default: 900,
    min: 1,
    max: 7 * 24 * 3600,
    meaning: 'lifetime of the presigned GET URLs in API answers',
  },
  // Where one invocation's limit ends, so every seedrandom config up to MAX_USERS has a path (`fanoutGap`).
  FANOUT_MIN_USERS: {
    default: DEFAULT_SINGLE_RUN_MAX_USERS,
    min: 1,
    max: MAX_USERS,
    meaning: 'seedrandom configs of at least this many users go to the fan-out state machine',
  },
} as const satisfies Record<string, IntegerSetting>;

export type IntegerVariable = keyof typeof INTEGER_SETTINGS;

export const DEFAULT_ROOT_PREFIX = 'tierdrift';

/** The function's other variables, and what each is. */
export const TEXT_SETTINGS = {
  BUCKET_NAME: { meaning: 'the S3 bucket datasets are published to (required)' },
  ROOT_PREFIX: { default: DEFAULT_ROOT_PREFIX, meaning: 'key prefix of everything the function writes' },
  ROLLING_PREFIX: {
    meaning: 'where date-seeded nightly fixtures go (default `<root>/rolling`, lambda/layout/key-layout.ts)',
  },
  STATE_MACHINE_ARN: { meaning: 'the fan-out state machine; without it, no fan-out' },
  AWS_LAMBDA_FUNCTION_NAME: {
    meaning: 'set by the Lambda runtime: the function hands big jobs to an asynchronous invocation of itself',
  },
} as const;

export type FunctionVariable = IntegerVariable | keyof typeof TEXT_SETTINGS;

/**
 * The variables a deployment sets, typed so that a misspelt or forgotten one fails to compile:
 * all of them, except those the runtime sets and those deployments leave at their default.
 */
export type DeployedEnvironment = Record<
  Exclude<FunctionVariable, 'AWS_LAMBDA_FUNCTION_NAME' | 'SYNC_WAIT_SECONDS'>,
  string
> &
  Partial<Record<'SYNC_WAIT_SECONDS', string>>;

/**
 * Seedrandom configs of SINGLE_RUN_MAX_USERS + 1 to FANOUT_MIN_USERS - 1 users would be too big for
 * one invocation and too small for the fan-out: refused, however valid. The problem, or undefined.
 */
export function fanoutGap(singleRunMaxUsers: number, fanoutMinUsers: number): string | undefined {
  if (fanoutMinUsers <= singleRunMaxUsers + 1) return undefined;
  return `must be at most SINGLE_RUN_MAX_USERS + 1 (${singleRunMaxUsers + 1}; got ${fanoutMinUsers}): seedrandom configs in between would fit neither one invocation nor the fan-out`;
}
