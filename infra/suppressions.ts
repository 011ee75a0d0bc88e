import { Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { fanoutPartsPattern, rootObjectsPattern } from '../lambda/layout/key-layout.js';

/**
 * The cdk-nag AwsSolutions findings this stack accepts, each with the reason a reviewer gets.
 * Every acknowledgement names one rule (and, for IAM5, the exact wildcard) on one construct, so
 * a new finding anywhere else still fails `cdk synth` and the tests. They are written into the
 * template's Metadata (`cdk_nag.rules_to_suppress`) for audit.
 */
export interface SuppressionTargets {
  root: string;
  /** The function role's default policy (its dataset-object statement). */
  functionPolicy: IConstruct;
  /** Rendered logical id of the dataset bucket, as cdk-nag prints it in IAM5 findings. */
  bucketLogicalId: string;
  function: IConstruct;
  functionLogicalId: string;
  schedulerPolicy: IConstruct;
  asyncFailureQueue: IConstruct;
  scheduleDeadLetterQueue: IConstruct;
  accessLogsBucket: IConstruct;
  apiStage: IConstruct;
  apiMethods: IConstruct[];
  /** The fan-out state machine's role policies (CDK's), and its rendered logical id. */
  stateMachinePolicy: IConstruct;
  distributedMapPolicy: IConstruct;
  stateMachineLogicalId: string;
  /** The function's policy to start and describe the fan-out's executions, and the state machine's fixed name. */
  startFanoutPolicy: IConstruct;
  stateMachineName: string;
  /** The API Gateway account logging role, when this stack creates it. */
  apiCloudWatchRole?: IConstruct;
}

export function addSuppressions(t: SuppressionTargets): void {
  Validations.of(t.functionPolicy).acknowledge(
    {
      id: `AwsSolutions-IAM5[Resource::<${t.bucketLogicalId}.Arn>/${rootObjectsPattern(t.root)}]`,
      reason:
        `Dataset keys are created at run time (${t.root}/seed=<seed>/<config hash>/<file>, ${t.root}/latest/<name>.json), ` +
        `so object access is granted on the function's root prefix and nothing else in the bucket; the actions are ` +
        `exactly s3:GetObject, s3:PutObject and s3:AbortMultipartUpload (no ACL or policy changes; deleting is the next statement).`,
    },
    {
      id: `AwsSolutions-IAM5[Resource::<${t.bucketLogicalId}.Arn>/${fanoutPartsPattern(t.root)}]`,
      reason:
        `s3:DeleteObject only on the fan-out's intermediate parts (${t.root}/seed=<seed>/<config hash>/_parts/<run id>/...), ` +
        'which the commit deletes after publishing and the cleanup step after a failure; the dataset ids and run ids ' +
        'are made at run time. No published file (a CSV, manifest.json, a latest/ pointer) matches the pattern.',
    },
  );
  Validations.of(t.startFanoutPolicy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:${t.stateMachineName}:*]`,
    reason:
      'states:DescribeExecution on the executions of the fan-out state machine only: they are named at run time ' +
      '(the dataset id, then <id>-r<n> after a failed run), and the API reads their status to tell a running ' +
      'fan-out from one that ended. No other state machine is reachable.',
  });
  Validations.of(t.schedulerPolicy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::<${t.functionLogicalId}.Arn>:*]`,
    reason:
      "Written by CDK's LambdaInvoke scheduler target (grantInvoke): lambda:InvokeFunction on this one function " +
      'and its qualified ARNs (versions/aliases) only; the wildcard cannot reach any other function. The role is ' +
      'assumable only by EventBridge Scheduler for schedules of this account.',
  });
  Validations.of(t.stateMachinePolicy).acknowledge(
    {
      id: `AwsSolutions-IAM5[Resource::<${t.functionLogicalId}.Arn>:*]`,
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
  const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${t.stateMachineLogicalId}"}]}]}`;
  Validations.of(t.distributedMapPolicy).acknowledge(
    {
      id: `AwsSolutions-IAM5[Resource::${executions}:*]`,
      reason:
        "Written by CDK for the Distributed Maps: states:DescribeExecution and states:StopExecution on this state " +
        "machine's own executions (execution ARNs are named at run time); no other state machine is reachable.",
    },
    {
      id: `AwsSolutions-IAM5[Resource::${executions}/*:*]`,
      reason:
        "Written by CDK for the Distributed Maps: states:RedriveExecution on the child executions of this state " +
        "machine's own map runs (named at run time); no other state machine is reachable.",
    },
  );
  Validations.of(t.function).acknowledge({
    id: 'AwsSolutions-L1',
    reason:
      'The runtime is pinned on purpose (nodejs24.x, the version the bundle targets and the project tests ' +
      'against) instead of following "latest": a runtime change is a reviewed code change, not a side effect ' +
      'of upgrading aws-cdk-lib. nodejs24.x is a supported runtime.',
  });
  for (const queue of [t.asyncFailureQueue, t.scheduleDeadLetterQueue]) {
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason:
        'This queue IS a dead-letter queue: the on-failure destination of the function\'s asynchronous ' +
        'invocations, or the dead-letter queue of the nightly schedule. cdk-nag only recognises queues named in ' +
        'another queue\'s RedrivePolicy; a DLQ of a DLQ would have nothing to catch.',
    });
  }
  Validations.of(t.accessLogsBucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason:
      'This bucket is the server-access-log destination of the dataset bucket; logging it into itself would ' +
      'create a log record for every log delivery. Public access is blocked, TLS is enforced and it is encrypted.',
  });
  Validations.of(t.apiStage).acknowledge({
    id: 'AwsSolutions-APIG3',
    reason:
      'Every method requires SigV4 (IAM) authorization, so unauthenticated traffic is rejected by API Gateway ' +
      'before it reaches the function; the stage is throttled and access-logged. A WAF web ACL (about USD 6 a ' +
      'month before requests) would add rate-based rules on top of that; deployers who need it can attach one.',
  });
  for (const method of t.apiMethods) {
    Validations.of(method).acknowledge({
      id: 'AwsSolutions-COG4',
      reason:
        'The method uses IAM (SigV4) authorization: callers are IAM principals of the account (jobs, CI, ' +
        'operators), granted execute-api:Invoke by their own policies. There are no end users to put in a ' +
        'Cognito user pool.',
    });
  }
  if (t.apiCloudWatchRole) {
    Validations.of(t.apiCloudWatchRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      reason:
        'The account-level role API Gateway needs to write execution and access logs (AWS::ApiGateway::Account). ' +
        'AmazonAPIGatewayPushToCloudWatchLogs is the AWS-maintained policy for exactly that service role; it is ' +
        'assumable only by apigateway.amazonaws.com.',
    });
  }
}
