import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { fanoutPartsPattern, rollingRoot, rootObjectsPattern } from '../lambda/layout/key-layout.js';
import type { DeployedEnvironment } from '../lambda/settings/function-settings.js';
import { stateMachineArnOf } from './fanout-state-machine.js';
import { PROJECT_ROOT } from './project-root.js';
import type { TierdriftSettings } from './settings.js';
import { logicalIdOf } from './stack-part.js';

export const HANDLER_ENTRY = `${PROJECT_ROOT}lambda/handler/index.ts`;

/** The async path may run up to Lambda's maximum; RUN_MARKER_STALE_SECONDS is the same number. */
export const FUNCTION_TIMEOUT = Duration.minutes(15);
/** Presigned GET URLs in API answers (issue 3: 15-minute expiry). */
export const PRESIGN_EXPIRES_SECONDS = 900;
/** Largest POST body the handler reads (a config is a few hundred bytes). */
export const MAX_BODY_BYTES = 16 * 1024;

/**
 * esbuild options of the deployed bundle (also used by the bundle test, which imports the result).
 * - ESM, as the sources are; a `require` is defined for the CommonJS parts of dependencies (the
 *   AWS SDK's), which esbuild otherwise turns into "Dynamic require of ... is not supported".
 * - The AWS SDK is bundled at the versions in package-lock.json rather than taken from the
 *   runtime (whose SDK version changes without notice): the code relies on conditional writes.
 */
export const BUNDLING: nodejs.BundlingOptions = {
  format: nodejs.OutputFormat.ESM,
  target: 'node24',
  mainFields: ['module', 'main'],
  banner:
    "import { createRequire as __tierdriftCreateRequire } from 'node:module'; const require = __tierdriftCreateRequire(import.meta.url);",
  externalModules: [],
  sourceMap: true,
  sourcesContent: false,
  minify: false,
  forceDockerBundling: false,
  logLevel: nodejs.LogLevel.ERROR,
};

/** The function's environment: its settings (a misspelt or missing one fails to compile), and the runtime's. */
export type FunctionEnvironment = DeployedEnvironment & {
  NODE_OPTIONS: string;
  POWERTOOLS_SERVICE_NAME: string;
  POWERTOOLS_METRICS_NAMESPACE: string;
  POWERTOOLS_LOG_LEVEL: string;
};

export interface GeneratorFunctionProps {
  settings: TierdriftSettings;
  bucket: s3.Bucket;
  /** The fan-out state machine's fixed name: the function is told its ARN without referencing it. */
  stateMachineName: string;
}

/**
 * The generator function behind the API, the schedule and the fan-out: its log group, its own role
 * (objects under the root prefix only), the queue its failed asynchronous invocations go to, and
 * the permission to invoke itself (see infra/stack-part.ts for the scope).
 */
export class GeneratorFunction {
  readonly fn: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly asyncFailureQueue: sqs.Queue;

