import { ArnFormat, Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { FANOUT_KINDS } from '../lambda/fanout/fanout-payloads.js';
import { logicalIdOf } from './stack-part.js';

export interface FanoutStateMachineProps {
  /** The function every step invokes (the same one behind the API). */
  fn: lambda.IFunction;
  /** Execution name space: fixed, so the function can be given the ARN without referencing the state machine. */
  stateMachineName: string;
  /** Shards run at once in each Map (count, shard). */
  maxConcurrency: number;
  /** Retries of a failed step (after the function threw), with exponential backoff. */
  retryAttempts: number;
  logRetentionDays: logs.RetentionDays;
}

/** A whole fan-out: 20 shards of 500,000 users take minutes; hours mean something is stuck. */
export const FANOUT_TIMEOUT = Duration.hours(6);
/** First retry after a failed step; each further one waits twice as long (with full jitter). */
export const STEP_RETRY_INTERVAL = Duration.seconds(10);
/** Lambda refusing an invocation (throttling at the reserved concurrency, service errors): retried longer. */
export const LAMBDA_SERVICE_ERRORS = [
  'Lambda.TooManyRequestsException',
  'Lambda.ServiceException',
  'Lambda.AWSLambdaException',
  'Lambda.SdkClientException',
  'Lambda.ClientExecutionTimeoutException',
];

/** Where a Catch puts the error ({Error, Cause}) in the state's input, for the cleanup task and the Fail state. */
export const CAUGHT_ERROR = '$.error';

/** The ARN a state machine of this name gets in the stack's account and region. */
export function stateMachineArnOf(stack: Stack, name: string): string {
  return stack.formatArn({
    service: 'states',
    resource: 'stateMachine',
    resourceName: name,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/** The ARNs of every execution of the state machine of this name (`…:execution:<name>:<execution name>`). */
export function executionArnsOf(stack: Stack, name: string): string {
  return stack.formatArn({
    service: 'states',
    resource: 'execution',
    resourceName: `${name}:*`,
    arnFormat: ArnFormat.COLON_RESOURCE_NAME,
  });
}

/**
 * The fan-out (README, Fan-out on AWS), each state one invocation of the function with one of the
 * `tierdrift.fanout.*` payloads; the execution's input is the plan payload the API sends:
 *   Plan (→ $.run) → Count: Distributed Map over $.run.shards (→ $.counts) → Offsets (→ $.run)
 *   → Shard: Distributed Map over $.run.shards → Commit (its report is the execution's output)
 * Any step failing for good is caught → Cleanup (or PlanFailed) → Failed.
 * The shards are inline items of the state (20 shards of a 10-million-user run are ~2 KB); each
 * Map item is a Standard child execution, because a shard task may run up to the function's
 * 15 minutes (Express child executions stop at 5).
 */
export class FanoutStateMachine extends Construct {
  readonly stateMachine: sfn.StateMachine;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: FanoutStateMachineProps) {
    super(scope, id);
    const step = (
      stepId: string,
      payload: Record<string, unknown> | undefined,
      resultPath?: string,
    ): tasks.LambdaInvoke => {
      const task = new tasks.LambdaInvoke(this, stepId, {
        lambdaFunction: props.fn,
        // Without a payload, the state's whole input is sent (Plan: the execution's input; a Map item: its selected item).
        payload: payload && sfn.TaskInput.fromObject(payload),
        payloadResponseOnly: true,
        retryOnServiceExceptions: false, // the retriers below cover them, with backoff
        resultPath,
      });
      task.addRetry({
        errors: LAMBDA_SERVICE_ERRORS,
        interval: Duration.seconds(2),
        maxAttempts: 6,
        backoffRate: 2,
        jitterStrategy: sfn.JitterType.FULL,
      });
      if (props.retryAttempts > 0) {
        task.addRetry({
          errors: [sfn.Errors.ALL],
          interval: STEP_RETRY_INTERVAL,
          maxAttempts: props.retryAttempts,
          backoffRate: 2,
          jitterStrategy: sfn.JitterType.FULL,
        });
      }
      return task;
    };
    const overShards = (mapId: string, itemSelector: Record<string, unknown>, resultPath: string): sfn.DistributedMap =>
      new sfn.DistributedMap(this, mapId, {
        itemsPath: '$.run.shards',
        itemSelector: { ...itemSelector, 'shard.$': '$$.Map.Item.Value' },
        maxConcurrency: props.maxConcurrency,
        mapExecutionType: sfn.StateMachineType.STANDARD,
        resultPath,
      });

    const plan = step('Plan', undefined, '$.run');
    const count = overShards(
      'Count',
      { kind: FANOUT_KINDS.count, 'config.$': '$.run.config' },
      '$.counts',
    ).itemProcessor(step('CountShard', undefined));
    const offsets = step('Offsets', { kind: FANOUT_KINDS.offsets, 'run.$': '$.run', 'counts.$': '$.counts' }, '$.run');
    const shard = overShards(
      'Shard',
      { kind: FANOUT_KINDS.shard, 'config.$': '$.run.config', 'runId.$': '$.run.runId' },
      sfn.JsonPath.DISCARD,
    ).itemProcessor(step('WriteShard', undefined));
    const commit = step('Commit', { kind: FANOUT_KINDS.commit, 'run.$': '$.run' });

    // A step that failed for good (retries spent, or a Map's item did) is caught: the cleanup task
    // deletes the run's parts and marks the run failed, then the execution fails with the step's
    // error. Before the plan has returned there is no run id (and nothing under _parts/).
    const failed = new sfn.Fail(this, 'Failed', {
      errorPath: `${CAUGHT_ERROR}.Error`,
      causePath: `${CAUGHT_ERROR}.Cause`,
    });
    const cleanupOf = (stepId: string, runId: Record<string, string>): tasks.LambdaInvoke =>
      step(
        stepId,
        { kind: FANOUT_KINDS.cleanup, 'config.$': '$.config', ...runId, 'error.$': CAUGHT_ERROR },
        sfn.JsonPath.DISCARD,
      );
    plan.addCatch(cleanupOf('PlanFailed', {}).next(failed), { errors: [sfn.Errors.ALL], resultPath: CAUGHT_ERROR });
    const cleanup = cleanupOf('Cleanup', { 'runId.$': '$.run.runId' }).next(failed);
    for (const state of [count, offsets, shard, commit])
      state.addCatch(cleanup, { errors: [sfn.Errors.ALL], resultPath: CAUGHT_ERROR });

    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      stateMachineName: props.stateMachineName,
      comment: 'tierdrift fan-out: plan, count each shard, offsets, write each shard, commit; on failure, clean up',
      definitionBody: sfn.DefinitionBody.fromChainable(plan.next(count).next(offsets).next(shard).next(commit)),
      stateMachineType: sfn.StateMachineType.STANDARD,
      timeout: FANOUT_TIMEOUT,
      tracingEnabled: true,
      // Payloads are configs, shard ranges and counts: no secrets, and what a failed run needs explaining.
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });

    Validations.of(this.stateMachine.role.node.findChild('DefaultPolicy')).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${logicalIdOf(props.fn)}.Arn>:*]`,
        reason:
          "Written by CDK's LambdaInvoke task (grantInvoke): lambda:InvokeFunction on this one function and its " +
          'qualified ARNs (versions/aliases) only; the state machine can invoke no other function.',
      },
      {
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'What CloudWatch Logs delivery (logs:CreateLogDelivery, GetLogDelivery, UpdateLogDelivery, DeleteLogDelivery, ' +
          'ListLogDeliveries, PutResourcePolicy, DescribeResourcePolicies, DescribeLogGroups) and X-Ray tracing ' +
          '(xray:PutTraceSegments, PutTelemetryRecords, GetSamplingRules, GetSamplingTargets) need for the logging and ' +
          'tracing cdk-nag requires (SF1, SF2): these actions do not support resource-level permissions.',
      },
    );
    const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalIdOf(this.stateMachine)}"}]}]}`;
    Validations.of(this.stateMachine.node.findChild('DistributedMapPolicy')).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::${executions}:*]`,
        reason:
          'Written by CDK for the Distributed Maps: states:DescribeExecution and states:StopExecution on this state ' +
          "machine's own executions (execution ARNs are named at run time); no other state machine is reachable.",
      },
      {
        id: `AwsSolutions-IAM5[Resource::${executions}/*:*]`,
        reason:
          'Written by CDK for the Distributed Maps: states:RedriveExecution on the child executions of this state ' +
          "machine's own map runs (named at run time); no other state machine is reachable.",
      },
    );
  }
}

/**
 * The function's permission to start the fan-out from the API: a separate policy naming exactly
 * this state machine; describing its executions tells a running one from one that ended (its name
 * is then retried as <id>-r<n>).
 */
export function allowStartingFanout(
  scope: Construct,
  role: iam.IRole,
  fanout: FanoutStateMachine,
  stateMachineName: string,
): iam.Policy {
  const policy = new iam.Policy(scope, 'StartFanout', {
    roles: [role],
    statements: [
      new iam.PolicyStatement({
        sid: 'StartFanoutExecutions',
        actions: ['states:StartExecution'],
        resources: [fanout.stateMachine.stateMachineArn],
      }),
      new iam.PolicyStatement({
        sid: 'DescribeFanoutExecutions',
        actions: ['states:DescribeExecution'],
        resources: [executionArnsOf(Stack.of(scope), stateMachineName)],
      }),
    ],
  });
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${stateMachineName}:*]`,
    reason:
      'states:DescribeExecution on the executions of the fan-out state machine only: they are named at run time ' +
      '(the dataset id, then <id>-r<n> after a failed run), and the API reads their status to tell a running ' +
      'fan-out from one that ended. No other state machine is reachable.',
  });
  return policy;
}
