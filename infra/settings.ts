import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import {
  DEFAULT_ROOT_PREFIX,
  fanoutGap,
  INTEGER_SETTINGS,
  type IntegerVariable,
} from '../lambda/settings/function-settings.js';

/**
 * Deployment settings, read from CDK context (override with `npx cdk deploy -c tierdrift:KEY=VALUE`
 * or a `tierdrift:KEY` entry in cdk.json's context). The defaults are here; those of the settings
 * passed on to the function's environment, with their ranges, come from the function's settings
 * (lambda/settings/function-settings.ts). Every value is checked here, at synth time, so a typo
 * fails `cdk synth` with a message naming the key instead of failing a deployment half way.
 */
export interface TierdriftSettings {
  /** Top-level key prefix of everything the function writes (no leading or trailing slash). */
  rootPrefix: string;
  /** Days before a rolling nightly fixture (under `<root>/rolling/`) expires. */
  rollingRetentionDays: number;
  /** EventBridge Scheduler cron expression of the nightly run, e.g. `cron(30 2 * * ? *)`. */
  nightlyCron: string;
  /** IANA time zone the cron expression is read in. */
  nightlyTimeZone: string;
  nightlyEnabled: boolean;
  /**
   * Function memory (MiB). CPU is proportional to it and 1769 MiB is one full vCPU: the generator
   * runs on one thread in the function, so more buys no speed, less slows it; peak RSS is ~200 MB.
   */
  memoryMiB: number;
  /** Concurrent executions reserved for (and capping) the function. */
  reservedConcurrency: number;
  /** Retention of the function's and the API's log groups, in days (a CloudWatch Logs value). */
  logRetentionDays: RetentionDays;
  /** Largest `users` the function accepts at all, i.e. what the fan-out publishes (MAX_USERS). */
  maxUsers: number;
  /** Largest `users` published by one invocation: reference-engine configs, jobs, nightly fixtures (SINGLE_RUN_MAX_USERS). */
  singleRunMaxUsers: number;
  /** Largest `users` answered inside the API request; larger runs go asynchronous (SYNC_MAX_USERS). */
  syncMaxUsers: number;
  /** Largest estimated bytes of all files published by one invocation, or one fan-out shard (SINGLE_RUN_MAX_BYTES). */
  singleRunMaxBytes: number;
  /** Largest estimated bytes of all files of a dataset; larger configs are refused (MAX_OUTPUT_BYTES). */
  maxOutputBytes: number;
  /** Largest estimated rows of all files answered inside the API request (SYNC_MAX_ROWS). */
  syncMaxRows: number;
  /** Seedrandom configs of at least this many users go to the fan-out state machine (FANOUT_MIN_USERS). */
  fanoutMinUsers: number;
  /**
   * Shards run at once by each Map of the fan-out. At most the reserved concurrency (the steps run
   * on the same function), and best below it, so API requests still find an instance.
   */
  fanoutMaxConcurrency: number;
  /** Retries of a failed fan-out step, with exponential backoff (throttling is retried on its own). */
  fanoutRetryAttempts: number;
  /** Stage-wide steady-state requests per second and burst. */
  apiRateLimit: number;
  apiBurstLimit: number;
  /** Create the account-level role API Gateway needs to write logs (see docs/deploying.md). */
  apiGatewayCloudWatchRole: boolean;
  /** The Glue database of the datasets' tables, which Athena queries name (`<database>.uploads`). */
  glueDatabaseName: string;
  /** Largest bytes one query of the Athena workgroup may scan; Athena cancels it beyond (and bills per byte scanned). */
  athenaBytesScannedCutoff: number;
  /** Days before a query's results (in the results bucket) expire. */
  athenaResultsRetentionDays: number;
}

export const CONTEXT_PREFIX = 'tierdrift:';

/** The deployment settings that are function variables: their defaults and ranges are the function's. */
export const FUNCTION_VARIABLE_OF = {
  maxUsers: 'MAX_USERS',
  singleRunMaxUsers: 'SINGLE_RUN_MAX_USERS',
  syncMaxUsers: 'SYNC_MAX_USERS',
  singleRunMaxBytes: 'SINGLE_RUN_MAX_BYTES',
  maxOutputBytes: 'MAX_OUTPUT_BYTES',
  syncMaxRows: 'SYNC_MAX_ROWS',
  fanoutMinUsers: 'FANOUT_MIN_USERS',
} as const satisfies Partial<Record<keyof TierdriftSettings, IntegerVariable>>;
type FunctionVariableSetting = keyof typeof FUNCTION_VARIABLE_OF;
const functionDefault = (key: FunctionVariableSetting): number => INTEGER_SETTINGS[FUNCTION_VARIABLE_OF[key]].default;

