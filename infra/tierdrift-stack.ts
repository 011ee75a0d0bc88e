import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type CfnElement, CfnOutput, Duration, RemovalPolicy, Stack, type StackProps, TimeZone } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as targets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';
import { fanoutPartsPattern, rollingExpiryPrefix, rollingRoot, rootObjectsPattern } from '../lambda/layout/key-layout.js';
import type { DeployedEnvironment } from '../lambda/settings/function-settings.js';
import { executionArnsOf, FanoutStateMachine, stateMachineArnOf } from './fanout-state-machine.js';
import { configRequestModelSchema } from './request-model.js';
import type { TierdriftSettings } from './settings.js';
import { addSuppressions } from './suppressions.js';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
export const HANDLER_ENTRY = `${PROJECT_ROOT}lambda/handler/index.ts`;
export const NIGHTLY_PAYLOAD_FILE = `${PROJECT_ROOT}events/schedule-nightly.json`;

/** The async path may run up to Lambda's maximum; RUN_MARKER_STALE_SECONDS is the same number. */
export const FUNCTION_TIMEOUT = Duration.minutes(15);
/** Presigned GET URLs in API answers (issue 3: 15-minute expiry). */
export const PRESIGN_EXPIRES_SECONDS = 900;
/** Largest POST body the handler reads (a config is a few hundred bytes). */
export const MAX_BODY_BYTES = 16 * 1024;
export const API_STAGE = 'v1';

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

export interface TierdriftStackProps extends StackProps {
  settings: TierdriftSettings;
}

