import aslValidator from 'asl-validator';
import { beforeAll, describe, expect, it } from 'vitest';
import { FANOUT_KINDS } from '../../lambda/fanout/fanout-payloads.js';
import { LAMBDA_SERVICE_ERRORS } from '../../infra/fanout-state-machine.js';
import { fanoutDefinitionOf, LOCAL_FUNCTION_ARN } from '../../infra/synthesize.js';
import { getAtt, idOf, onlyOfType, ref, statesArn, synthStack, type Synthesized } from './synth-stack.js';

let s: Synthesized;
let ids: { fn: string; stateMachine: string; role: string; logGroup: string };

/** The state machine's definition, with the function's ARN (the template's only token in it) as "<function>". */
function definitionOf(synth: Synthesized): any {
  const parts: unknown[] = onlyOfType(synth.json, 'AWS::StepFunctions::StateMachine').resource.Properties
    .DefinitionString['Fn::Join'][1];
  for (const part of parts)
    if (typeof part !== 'string') expect(part).toEqual(getAtt(idOf(synth.stack, synth.stack.fn)));
  return fanoutDefinitionOf(synth.json, '<function>');
}

beforeAll(() => {
  s = synthStack();
  const machine = s.stack.fanout.stateMachine;
  ids = {
    fn: idOf(s.stack, s.stack.fn),
    stateMachine: idOf(s.stack, machine),
    role: idOf(s.stack, machine.role),
    logGroup: idOf(s.stack, s.stack.fanout.logGroup),
  };
});

const retries = (attempts = 2) => [
  { ErrorEquals: LAMBDA_SERVICE_ERRORS, IntervalSeconds: 2, MaxAttempts: 6, BackoffRate: 2, JitterStrategy: 'FULL' },
  ...(attempts > 0
    ? [
        {
          ErrorEquals: ['States.ALL'],
          IntervalSeconds: 10,
          MaxAttempts: attempts,
          BackoffRate: 2,
          JitterStrategy: 'FULL',
        },
      ]
    : []),
];
const task = (rest: Record<string, unknown>, attempts?: number) => ({
  Type: 'Task',
  Resource: '<function>',
  Retry: retries(attempts),
  ...rest,
});