/** CloudWatch Logs retention values (days): the CDK's, less "never expire" (logs must age out). */
export const LOG_RETENTION_DAYS: readonly RetentionDays[] = Object.values(RetentionDays).filter(
  (days): days is RetentionDays => typeof days === 'number' && days !== RetentionDays.INFINITE,
);

export const DEFAULT_SETTINGS: TierdriftSettings = {
  rootPrefix: DEFAULT_ROOT_PREFIX,
  rollingRetentionDays: 14,
  nightlyCron: 'cron(30 2 * * ? *)',
  nightlyTimeZone: 'UTC',
  nightlyEnabled: true,
  memoryMiB: 1769,
  reservedConcurrency: 4,
  logRetentionDays: RetentionDays.ONE_MONTH,
  maxUsers: functionDefault('maxUsers'),
  singleRunMaxUsers: functionDefault('singleRunMaxUsers'),
  syncMaxUsers: functionDefault('syncMaxUsers'),
  singleRunMaxBytes: functionDefault('singleRunMaxBytes'),
  maxOutputBytes: functionDefault('maxOutputBytes'),
  syncMaxRows: functionDefault('syncMaxRows'),
  fanoutMinUsers: functionDefault('fanoutMinUsers'),
  fanoutMaxConcurrency: 3,
  fanoutRetryAttempts: 2,
  apiRateLimit: 10,
  apiBurstLimit: 20,
  apiGatewayCloudWatchRole: true,
  glueDatabaseName: 'tierdrift',
  // 10 GB: about 5 cents a query at Athena's $5 per TB; every Parquet table of a 10-million-user dataset is far less.
  athenaBytesScannedCutoff: 10_000_000_000,
  athenaResultsRetentionDays: 30,
};

/** Reads every `tierdrift:*` context key (defaults for absent ones) and validates them together. */
export function settingsFromContext(node: Node): TierdriftSettings {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(DEFAULT_SETTINGS)) raw[key] = node.tryGetContext(CONTEXT_PREFIX + key);
  return parseSettings(raw);
}