export class TierdriftStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly fn: nodejs.NodejsFunction;
  readonly api: apigateway.RestApi;
  readonly schedule: scheduler.Schedule;
  readonly asyncFailureQueue: sqs.Queue;
  readonly scheduleDeadLetterQueue: sqs.Queue;
  readonly fanout: FanoutStateMachine;

  constructor(scope: Construct, id: string, props: TierdriftStackProps) {
    super(scope, id, props);
    const { settings } = props;
    const root = settings.rootPrefix;

    // ---------------------------------------------------------------- storage
    const accessLogs = (this.accessLogsBucket = new s3.Bucket(this, 'AccessLogs', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED, // server access logs can only go to SSE-S3 buckets
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-access-logs', expiration: Duration.days(365) },
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    }));

    this.bucket = new s3.Bucket(this, 'Datasets', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'datasets/',
      lifecycleRules: [
        // A failed run aborts its uploads; a killed one (timeout) cannot, so S3 cleans up its parts.
        { id: 'abort-incomplete-multipart-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        // Rolling nightly fixtures get a new seed every day: keep the last N days of them.
        {
          id: 'expire-rolling-nightly-fixtures',
          prefix: rollingExpiryPrefix(root),
          expiration: Duration.days(settings.rollingRetentionDays),
        },
      ],
    });

    // ---------------------------------------------------------------- function
    const logGroup = new logs.LogGroup(this, 'FunctionLogs', {
      retention: settings.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.asyncFailureQueue = deadLetterQueue(this, 'AsyncFailures');

    // Own role without AWSLambdaBasicExecutionRole (which allows writing to every log group).
    const role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'tierdrift generator: its own log group, objects under its root prefix, invoking itself',
    });
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
        resources: [this.bucket.arnForObjects(rootObjectsPattern(root))],
      }),
    );
    // Deleting: only what fan-out runs leave under <dataset>/_parts/<run id>/ (never a dataset file).
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'DeleteFanoutParts',
        actions: ['s3:DeleteObject'],
        resources: [this.bucket.arnForObjects(fanoutPartsPattern(root))],
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'ListRootPrefixOnly',
        actions: ['s3:ListBucket'],
        resources: [this.bucket.bucketArn],
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
        resources: [this.bucket.bucketArn],
      }),
    );

    // The fan-out's name is fixed so the function can be told its ARN without referencing it (the
    // state machine references the function: the other direction would be a circular dependency).
    const stateMachineName = `${this.stackName}-fanout`;

    const environment: FunctionEnvironment = {
      BUCKET_NAME: this.bucket.bucketName,
      ROOT_PREFIX: root,
      ROLLING_PREFIX: rollingRoot(root),
      MAX_USERS: String(settings.maxUsers),
      SINGLE_RUN_MAX_USERS: String(settings.singleRunMaxUsers),
      SYNC_MAX_USERS: String(settings.syncMaxUsers),
      SYNC_MAX_ROWS: String(settings.syncMaxRows),
      SINGLE_RUN_MAX_BYTES: String(settings.singleRunMaxBytes),
      MAX_OUTPUT_BYTES: String(settings.maxOutputBytes),
      FANOUT_MIN_USERS: String(settings.fanoutMinUsers),
      STATE_MACHINE_ARN: stateMachineArnOf(this, stateMachineName),
      MAX_BODY_BYTES: String(MAX_BODY_BYTES),
      RUN_MARKER_STALE_SECONDS: String(FUNCTION_TIMEOUT.toSeconds()),
      PRESIGN_EXPIRES_SECONDS: String(PRESIGN_EXPIRES_SECONDS),
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'tierdrift',
      POWERTOOLS_METRICS_NAMESPACE: 'tierdrift',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    };
    this.fn = new nodejs.NodejsFunction(this, 'Generator', {
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
    new iam.Policy(this, 'InvokeSelf', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'InvokeSelfAsynchronously',
          actions: ['lambda:InvokeFunction'],
          resources: [this.fn.functionArn],
        }),
      ],
    });

    // ---------------------------------------------------------------- fan-out
    this.fanout = new FanoutStateMachine(this, 'Fanout', {
      fn: this.fn,
      stateMachineName,
      maxConcurrency: settings.fanoutMaxConcurrency,
      retryAttempts: settings.fanoutRetryAttempts,
      logRetentionDays: settings.logRetentionDays,
    });
    // Starting it from the API: a separate policy naming exactly this state machine; describing its
    // executions tells a running one from one that ended (its name is then retried as <id>-r<n>).
    const startFanoutPolicy = new iam.Policy(this, 'StartFanout', {
      roles: [role],
      statements: [
        new iam.PolicyStatement({
          sid: 'StartFanoutExecutions',
          actions: ['states:StartExecution'],
          resources: [this.fanout.stateMachine.stateMachineArn],
        }),
        new iam.PolicyStatement({
          sid: 'DescribeFanoutExecutions',
          actions: ['states:DescribeExecution'],
          resources: [executionArnsOf(this, stateMachineName)],
        }),
      ],
    });

    // ---------------------------------------------------------------- API
    const accessLogGroup = new logs.LogGroup(this, 'ApiAccessLogs', {
      retention: settings.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.api = new apigateway.RestApi(this, 'Api', {
      restApiName: `${this.stackName}-api`,
      description: 'tierdrift datasets (IAM-authorized)',
      endpointTypes: [apigateway.EndpointType.REGIONAL],
      // API Gateway writes logs through one role per account and region (see README).
      cloudWatchRole: settings.apiGatewayCloudWatchRole,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      defaultMethodOptions: { authorizationType: apigateway.AuthorizationType.IAM },
      deployOptions: {
        stageName: API_STAGE,
        throttlingRateLimit: settings.apiRateLimit,
        throttlingBurstLimit: settings.apiBurstLimit,
        methodOptions: {
          // Publishing is the expensive call: a tighter limit than the reads.
          '/datasets/POST': {
            loggingLevel: apigateway.MethodLoggingLevel.ERROR,
            metricsEnabled: true,
            throttlingRateLimit: Math.max(1, Math.floor(settings.apiRateLimit / 5)),
            throttlingBurstLimit: Math.max(1, Math.floor(settings.apiBurstLimit / 4)),
          },
        },
        accessLogDestination: new apigateway.LogGroupLogDestination(accessLogGroup),
        accessLogFormat: apigateway.AccessLogFormat.jsonWithStandardFields({
          caller: true,
          httpMethod: true,
          ip: true,
          protocol: true,
          requestTime: true,
          resourcePath: true,
          responseLength: true,
          status: true,
          user: true,
        }),
        loggingLevel: apigateway.MethodLoggingLevel.ERROR,
        dataTraceEnabled: false, // never log bodies or presigned URLs
        metricsEnabled: true,
      },
    });

    const configModel = this.api.addModel('GenerationConfig', {
      contentType: 'application/json',
      modelName: 'GenerationConfig',
      description: 'POST /datasets body: generated from generationConfigSchema (lambda/config/schema.ts)',
      schema: configRequestModelSchema(),
    });
    const bodyValidator = this.api.addRequestValidator('BodyValidator', {
      requestValidatorName: 'validate-body',
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    // The gateway's own 400 for a body that fails the model, in the handler's error shape
    // ({message, errors: [{field, rule}]}); the validator's text (already JSON-escaped) is the rule.
    this.api.addGatewayResponse('BadRequestBody', {
      type: apigateway.ResponseType.BAD_REQUEST_BODY,
      statusCode: '400',
      templates: {
        'application/json':
          '{"message":$context.error.messageString,"errors":[{"field":"(body)","rule":"$context.error.validationErrorString"}]}',
      },
    });

    const integration = new apigateway.LambdaIntegration(this.fn, { proxy: true, allowTestInvoke: false });
    const datasets = this.api.root.addResource('datasets');
    const dataset = datasets.addResource('{datasetId}');
    const tiers = dataset.addResource('users').addResource('{userId}').addResource('tiers');
    // Scoring predictions: the body is a CSV, checked by the function (a model describes JSON only).
    const evaluations = dataset.addResource('evaluations');
    const methods = [
      datasets.addMethod('POST', integration, {
        requestValidator: bodyValidator,
        requestModels: { 'application/json': configModel },
      }),
      datasets.addMethod('GET', integration, { requestValidator: bodyValidator }),
      dataset.addMethod('GET', integration, { requestValidator: bodyValidator }),
      tiers.addMethod('GET', integration, { requestValidator: bodyValidator }),
      evaluations.addMethod('POST', integration, { requestValidator: bodyValidator }),
    ];

    // ---------------------------------------------------------------- nightly schedule
    this.scheduleDeadLetterQueue = deadLetterQueue(this, 'ScheduleDeadLetters');
    const payload = nightlySchedulePayload(readNightlyPayload());
    // Assumable only by EventBridge Scheduler, for schedules of this account's default group.
    const schedulerRole = new iam.Role(this, 'SchedulerRole', {
      description: 'EventBridge Scheduler: invoke the tierdrift function, dead-letter to its queue',
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': this.account,
            'aws:SourceArn': this.formatArn({ service: 'scheduler', resource: 'schedule-group', resourceName: 'default' }),
          },
        },
      }),
    });
    this.schedule = new scheduler.Schedule(this, 'Nightly', {
      description: 'tierdrift nightly fixtures (events/schedule-nightly.json)',
      schedule: scheduler.ScheduleExpression.expression(settings.nightlyCron, TimeZone.of(settings.nightlyTimeZone)),
      enabled: settings.nightlyEnabled,
      target: new targets.LambdaInvoke(this.fn, {
        role: schedulerRole,
        input: scheduler.ScheduleTargetInput.fromObject(payload),
        // Scheduler retries a delivery the Lambda service refuses (throttling, reserved
        // concurrency exhausted); failures inside the function are Lambda's async retries above.
        retryAttempts: 3,
        maxEventAge: Duration.hours(2),
        deadLetterQueue: this.scheduleDeadLetterQueue,
      }),
    });

    // ---------------------------------------------------------------- outputs
    this.api.node.tryRemoveChild('Endpoint'); // the RestApi's own URL output: ApiUrl below replaces it
    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the API (SigV4, service execute-api)' });
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'FunctionName', { value: this.fn.functionName });
    new CfnOutput(this, 'StateMachineArn', { value: this.fanout.stateMachine.stateMachineArn });
    new CfnOutput(this, 'AsyncFailureQueueUrl', { value: this.asyncFailureQueue.queueUrl });
    new CfnOutput(this, 'ScheduleDeadLetterQueueUrl', { value: this.scheduleDeadLetterQueue.queueUrl });

    const logicalId = (element: IConstruct | undefined): string =>
      this.resolve((element as CfnElement).logicalId) as string;
    addSuppressions({
      root,
      functionPolicy: role.node.findChild('DefaultPolicy'),
      bucketLogicalId: logicalId(this.bucket.node.defaultChild),
      function: this.fn,
      functionLogicalId: logicalId(this.fn.node.defaultChild),
      schedulerPolicy: schedulerRole.node.findChild('DefaultPolicy'),
      asyncFailureQueue: this.asyncFailureQueue,
      scheduleDeadLetterQueue: this.scheduleDeadLetterQueue,
      accessLogsBucket: accessLogs,
      apiStage: this.api.deploymentStage,
      apiMethods: methods,
      stateMachinePolicy: this.fanout.stateMachine.role.node.findChild('DefaultPolicy'),
      distributedMapPolicy: this.fanout.stateMachine.node.findChild('DistributedMapPolicy'),
      stateMachineLogicalId: logicalId(this.fanout.stateMachine.node.defaultChild),
      startFanoutPolicy,
      stateMachineName,
      apiCloudWatchRole: this.api.node.tryFindChild('CloudWatchRole'),
    });
  }
}