describe('the fan-out state machine', () => {
  it('is plan → Distributed Map of count tasks → offsets → Distributed Map of shard tasks → commit, each invoking the function', () => {
    const definition = definitionOf(s);
    // Every step that fails for good goes to the cleanup task (the error at $.error), then fails the execution.
    const caught = (next: string) => ({ Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: next }] });
    const mapOf = (
      kind: string,
      selector: Record<string, string>,
      taskId: string,
      resultPath: string | null,
      next: string,
    ) => ({
      Type: 'Map',
      ItemsPath: '$.run.shards',
      ItemSelector: { kind, ...selector, 'shard.$': '$$.Map.Item.Value' },
      MaxConcurrency: 3,
      ResultPath: resultPath,
      Next: next,
      ...caught('Cleanup'),
      ItemProcessor: {
        ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
        StartAt: taskId,
        States: { [taskId]: task({ End: true }) },
      },
    });
    const cleanup = (runId: Record<string, string>) =>
      task({
        Parameters: { kind: FANOUT_KINDS.cleanup, 'config.$': '$.config', ...runId, 'error.$': '$.error' },
        ResultPath: null,
        Next: 'Failed',
      });
    expect(definition).toEqual({
      StartAt: 'Plan',
      Comment: expect.any(String),
      TimeoutSeconds: 6 * 3600,
      States: {
        // No Parameters: the execution's input, the API's plan payload, is the step's payload.
        Plan: task({ ResultPath: '$.run', Next: 'Count', ...caught('PlanFailed') }),
        Count: mapOf(FANOUT_KINDS.count, { 'config.$': '$.run.config' }, 'CountShard', '$.counts', 'Offsets'),
        Offsets: task({
          Parameters: { kind: FANOUT_KINDS.offsets, 'run.$': '$.run', 'counts.$': '$.counts' },
          ResultPath: '$.run',
          Next: 'Shard',
          ...caught('Cleanup'),
        }),
        Shard: mapOf(
          FANOUT_KINDS.shard,
          { 'config.$': '$.run.config', 'runId.$': '$.run.runId' },
          'WriteShard',
          null,
          'Commit',
        ),
        Commit: task({ Parameters: { kind: FANOUT_KINDS.commit, 'run.$': '$.run' }, End: true, ...caught('Cleanup') }),
        // Before the plan returned there is no run id, and no parts: the run is only marked failed.
        PlanFailed: cleanup({}),
        Cleanup: cleanup({ 'runId.$': '$.run.runId' }),
        // The execution fails with the caught error, not the cleanup's.
        Failed: { Type: 'Fail', ErrorPath: '$.error.Error', CausePath: '$.error.Cause' },
      },
    });
  });

  it('is valid Amazon States Language (asl-validator 4, ARNs and paths checked)', () => {
    const definition = fanoutDefinitionOf(s.json, LOCAL_FUNCTION_ARN);
    const result = aslValidator(structuredClone(definition), { checkArn: true, checkPaths: true });
    expect(result.isValid, result.errorsText()).toBe(true);
    // The validator does reject a broken one.
    expect(
      aslValidator({ ...structuredClone(definition), StartAt: 'Nowhere' }, { checkArn: true, checkPaths: true })
        .isValid,
    ).toBe(false);
  });

  it('is a Standard state machine with a fixed name, logging everything to its retained log group, traced', () => {
    const { resource } = onlyOfType(s.json, 'AWS::StepFunctions::StateMachine');
    expect(resource.Properties).toMatchObject({
      StateMachineName: 'Tierdrift-fanout',
      StateMachineType: 'STANDARD',
      RoleArn: getAtt(ids.role),
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: {
        Level: 'ALL',
        IncludeExecutionData: true,
        Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: getAtt(ids.logGroup) } }],
      },
    });
    expect(s.json.Resources[ids.logGroup]).toMatchObject({
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
    });
  });

  it('its role is assumable by Step Functions only and may invoke only this function; Distributed Map rights on its own executions only', () => {
    expect(s.json.Resources[ids.role].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'states.amazonaws.com' },
        // CDK's confused-deputy guard: only state machines of this account.
        Condition: {
          ArnLike: {
            'aws:SourceArn': statesArn('stateMachine:*'),
          },
          StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
        },
      },
    ]);
    const statements = Object.values(s.json.Resources)
      .filter(
        (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([ref(ids.role)]),
      )
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    const executions = (tail: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          ref('AWS::Partition'),
          ':states:',
          ref('AWS::Region'),
          ':',
          ref('AWS::AccountId'),
          ':execution:',
          { 'Fn::Select': [6, { 'Fn::Split': [':', ref(ids.stateMachine)] }] },
          tail,
        ],
      ],
    });
    expect(statements).toEqual([
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: [getAtt(ids.fn), { 'Fn::Join': ['', [getAtt(ids.fn), ':*']] }],
      },
      {
        Action: [
          'logs:CreateLogDelivery',
          'logs:DeleteLogDelivery',
          'logs:DescribeLogGroups',
          'logs:DescribeResourcePolicies',
          'logs:GetLogDelivery',
          'logs:ListLogDeliveries',
          'logs:PutResourcePolicy',
          'logs:UpdateLogDelivery',
          'xray:GetSamplingRules',
          'xray:GetSamplingTargets',
          'xray:PutTelemetryRecords',
          'xray:PutTraceSegments',
        ],
        Effect: 'Allow',
        Resource: '*',
      },
      { Action: 'states:StartExecution', Effect: 'Allow', Resource: ref(ids.stateMachine) },
      { Action: ['states:DescribeExecution', 'states:StopExecution'], Effect: 'Allow', Resource: executions(':*') },
      { Action: 'states:RedriveExecution', Effect: 'Allow', Resource: executions('/*:*') },
    ]);
  });

  it('the function may start exactly this state machine, and knows its ARN without a circular reference', () => {
    const start = Object.values(s.json.Resources).filter(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties).includes('states:StartExecution'),
    );
    const fnRole = idOf(s.stack, s.stack.fn.role as never);
    const executions = statesArn('execution:Tierdrift-fanout:*');
    expect(start.map((p) => [p.Properties.Roles, p.Properties.PolicyDocument.Statement])).toEqual(
      expect.arrayContaining([
        [
          [ref(fnRole)],
          [
            {
              Sid: 'StartFanoutExecutions',
              Effect: 'Allow',
              Action: 'states:StartExecution',
              Resource: ref(ids.stateMachine),
            },
            // The status of its executions: a running one is left alone, an ended one's name is retried as <id>-r<n>.
            {
              Sid: 'DescribeFanoutExecutions',
              Effect: 'Allow',
              Action: 'states:DescribeExecution',
              Resource: executions,
            },
          ],
        ],
      ]),
    );
    const fn = s.json.Resources[ids.fn];
    expect(JSON.stringify(fn)).not.toContain(ids.stateMachine);
    expect(fn.Properties.Environment.Variables.STATE_MACHINE_ARN['Fn::Join'][1].at(-1)).toBe(
      ':stateMachine:Tierdrift-fanout',
    );
  });

  it('takes its concurrency and retries from the context', () => {
    const custom = synthStack({ 'tierdrift:fanoutMaxConcurrency': '1', 'tierdrift:fanoutRetryAttempts': '0' });
    const definition = definitionOf(custom);
    for (const map of ['Count', 'Shard']) expect(definition.States[map].MaxConcurrency).toBe(1);
    expect(definition.States.Plan.Retry).toEqual(retries(0));
    expect(definition.States.Count.ItemProcessor.States.CountShard.Retry).toEqual(retries(0));
    expect(definition.States.Cleanup.Retry).toEqual(retries(0));
  });
});
