import { z } from 'zod';
import { issueProblems, problemsListed } from '../errors/problem.js';
import { rollingRoot } from '../layout/key-layout.js';
import {
  DEFAULT_ROOT_PREFIX,
  fanoutGap,
  INTEGER_SETTINGS,
  type FunctionVariable,
  type IntegerVariable,
} from '../settings/function-settings.js';
import { bucketNameProblem } from '../storage/s3-location.js';

/** An integer variable (lambda/settings/function-settings.ts), unset (or empty) meaning its default. */
const integerVar = (name: IntegerVariable) => {
  const { min, max, default: fallback } = INTEGER_SETTINGS[name];
  return z.preprocess(
    (v) => (v === undefined || v === '' ? String(fallback) : v),
    z
      .string()
      .refine((s) => /^\d+$/.test(s) && Number(s) >= min && Number(s) <= max, {
        error: (issue) => `must be an integer from ${min} to ${max} (got ${JSON.stringify(issue.input)})`,
      })
      .transform(Number),
  );
};

const environmentSchema = z.object({
  BUCKET_NAME: z.string({ error: 'is required: the S3 bucket datasets are published to' }).superRefine((name, ctx) => {
    const problem = bucketNameProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: `must be an S3 bucket name: ${problem}` });
  }),
  ROOT_PREFIX: z.preprocess(
    (v) => (v === undefined ? DEFAULT_ROOT_PREFIX : v),
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
  MAX_USERS: integerVar('MAX_USERS'),
  SINGLE_RUN_MAX_USERS: integerVar('SINGLE_RUN_MAX_USERS'),
  SYNC_MAX_USERS: integerVar('SYNC_MAX_USERS'),
  SINGLE_RUN_MAX_BYTES: integerVar('SINGLE_RUN_MAX_BYTES'),
  MAX_OUTPUT_BYTES: integerVar('MAX_OUTPUT_BYTES'),
  SYNC_WAIT_SECONDS: integerVar('SYNC_WAIT_SECONDS'),
  SYNC_MAX_ROWS: integerVar('SYNC_MAX_ROWS'),
  MAX_BODY_BYTES: integerVar('MAX_BODY_BYTES'),
  RUN_MARKER_STALE_SECONDS: integerVar('RUN_MARKER_STALE_SECONDS'),
  PRESIGN_EXPIRES_SECONDS: integerVar('PRESIGN_EXPIRES_SECONDS'),
  FANOUT_MIN_USERS: integerVar('FANOUT_MIN_USERS'),
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
} satisfies Record<FunctionVariable, z.ZodType>);

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
    super(`invalid environment:\n${problemsListed(problems.map((p) => ({ field: p.variable, rule: p.rule })))}`);
    this.name = 'EnvironmentError';
  }
}

/** Reads and checks the function's settings, reporting every bad variable at once. */
export function loadEnvironment(env: Record<string, string | undefined>): Environment {
  const parsed = environmentSchema.safeParse(env);
  if (!parsed.success) {
    throw new EnvironmentError(
      issueProblems(parsed.error.issues, { whole: '(environment)' }).map((p) => ({ variable: p.field, rule: p.rule })),
    );
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