function deadLetterQueue(scope: Construct, id: string): sqs.Queue {
  return new sqs.Queue(scope, id, {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
}

/**
 * The payload the schedule sends: the events/ file, except that `scheduledTime` (fixed in the
 * file, so tests are deterministic) becomes the scheduler's `<aws.scheduler.scheduled-time>`
 * attribute. Otherwise every night would reuse the file's date, and `seedFromDate` fixtures
 * would never roll.
 */
export function nightlySchedulePayload(file: unknown): Record<string, unknown> {
  return { ...(file as Record<string, unknown>), scheduledTime: scheduler.ContextAttribute.scheduledTime };
}

function readNightlyPayload(): unknown {
  let text: string;
  try {
    text = readFileSync(NIGHTLY_PAYLOAD_FILE, 'utf8');
  } catch (error) {
    throw new Error(`the nightly schedule payload ${NIGHTLY_PAYLOAD_FILE} is missing: ${(error as Error).message}`);
  }
  const payload = JSON.parse(text) as { fixtures?: unknown };
  if (!Array.isArray(payload.fixtures) || payload.fixtures.length === 0) {
    throw new Error(`${NIGHTLY_PAYLOAD_FILE}: expected {"fixtures":[...]} with at least one fixture`);
  }
  return payload;
}