  constructor(scope: Construct, props: GeneratorFunctionProps) {
    const { settings, bucket } = props;
    const root = settings.rootPrefix;
    const logGroup = new logs.LogGroup(scope, 'FunctionLogs', {
      retention: settings.logRetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.asyncFailureQueue = deadLetterQueue(scope, 'AsyncFailures');

    // Own role without AWSLambdaBasicExecutionRole (which allows writing to every log group).
    const role = (this.role = new iam.Role(scope, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'tierdrift generator: its own log group, objects under its root prefix, invoking itself',
    }));
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnLogGroup',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [logGroup.logGroupArn],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DatasetObjectsUnderRootPrefix',
        actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'],
        resources: [bucket.arnForObjects(rootObjectsPattern(root))],
      }),
    );
    // Deleting: only what fan-out runs leave under <dataset>/_parts/<run id>/ (never a dataset file).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeleteFanoutParts',
        actions: ['s3:DeleteObject'],
        resources: [bucket.arnForObjects(fanoutPartsPattern(root))],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListRootPrefixOnly',
        actions: ['s3:ListBucket'],
        resources: [bucket.bucketArn],
        conditions: { StringLike: { 's3:prefix': [rootObjectsPattern(root)] } },
      }),
    );
    // A run aborts the incomplete multipart uploads dead runs left in its dataset folder
    // (S3Storage.removeStale). S3 offers no prefix condition on this action: the bucket is the
    // stack's own, so listing its in-progress uploads reveals nothing of anyone else's.
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListIncompleteUploads',
        actions: ['s3:ListBucketMultipartUploads'],
        resources: [bucket.bucketArn],
      }),
    );

    const environment: FunctionEnvironment = {
      BUCKET_NAME: bucket.bucketName,
      ROOT_PREFIX: root,
      ROLLING_PREFIX: rollingRoot(root),
      MAX_USERS: String(settings.maxUsers),
      SINGLE_RUN_MAX_USERS: String(settings.singleRunMaxUsers),
      SYNC_MAX_USERS: String(settings.syncMaxUsers),
      SYNC_MAX_ROWS: String(settings.syncMaxRows),
      SINGLE_RUN_MAX_BYTES: String(settings.singleRunMaxBytes),
      MAX_OUTPUT_BYTES: String(settings.maxOutputBytes),
      FANOUT_MIN_USERS: String(settings.fanoutMinUsers),
      STATE_MACHINE_ARN: stateMachineArnOf(Stack.of(scope), props.stateMachineName),
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      RUN_MARKER_STALE_SECONDS: String(FUNCTION_TIMEOUT.toSeconds()),
      PRESIGN_EXPIRES_SECONDS: String(PRESIGN_EXPIRES_SECONDS),
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'tierdrift',
      POWERTOOLS_METRICS_NAMESPACE: 'tierdrift',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    this.fn = new nodejs.NodejsFunction(scope, 'Generator', {
      entry: HANDLER_ENTRY,
      handler: 'handler',
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: settings.memoryMiB,
      timeout: FUNCTION_TIMEOUT,
      role,
      logGroup,
      reservedConcurrentExecutions: settings.reservedConcurrency,
      description: 'tierdrift: generate and publish synthetic temporal datasets to S3',
      environment,
      bundling: BUNDLING,
      // Asynchronous invocations (the API's hand-off to itself and the nightly schedule): one retry
      // (runs are idempotent), then the event goes to the failure queue.
      retryAttempts: 1,
      maxEventAge: Duration.hours(6),
      onFailure: new SqsDestination(this.asyncFailureQueue),
    });

    // Invoking itself (the asynchronous hand-off): a separate policy, so the function does not
    // depend on a statement naming its own ARN (which would be a circular dependency).
    new iam.Policy(scope, 'InvokeSelf', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'InvokeSelfAsynchronously',
          actions: ['lambda:InvokeFunction'],
          resources: [this.fn.functionArn],
        }),
      ],
    });

    const bucketId = logicalIdOf(bucket);
    Validations.of(role.node.findChild('DefaultPolicy')).acknowledge(
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${rootObjectsPattern(root)}]`,
        reason:
          `Dataset keys are created at run time (${root}/seed=<seed>/<config hash>/<file>, ${root}/latest/<name>.json), ` +
          `so object access is granted on the function's root prefix and nothing else in the bucket; the actions are ` +
          `exactly s3:GetObject, s3:PutObject and s3:AbortMultipartUpload (no ACL or policy changes; deleting is the next statement).`,
      },
      {
        id: `AwsSolutions-IAM5[Resource::<${bucketId}.Arn>/${fanoutPartsPattern(root)}]`,
        reason:
          `s3:DeleteObject only on the fan-out's intermediate parts (${root}/seed=<seed>/<config hash>/_parts/<run id>/...), ` +
          'which the commit deletes after publishing and the cleanup step after a failure; the dataset ids and run ids ' +
          'are made at run time. No published file (a CSV, manifest.json, a latest/ pointer) matches the pattern.',
      },
    );
    Validations.of(this.fn).acknowledge({
      id: 'AwsSolutions-L1',
      reason:
        'The runtime is pinned on purpose (nodejs24.x, the version the bundle targets and the project tests ' +
        'against) instead of following "latest": a runtime change is a reviewed code change, not a side effect ' +
        'of upgrading aws-cdk-lib. nodejs24.x is a supported runtime.',
    });
  }
}

/**
 * A queue that IS a dead-letter queue (of the function's asynchronous invocations, or of the
 * nightly schedule), with its cdk-nag acknowledgement.
 */
export function deadLetterQueue(scope: Construct, id: string): sqs.Queue {
  const queue = new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(queue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason:
      "This queue IS a dead-letter queue: the on-failure destination of the function's asynchronous " +
      'invocations, or the dead-letter queue of the nightly schedule. cdk-nag only recognises queues named in ' +
      "another queue's RedrivePolicy; a DLQ of a DLQ would have nothing to catch.",
  });
  return queue;
}