/** Context values given with `-c` arrive as strings: numbers and booleans are parsed from them. */
export function parseSettings(raw: Record<string, unknown>): TierdriftSettings {
  const problems: string[] = [];
  const value = (key: keyof TierdriftSettings): unknown => raw[key] ?? DEFAULT_SETTINGS[key];
  const int = (key: keyof TierdriftSettings, min: number, max: number): number => {
    const v = value(key);
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < min || n > max) {
      problems.push(`${CONTEXT_PREFIX}${key}: must be an integer from ${min} to ${max} (got ${JSON.stringify(v)})`);
      return DEFAULT_SETTINGS[key] as number;
    }
    return n;
  };
  const variable = (key: FunctionVariableSetting): number => {
    const { min, max } = INTEGER_SETTINGS[FUNCTION_VARIABLE_OF[key]];
    return int(key, min, max);
  };
  const bool = (key: keyof TierdriftSettings): boolean => {
    const v = value(key);
    if (v === true || v === 'true') return true;
    if (v === false || v === 'false') return false;
    problems.push(`${CONTEXT_PREFIX}${key}: must be true or false (got ${JSON.stringify(v)})`);
    return DEFAULT_SETTINGS[key] as boolean;
  };
  const str = (key: keyof TierdriftSettings): string => {
    const v = value(key);
    if (typeof v !== 'string') {
      problems.push(`${CONTEXT_PREFIX}${key}: must be a string (got ${JSON.stringify(v)})`);
      return DEFAULT_SETTINGS[key] as string;
    }
    return v;
  };

  const rootPrefix = str('rootPrefix');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/.test(rootPrefix)) {
    problems.push(
      `${CONTEXT_PREFIX}rootPrefix: must be one or more path segments of letters, digits, '.', '_' or '-', ` +
        `without leading or trailing '/' (got ${JSON.stringify(rootPrefix)})`,
    );
  }
  const nightlyCron = str('nightlyCron');
  // EventBridge Scheduler cron: six fields (minutes hours day-of-month month day-of-week year).
  if (!/^cron\(\S+( \S+){5}\)$/.test(nightlyCron)) {
    problems.push(
      `${CONTEXT_PREFIX}nightlyCron: must be an EventBridge Scheduler cron expression with six fields, ` +
        `e.g. "cron(30 2 * * ? *)" (got ${JSON.stringify(nightlyCron)})`,
    );
  }
  const nightlyTimeZone = str('nightlyTimeZone');
  if (!isTimeZone(nightlyTimeZone)) {
    problems.push(
      `${CONTEXT_PREFIX}nightlyTimeZone: must be an IANA time zone such as "UTC" or "Europe/Berlin" (got ${JSON.stringify(nightlyTimeZone)})`,
    );
  }
  const retentionDays = int('logRetentionDays', 1, 3653);
  const logRetentionDays = new Map<number, RetentionDays>(LOG_RETENTION_DAYS.map((days) => [days, days])).get(
    retentionDays,
  );
  if (logRetentionDays === undefined) {
    problems.push(
      `${CONTEXT_PREFIX}logRetentionDays: must be one of ${LOG_RETENTION_DAYS.join(', ')} (got ${retentionDays})`,
    );
  }

  const glueDatabaseName = str('glueDatabaseName');
  // Athena's rule for database names (Glue takes more, Athena's DDL and queries do not).
  if (!/^[a-z][a-z0-9_]{0,254}$/.test(glueDatabaseName)) {
    problems.push(
      `${CONTEXT_PREFIX}glueDatabaseName: must be lowercase letters, digits and '_', starting with a letter, ` +
        `at most 255 characters (got ${JSON.stringify(glueDatabaseName)})`,
    );
  }

  const settings: TierdriftSettings = {
    rootPrefix,
    // At least 2: the nightly run rewrites the `latest/` pointers once a day, so a fixture must
    // outlive the next run for a pointer never to name an expired dataset.
    rollingRetentionDays: int('rollingRetentionDays', 2, 3650),
    nightlyCron,
    nightlyTimeZone,
    nightlyEnabled: bool('nightlyEnabled'),
    // Lambda's range; below 1024 MiB a large run would be CPU-starved for no saving.
    memoryMiB: int('memoryMiB', 1024, 10_240),
    reservedConcurrency: int('reservedConcurrency', 1, 1000),
    logRetentionDays: logRetentionDays ?? DEFAULT_SETTINGS.logRetentionDays,
    maxUsers: variable('maxUsers'),
    singleRunMaxUsers: variable('singleRunMaxUsers'),
    syncMaxUsers: variable('syncMaxUsers'),
    singleRunMaxBytes: variable('singleRunMaxBytes'),
    maxOutputBytes: variable('maxOutputBytes'),
    syncMaxRows: variable('syncMaxRows'),
    fanoutMinUsers: variable('fanoutMinUsers'),
    fanoutMaxConcurrency: int('fanoutMaxConcurrency', 1, 1000),
    fanoutRetryAttempts: int('fanoutRetryAttempts', 0, 10),
    apiRateLimit: int('apiRateLimit', 1, 10_000),
    apiBurstLimit: int('apiBurstLimit', 1, 5_000),
    apiGatewayCloudWatchRole: bool('apiGatewayCloudWatchRole'),
    glueDatabaseName,
    // Athena's smallest cutoff is 10 MB.
    athenaBytesScannedCutoff: int('athenaBytesScannedCutoff', 10_000_000, Number.MAX_SAFE_INTEGER),
    athenaResultsRetentionDays: int('athenaResultsRetentionDays', 1, 3650),
  };
  if (settings.syncMaxUsers > settings.maxUsers) {
    problems.push(
      `${CONTEXT_PREFIX}syncMaxUsers: must not exceed ${CONTEXT_PREFIX}maxUsers (${settings.syncMaxUsers} > ${settings.maxUsers})`,
    );
  }
  if (settings.singleRunMaxUsers > settings.maxUsers) {
    problems.push(
      `${CONTEXT_PREFIX}singleRunMaxUsers: must not exceed ${CONTEXT_PREFIX}maxUsers (${settings.singleRunMaxUsers} > ${settings.maxUsers})`,
    );
  }
  // The state machine is deployed for configs from fanoutMinUsers: below maxUsers, or no request reaches it.
  if (settings.fanoutMinUsers > settings.maxUsers) {
    problems.push(
      `${CONTEXT_PREFIX}fanoutMinUsers: must not exceed ${CONTEXT_PREFIX}maxUsers, or no request reaches the fan-out (${settings.fanoutMinUsers} > ${settings.maxUsers})`,
    );
  }
  const gap = fanoutGap(settings.singleRunMaxUsers, settings.fanoutMinUsers);
  if (gap)
    problems.push(
      `${CONTEXT_PREFIX}fanoutMinUsers: ${gap.replace('SINGLE_RUN_MAX_USERS', `${CONTEXT_PREFIX}singleRunMaxUsers`)}`,
    );
  if (settings.fanoutMaxConcurrency > settings.reservedConcurrency) {
    problems.push(
      `${CONTEXT_PREFIX}fanoutMaxConcurrency: must not exceed ${CONTEXT_PREFIX}reservedConcurrency (${settings.fanoutMaxConcurrency} > ${settings.reservedConcurrency})`,
    );
  }
  if (problems.length > 0) throw new Error(`invalid CDK context:\n  - ${problems.join('\n  - ')}`);
  return settings;
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
