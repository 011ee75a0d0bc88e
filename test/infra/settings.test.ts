import { Match } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import {
  CONTEXT_PREFIX,
  DEFAULT_SETTINGS,
  FUNCTION_VARIABLE_OF,
  parseSettings,
  type TierdriftSettings,
} from '../../infra/settings.js';
import type { FunctionEnvironment } from '../../infra/generator-function.js';
import { loadEnvironment } from '../../lambda/handler/environment.js';
import { INTEGER_SETTINGS } from '../../lambda/settings/function-settings.js';
import { CDK_JSON, getAtt, idOf, onlyOfType, synthStack } from './synth-stack.js';

describe('deployment settings (CDK context)', () => {
  it('cdk.json repeats no default: a tierdrift entry there names a setting and overrides its default', () => {
    const fromCdkJson = Object.entries(CDK_JSON.context).filter(([key]) => key.startsWith(CONTEXT_PREFIX));
    for (const [key, value] of fromCdkJson) {
      const setting = key.slice(CONTEXT_PREFIX.length) as keyof TierdriftSettings;
      expect(Object.keys(DEFAULT_SETTINGS), key).toContain(setting);
      expect(value, `${key} repeats the default in infra/settings.ts`).not.toEqual(DEFAULT_SETTINGS[setting]);
    }
    expect(parseSettings({})).toEqual(DEFAULT_SETTINGS);
  });

  it("the settings passed to the function default to the function's own defaults, and the stack passes them to it", () => {
    for (const [setting, variable] of Object.entries(FUNCTION_VARIABLE_OF)) {
      expect(DEFAULT_SETTINGS[setting as keyof typeof FUNCTION_VARIABLE_OF], setting).toBe(
        INTEGER_SETTINGS[variable].default,
      );
    }
    const s = synthStack();
    const variables = s.json.Resources[idOf(s.stack, s.stack.fn)].Properties.Environment.Variables as Record<
      string,
      unknown
    >;
    for (const variable of Object.values(FUNCTION_VARIABLE_OF))
      expect(variables[variable], variable).toBe(String(INTEGER_SETTINGS[variable].default));
    // What the function makes of it (the tokens given values): every variable valid, the defaults unchanged.
    const deployed = {
      ...variables,
      BUCKET_NAME: 'my-bucket',
      STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:123456789012:stateMachine:Tierdrift-fanout',
    };
    const env = loadEnvironment(deployed);
    expect(env).toMatchObject({
      maxUsers: DEFAULT_SETTINGS.maxUsers,
      maxOutputBytes: DEFAULT_SETTINGS.maxOutputBytes,
      sync: { maxUsers: DEFAULT_SETTINGS.syncMaxUsers, maxRows: DEFAULT_SETTINGS.syncMaxRows },
    });
  });

  it("the stack's environment map is typed by the function's settings: a misspelt or missing variable does not compile", () => {
    const valid: FunctionEnvironment = {
      BUCKET_NAME: 'b',
      ROOT_PREFIX: 'r',
      ROLLING_PREFIX: 'r/rolling',
      MAX_USERS: '1',
      SINGLE_RUN_MAX_USERS: '1',
      SYNC_MAX_USERS: '1',
      SYNC_MAX_ROWS: '1',
      SINGLE_RUN_MAX_BYTES: '1',
      MAX_OUTPUT_BYTES: '1',
      FANOUT_MIN_USERS: '1',
      STATE_MACHINE_ARN: 'arn',
      MAX_BODY_BYTES: '1',
      RUN_MARKER_STALE_SECONDS: '1',
      PRESIGN_EXPIRES_SECONDS: '1',
      NODE_OPTIONS: '',
      POWERTOOLS_SERVICE_NAME: 's',
      POWERTOOLS_METRICS_NAMESPACE: 's',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    // @ts-expect-error a misspelt variable
    const misspelt: FunctionEnvironment = { ...valid, MAX_USER: '1' };
    const { MAX_OUTPUT_BYTES: _left, ...rest } = valid;
    // @ts-expect-error a missing variable
    const missing: FunctionEnvironment = rest;
    // Checked by tsc (npm test); at run time, only that every function variable is in the map.
    expect(Object.keys(valid)).toEqual(
      expect.arrayContaining(Object.keys(INTEGER_SETTINGS).filter((v) => v !== 'SYNC_WAIT_SECONDS')),
    );
    expect([misspelt, missing]).toHaveLength(2);
  });

  it('parses `-c key=value` strings', () => {
    expect(
      parseSettings({ rollingRetentionDays: '7', nightlyEnabled: 'false', memoryMiB: '3008', syncMaxUsers: '0' }),
    ).toMatchObject({
      rollingRetentionDays: 7,
      nightlyEnabled: false,
      memoryMiB: 3008,
      syncMaxUsers: 0,
    });
  });

  it('reports every bad value at once, each naming its key', () => {
    let message = '';
    try {
      parseSettings({
        rootPrefix: '/tierdrift/',
        rollingRetentionDays: '1',
        nightlyCron: '0 3 * * *',
        nightlyTimeZone: 'Mars/Olympus_Mons',
        nightlyEnabled: 'yes',
        logRetentionDays: 31,
        memoryMiB: '512',
        reservedConcurrency: 0,
        maxUsers: 1000,
        syncMaxUsers: 5000,
        fanoutRetryAttempts: 11,
        fanoutMaxConcurrency: 5,
      });
    } catch (error) {
      message = (error as Error).message;
    }
    const keys = [...message.matchAll(/- tierdrift:(\w+):/g)].map((m) => m[1]);
    expect(keys).toEqual([
      'rootPrefix',
      'nightlyCron',
      'nightlyTimeZone',
      'logRetentionDays',
      'rollingRetentionDays',
      'nightlyEnabled',
      'memoryMiB',
      'reservedConcurrency',
      'fanoutRetryAttempts',
      'syncMaxUsers',
      'singleRunMaxUsers',
      'fanoutMinUsers',
      'fanoutMaxConcurrency',
    ]);
  });

  it('keeps the fan-out reachable, and every seedrandom size on a path: fanoutMinUsers ≤ maxUsers and ≤ singleRunMaxUsers + 1', () => {
    expect(
      parseSettings({ maxUsers: '3000000', singleRunMaxUsers: '2000000', fanoutMinUsers: '2000001' }),
    ).toMatchObject({ fanoutMinUsers: 2_000_001 });
    expect(() =>
      parseSettings({ maxUsers: '1000000', fanoutMinUsers: '1000001', singleRunMaxUsers: '1000000' }),
    ).toThrow(
      'tierdrift:fanoutMinUsers: must not exceed tierdrift:maxUsers, or no request reaches the fan-out (1000001 > 1000000)',
    );
    expect(() => parseSettings({ fanoutMinUsers: '2000000' })).toThrow(
      'tierdrift:fanoutMinUsers: must be at most tierdrift:singleRunMaxUsers + 1 (1000001; got 2000000)',
    );
  });

  it('context overrides reach the template: schedule, time zone, retention, root prefix and its grants', () => {
    const s = synthStack({
      'tierdrift:nightlyCron': 'cron(0 4 ? * MON-FRI *)',
      'tierdrift:nightlyTimeZone': 'Europe/Berlin',
      'tierdrift:nightlyEnabled': 'false',
      'tierdrift:rollingRetentionDays': '7',
      'tierdrift:rootPrefix': 'data/td',
      'tierdrift:reservedConcurrency': '2',
      'tierdrift:fanoutMaxConcurrency': '2',
      'tierdrift:fanoutMinUsers': '3000000',
      'tierdrift:singleRunMaxUsers': '3000000',
    });
    const schedule = onlyOfType(s.json, 'AWS::Scheduler::Schedule').resource.Properties;
    expect(schedule).toMatchObject({
      ScheduleExpression: 'cron(0 4 ? * MON-FRI *)',
      ScheduleExpressionTimezone: 'Europe/Berlin',
      State: 'DISABLED',
    });
    const bucket = idOf(s.stack, s.stack.bucket);
    expect(s.json.Resources[bucket].Properties.LifecycleConfiguration.Rules[1]).toEqual({
      Id: 'expire-rolling-nightly-fixtures',
      Status: 'Enabled',
      Prefix: 'data/td/rolling/',
      ExpirationInDays: 7,
    });
    const fn = s.json.Resources[idOf(s.stack, s.stack.fn)].Properties;
    expect(fn.ReservedConcurrentExecutions).toBe(2);
    expect(fn.Environment.Variables).toMatchObject({
      ROOT_PREFIX: 'data/td',
      ROLLING_PREFIX: 'data/td/rolling',
      FANOUT_MIN_USERS: '3000000',
      SINGLE_RUN_MAX_USERS: '3000000',
    });
    const definition = JSON.stringify(
      onlyOfType(s.json, 'AWS::StepFunctions::StateMachine').resource.Properties.DefinitionString,
    );
    expect(definition.match(/\\"MaxConcurrency\\":2[,}]/g)).toHaveLength(2);
    s.template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Resource: { 'Fn::Join': ['', [getAtt(bucket), '/data/td/*']] } }),
          Match.objectLike({ Condition: { StringLike: { 's3:prefix': ['data/td/*'] } } }),
        ]),
      },
    });
    // The acknowledgements follow the prefix: still nothing unacknowledged.
    expect(new AwsSolutionsChecks(s.app).validateScope(s.stack).violations).toEqual([]);
  });
});
