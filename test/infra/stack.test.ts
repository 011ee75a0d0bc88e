import { API_ROUTES } from '../../lambda/layout/api-routes.js';
import { readFileSync } from 'node:fs';
import { Match } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { configJsonSchemaDraft4 } from '../../infra/request-model.js';
import { settingsFromContext } from '../../infra/settings.js';
import { NIGHTLY_PAYLOAD_FILE } from '../../infra/nightly-schedule.js';
import {
  fanoutPartsPattern,
  rollingExpiryPrefix,
  rollingRoot,
  rootObjectsPattern,
} from '../../lambda/layout/key-layout.js';
import {
  getAtt,
  idOf,
  logicalIdsOfType,
  onlyOfType,
  ref,
  statesArn,
  synthStack,
  type Synthesized,
} from './synth-stack.js';

let s: Synthesized;
let ids: {
  bucket: string;
  accessLogs: string;
  fn: string;
  role: string;
  logGroup: string;
  asyncQueue: string;
  scheduleQueue: string;
  api: string;
  stage: string;
  schedulerRole: string;
};

beforeAll(() => {
  s = synthStack();
  const { stack } = s;
  ids = {
    bucket: idOf(stack, stack.bucket),
    accessLogs: idOf(stack, stack.accessLogsBucket),
    fn: idOf(stack, stack.fn),
    role: idOf(stack, stack.fn.role!),
    logGroup: idOf(stack, stack.fn.logGroup),
    asyncQueue: idOf(stack, stack.asyncFailureQueue),
    scheduleQueue: idOf(stack, stack.scheduleDeadLetterQueue),
    api: idOf(stack, stack.api),
    stage: idOf(stack, stack.api.deploymentStage),
    schedulerRole: logicalIdsOfType(s.json, 'AWS::IAM::Role').find((id) => id.startsWith('SchedulerRole'))!,
  };
});

const objectsUnderRoot = (bucket: string) => ({ 'Fn::Join': ['', [getAtt(bucket), '/tierdrift/*']] });
const fanoutParts = (bucket: string) => ({ 'Fn::Join': ['', [getAtt(bucket), '/tierdrift/*/_parts/*']] });
const fanoutExecutions = statesArn('execution:Tierdrift-fanout:*');
const tlsOnly = (resource: unknown, action: string) => ({
  Action: action,
  Condition: { Bool: { 'aws:SecureTransport': 'false' } },
  Effect: 'Deny',
  Principal: { AWS: '*' },
  Resource: resource,
});

describe('function', () => {
  it('is the bundled handler on a pinned Node.js 22 runtime, arm64, sized for the 15-minute asynchronous path', () => {
    const fn = s.json.Resources[ids.fn];
    expect(fn.Type).toBe('AWS::Lambda::Function');
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      MemorySize: 1769,
      Timeout: 900,
      ReservedConcurrentExecutions: 4,
      Role: getAtt(ids.role),
      LoggingConfig: { LogGroup: ref(ids.logGroup) },
    });
    expect(s.json.Resources[ids.logGroup]).toMatchObject({
      Type: 'AWS::Logs::LogGroup',
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
    });
  });

  it('gets bucket, root prefix, caps and thresholds from its environment, source maps on', () => {
    expect(s.json.Resources[ids.fn].Properties.Environment.Variables).toEqual({
      BUCKET_NAME: ref(ids.bucket),
      ROOT_PREFIX: 'tierdrift',
      ROLLING_PREFIX: 'tierdrift/rolling',
      // Any request up to the schema's 10 million users; one invocation publishes at most 1 million,
      // and seedrandom configs from there go to the fan-out (so it is reachable by default).
      MAX_USERS: '10000000',
      SINGLE_RUN_MAX_USERS: '1000000',
      SYNC_MAX_USERS: '200000',
      SYNC_MAX_ROWS: '10000000',
      SINGLE_RUN_MAX_BYTES: '8000000000',
      MAX_OUTPUT_BYTES: '50000000000',
      FANOUT_MIN_USERS: '1000000',
      // Built from the fixed name, not a reference: the state machine references the function.
      STATE_MACHINE_ARN: statesArn('stateMachine:Tierdrift-fanout'),
      MAX_BODY_BYTES: '16384',
      RUN_MARKER_STALE_SECONDS: '900', // = Timeout
      PRESIGN_EXPIRES_SECONDS: '900',
      NODE_OPTIONS: '--enable-source-maps',
      POWERTOOLS_SERVICE_NAME: 'tierdrift',
      POWERTOOLS_METRICS_NAMESPACE: 'tierdrift',
      POWERTOOLS_LOG_LEVEL: 'INFO',
    });
  });

  it('retries a failed asynchronous invocation once, then sends it to an encrypted, TLS-only SQS queue', () => {
    s.template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 1);
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: ref(ids.fn),
      Qualifier: '$LATEST',
      MaximumRetryAttempts: 1,
      MaximumEventAgeInSeconds: 6 * 3600,
      DestinationConfig: { OnFailure: { Destination: getAtt(ids.asyncQueue) } },
    });
    for (const queue of [ids.asyncQueue, ids.scheduleQueue]) {
      expect(s.json.Resources[queue].Properties).toEqual({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
      s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [ref(queue)],
        PolicyDocument: { Statement: [tlsOnly(getAtt(queue), 'sqs:*')], Version: '2012-10-17' },
      });
    }
  });
});

describe('bucket', () => {
  const blockAll = {
    BlockPublicAcls: true,
    BlockPublicPolicy: true,
    IgnorePublicAcls: true,
    RestrictPublicBuckets: true,
  };

  it('blocks public access, is encrypted with S3-managed keys, owner-enforced, and retained on stack deletion', () => {
    for (const bucket of [ids.bucket, ids.accessLogs]) {
      const r = s.json.Resources[bucket];
      expect(r.Properties.PublicAccessBlockConfiguration).toEqual(blockAll);
      expect(r.Properties.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      });
      expect(r.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
      expect(r.DeletionPolicy).toBe('Retain');
      expect(r.UpdateReplacePolicy).toBe('Retain');
    }
    expect(s.json.Resources[ids.bucket].Properties.LoggingConfiguration).toEqual({
      DestinationBucketName: ref(ids.accessLogs),
      LogFilePrefix: 'datasets/',
    });
  });

  it('has a bucket policy that only denies non-TLS requests (no grant to anyone)', () => {
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(ids.bucket),
      PolicyDocument: {
        Statement: [tlsOnly([getAtt(ids.bucket), { 'Fn::Join': ['', [getAtt(ids.bucket), '/*']] }], 's3:*')],
        Version: '2012-10-17',
      },
    });
    // The access-log bucket: TLS only, and S3 log delivery for the logs of this bucket (under
    // datasets/) and of the Athena results bucket (under athena-results/) only.
    const logDelivery = (source: string, prefix: string) => ({
      Action: 's3:PutObject',
      Condition: {
        ArnLike: { 'aws:SourceArn': getAtt(source) },
        StringEquals: { 'aws:SourceAccount': ref('AWS::AccountId') },
      },
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Resource: { 'Fn::Join': ['', [getAtt(ids.accessLogs), `/${prefix}/*`]] },
    });
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: ref(ids.accessLogs),
      PolicyDocument: {
        Statement: [
          tlsOnly([getAtt(ids.accessLogs), { 'Fn::Join': ['', [getAtt(ids.accessLogs), '/*']] }], 's3:*'),
          logDelivery(ids.bucket, 'datasets'),
          logDelivery(idOf(s.stack, s.stack.athena.resultsBucket), 'athena-results'),
        ],
        Version: '2012-10-17',
      },
    });
  });

  it('aborts incomplete multipart uploads after a day and expires only rolling nightly fixtures', () => {
    expect(s.json.Resources[ids.bucket].Properties.LifecycleConfiguration).toEqual({
      Rules: [
        {
          Id: 'abort-incomplete-multipart-uploads',
          Status: 'Enabled',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
        {
          Id: 'expire-rolling-nightly-fixtures',
          Status: 'Enabled',
          Prefix: 'tierdrift/rolling/',
          ExpirationInDays: 14,
        },
      ],
    });
    expect(s.json.Resources[ids.accessLogs].Properties.LifecycleConfiguration).toEqual({
      Rules: [
        { Id: 'expire-access-logs', Status: 'Enabled', ExpirationInDays: 365 },
        {
          Id: 'abort-incomplete-multipart-uploads',
          Status: 'Enabled',
          AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
        },
      ],
    });
  });
});

describe('key layout', () => {
  it("the stack's S3 grants, lifecycle prefix and ROLLING_PREFIX are the key-layout module's patterns for the root", () => {
    const root = settingsFromContext(s.stack.node).rootPrefix;
    const statements = Object.values(s.json.Resources)
      .filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap(
        (r) => r.Properties.PolicyDocument.Statement as { Sid?: string; Resource: unknown; Condition?: unknown }[],
      );
    const bySid = (sid: string) => statements.find((st) => st.Sid === sid)!;
    const objects = (pattern: string) => ({ 'Fn::Join': ['', [getAtt(ids.bucket), `/${pattern}`]] });
    expect(bySid('DatasetObjectsUnderRootPrefix').Resource).toEqual(objects(rootObjectsPattern(root)));
    expect(bySid('DeleteFanoutParts').Resource).toEqual(objects(fanoutPartsPattern(root)));
    expect(bySid('ListRootPrefixOnly').Condition).toEqual({ StringLike: { 's3:prefix': [rootObjectsPattern(root)] } });
    const rules = s.json.Resources[ids.bucket].Properties.LifecycleConfiguration.Rules as { Prefix?: string }[];
    expect(rules.map((r) => r.Prefix).filter(Boolean)).toEqual([rollingExpiryPrefix(root)]);
    expect(s.json.Resources[ids.fn].Properties.Environment.Variables.ROLLING_PREFIX).toBe(rollingRoot(root));
  });
});

describe('least privilege', () => {
  it('the function role is assumable by Lambda only and has no managed policies', () => {
    expect(s.json.Resources[ids.role].Properties).toEqual({
      AssumeRolePolicyDocument: {
        Statement: [{ Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } }],
        Version: '2012-10-17',
      },
      Description: expect.any(String),
    });
    expect(s.json.Resources[ids.role].Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('grants the function exactly: its log group, objects and listing under the root prefix, its DLQ, invoking itself, starting the fan-out', () => {
    const policies = Object.values(s.json.Resources).filter(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r.Properties.Roles) === JSON.stringify([ref(ids.role)]),
    );
    expect(policies).toHaveLength(3);
    const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      {
        Sid: 'WriteOwnLogGroup',
        Effect: 'Allow',
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Resource: getAtt(ids.logGroup),
      },
      {
        Sid: 'DatasetObjectsUnderRootPrefix',
        Effect: 'Allow',
        Action: ['s3:AbortMultipartUpload', 's3:GetObject', 's3:PutObject'],
        Resource: objectsUnderRoot(ids.bucket),
      },
      // Deleting only the fan-out's parts (<dataset>/_parts/<run id>/...), never a dataset file.
      { Sid: 'DeleteFanoutParts', Effect: 'Allow', Action: 's3:DeleteObject', Resource: fanoutParts(ids.bucket) },
      {
        Sid: 'ListRootPrefixOnly',
        Effect: 'Allow',
        Action: 's3:ListBucket',
        Resource: getAtt(ids.bucket),
        Condition: { StringLike: { 's3:prefix': ['tierdrift/*'] } },
      },
      // Aborting what dead runs left: S3 has no prefix condition on this action.
      {
        Sid: 'ListIncompleteUploads',
        Effect: 'Allow',
        Action: 's3:ListBucketMultipartUploads',
        Resource: getAtt(ids.bucket),
      },
      {
        Effect: 'Allow',
        Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        Resource: getAtt(ids.asyncQueue),
      },
      // A separate AWS::IAM::Policy, so the function does not depend on its own ARN.
      { Sid: 'InvokeSelfAsynchronously', Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: getAtt(ids.fn) },
      // Another separate policy: starting executions of exactly the fan-out state machine.
      {
        Sid: 'StartFanoutExecutions',
        Effect: 'Allow',
        Action: 'states:StartExecution',
        Resource: ref(idOf(s.stack, s.stack.fanout.stateMachine)),
      },
      // ... and reading the status of its executions (a failed one's name is retried as <id>-r<n>).
      {
        Sid: 'DescribeFanoutExecutions',
        Effect: 'Allow',
        Action: 'states:DescribeExecution',
        Resource: fanoutExecutions,
      },
    ]);
    const [invokeSelfPolicy] = Object.entries(s.json.Resources).find(
      ([, r]) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties.PolicyDocument).includes('InvokeSelfAsynchronously'),
    )!;
    expect(s.json.Resources[ids.fn].DependsOn ?? []).not.toContain(invokeSelfPolicy);
  });

  it('the scheduler role is assumable by EventBridge Scheduler of this account only, and may only invoke the function and write to its DLQ', () => {
    expect(s.json.Resources[ids.schedulerRole].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Action: 'sts:AssumeRole',
        Effect: 'Allow',
        Principal: { Service: 'scheduler.amazonaws.com' },
        Condition: {
          StringEquals: {
            'aws:SourceAccount': ref('AWS::AccountId'),
            'aws:SourceArn': {
              'Fn::Join': [
                '',
                [
                  'arn:',
                  ref('AWS::Partition'),
                  ':scheduler:',
                  ref('AWS::Region'),
                  ':',
                  ref('AWS::AccountId'),
                  ':schedule-group/default',
                ],
              ],
            },
          },
        },
      },
    ]);
    s.template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [ref(ids.schedulerRole)],
      PolicyDocument: {
        Statement: [
          {
            Action: 'lambda:InvokeFunction',
            Effect: 'Allow',
            Resource: [getAtt(ids.fn), { 'Fn::Join': ['', [getAtt(ids.fn), ':*']] }],
          },
          { Action: 'sqs:SendMessage', Effect: 'Allow', Resource: getAtt(ids.scheduleQueue) },
        ],
        Version: '2012-10-17',
      },
    });
  });

  it('no identity policy has a wildcard action, or a wildcard resource other than the reviewed ones', () => {
    const fnVersions = JSON.stringify({ 'Fn::Join': ['', [getAtt(ids.fn), ':*']] });
    const executions = (tail: string) =>
      JSON.stringify({
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
            { 'Fn::Select': [6, { 'Fn::Split': [':', ref(idOf(s.stack, s.stack.fanout.stateMachine))] }] },
            tail,
          ],
        ],
      });
    // The dataset objects; the function's versions (scheduler, state machine); log delivery and
    // X-Ray (no resource-level permissions); the state machine's own executions (Distributed Map).
    // The fan-out's parts (delete) and its executions by their fixed state machine name (describe).
    const allowed = [
      JSON.stringify(objectsUnderRoot(ids.bucket)),
      JSON.stringify(fanoutParts(ids.bucket)),
      fnVersions,
      fnVersions,
      '"*"',
      executions(':*'),
      executions('/*:*'),
      JSON.stringify(fanoutExecutions),
    ];
    const wildcards: string[] = [];
    for (const [id, r] of Object.entries(s.json.Resources)) {
      if (r.Type !== 'AWS::IAM::Policy' && r.Type !== 'AWS::IAM::Role') continue;
      const documents =
        r.Type === 'AWS::IAM::Policy'
          ? [r.Properties.PolicyDocument]
          : (r.Properties.Policies ?? []).map((p: any) => p.PolicyDocument);
      for (const statement of documents.flatMap((d: any) => d.Statement)) {
        for (const action of [statement.Action].flat()) expect(action, `${id}: ${action}`).not.toContain('*');
        for (const resource of [statement.Resource].flat()) {
          const text = JSON.stringify(resource);
          if (text.includes('*')) wildcards.push(text);
        }
      }
    }
    expect(wildcards.sort()).toEqual([...allowed].sort());
  });

  it('API Gateway may invoke the function only through the five methods of this stage (no test-invoke grants)', () => {
    const permissions = logicalIdsOfType(s.json, 'AWS::Lambda::Permission').map(
      (id) => s.json.Resources[id].Properties,
    );
    const arn = (method: string, path: string) => ({
      'Fn::Join': [
        '',
        [
          'arn:',
          ref('AWS::Partition'),
          ':execute-api:',
          ref('AWS::Region'),
          ':',
          ref('AWS::AccountId'),
          ':',
          ref(ids.api),
          '/',
          ref(ids.stage),
          `/${method}${path}`,
        ],
      ],
    });
    expect(permissions).toEqual(
      expect.arrayContaining(
        [
          ['POST', '/datasets'],
          ['GET', '/datasets'],
          ['GET', '/datasets/*'],
          ['GET', '/datasets/*/users/*/tiers'],
          ['POST', '/datasets/*/evaluations'],
        ].map(([method, path]) => ({
          Action: 'lambda:InvokeFunction',
          FunctionName: getAtt(ids.fn),
          Principal: 'apigateway.amazonaws.com',
          SourceArn: arn(method, path),
        })),
      ),
    );
    expect(permissions).toHaveLength(5);
  });
});

describe('API', () => {
  /** `METHOD /full/path` of every method. */
  function routes(): Map<string, any> {
    const pathOf = (resourceId: any): string => {
      if (resourceId['Fn::GetAtt']) return '';
      const r = s.json.Resources[resourceId.Ref];
      return `${pathOf(r.Properties.ParentId)}/${r.Properties.PathPart}`;
    };
    const out = new Map<string, any>();
    for (const id of logicalIdsOfType(s.json, 'AWS::ApiGateway::Method')) {
      const m = s.json.Resources[id].Properties;
      out.set(`${m.HttpMethod} ${pathOf(m.ResourceId)}`, m);
    }
    return out;
  }

  it("has exactly the handler's routes, each behind IAM (SigV4) authorization and proxied to the function", () => {
    const methods = routes();
    expect([...methods.keys()].sort()).toEqual([
      'GET /datasets',
      'GET /datasets/{datasetId}',
      'GET /datasets/{datasetId}/users/{userId}/tiers',
      'POST /datasets',
      'POST /datasets/{datasetId}/evaluations',
    ]);
    // …which are the routes the function's router serves: the stack builds them from the same list.
    const served = API_ROUTES.flatMap((r) => r.methods.map((method) => `${method} ${r.path}`));
    expect([...methods.keys()].sort()).toEqual(served.sort());
    for (const [route, m] of methods) {
      expect(m.AuthorizationType, route).toBe('AWS_IAM');
      expect(m.Integration, route).toMatchObject({
        Type: 'AWS_PROXY',
        IntegrationHttpMethod: 'POST',
      });
      expect(JSON.stringify(m.Integration.Uri), route).toContain(`${JSON.stringify(getAtt(ids.fn))},"/invocations"`);
    }
    expect(s.json.Resources[ids.api].Properties.EndpointConfiguration).toEqual({ Types: ['REGIONAL'] });
  });

  it('POST /datasets/{datasetId}/evaluations takes a CSV body: no request model (the function checks it), IAM like the rest', () => {
    const evaluations = routes().get('POST /datasets/{datasetId}/evaluations');
    expect(evaluations.AuthorizationType).toBe('AWS_IAM');
    expect(evaluations.RequestModels).toBeUndefined();
    expect(evaluations.Integration).toMatchObject({ Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' });
  });

  it('validates the POST body against the request model generated from the config schema', () => {
    const post = routes().get('POST /datasets');
    const { id: validatorId, resource: validator } = onlyOfType(s.json, 'AWS::ApiGateway::RequestValidator');
    expect(validator.Properties).toEqual({
      Name: 'validate-body',
      RestApiId: ref(ids.api),
      ValidateRequestBody: true,
      ValidateRequestParameters: true,
    });
    expect(post.RequestValidatorId).toEqual(ref(validatorId));
    const { id: modelId, resource: model } = onlyOfType(s.json, 'AWS::ApiGateway::Model');
    expect(post.RequestModels).toEqual({ 'application/json': ref(modelId) });
    expect(model.Properties.ContentType).toBe('application/json');
    // The very schema zod generates (draft 4), unknown keys refused at every level.
    expect(model.Properties.Schema).toEqual(configJsonSchemaDraft4());
    expect(model.Properties.Schema.$schema).toBe('http://json-schema.org/draft-04/schema#');
    expect(model.Properties.Schema.additionalProperties).toBe(false);
    s.template.hasResourceProperties('AWS::ApiGateway::GatewayResponse', {
      ResponseType: 'BAD_REQUEST_BODY',
      StatusCode: '400',
      ResponseTemplates: { 'application/json': Match.stringLikeRegexp('validationErrorString') },
    });
  });

  it('throttles the stage (tighter on POST), access-logs as JSON to a retained log group, logs errors without bodies', () => {
    const stage = s.json.Resources[ids.stage].Properties;
    expect(stage.StageName).toBe('v1');
    expect(stage.MethodSettings).toEqual([
      {
        HttpMethod: '*',
        ResourcePath: '/*',
        ThrottlingRateLimit: 10,
        ThrottlingBurstLimit: 20,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        MetricsEnabled: true,
      },
      {
        HttpMethod: 'POST',
        ResourcePath: '/~1datasets',
        ThrottlingRateLimit: 2,
        ThrottlingBurstLimit: 5,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        MetricsEnabled: true,
      },
    ]);
    const accessLogGroup = logicalIdsOfType(s.json, 'AWS::Logs::LogGroup').find((id) =>
      id.startsWith('ApiAccessLogs'),
    )!;
    expect(s.json.Resources[accessLogGroup]).toMatchObject({
      Properties: { RetentionInDays: 30 },
      DeletionPolicy: 'Retain',
    });
    expect(JSON.stringify(stage.AccessLogSetting.DestinationArn)).toContain(JSON.stringify(ref(accessLogGroup)));
    const format = JSON.parse(stage.AccessLogSetting.Format.replaceAll('$context', 'ctx'));
    expect(Object.keys(format)).toEqual(
      expect.arrayContaining(['requestId', 'ip', 'caller', 'user', 'httpMethod', 'resourcePath', 'status']),
    );
    // API Gateway needs its account-level CloudWatch role before a stage may log.
    s.template.resourceCountIs('AWS::ApiGateway::Account', 1);
    expect(s.json.Resources[ids.stage].DependsOn).toEqual([logicalIdsOfType(s.json, 'AWS::ApiGateway::Account')[0]]);
  });
});

describe('nightly schedule', () => {
  it('invokes the function with events/schedule-nightly.json (scheduledTime from the scheduler), on the context cron and time zone', () => {
    const { resource } = onlyOfType(s.json, 'AWS::Scheduler::Schedule');
    const file = JSON.parse(readFileSync(NIGHTLY_PAYLOAD_FILE, 'utf8')) as Record<string, unknown>;
    expect(resource.Properties).toMatchObject({
      ScheduleExpression: 'cron(30 2 * * ? *)',
      ScheduleExpressionTimezone: 'UTC',
      State: 'ENABLED',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
    const target = resource.Properties.Target;
    expect(target.Arn).toEqual(getAtt(ids.fn));
    expect(target.RoleArn).toEqual(getAtt(ids.schedulerRole));
    expect(JSON.parse(target.Input)).toEqual({ ...file, scheduledTime: '<aws.scheduler.scheduled-time>' });
    expect(Object.keys(JSON.parse(target.Input))).toEqual(Object.keys(file));
  });

  it('retries delivery and dead-letters what it could not deliver', () => {
    const target = onlyOfType(s.json, 'AWS::Scheduler::Schedule').resource.Properties.Target;
    expect(target.RetryPolicy).toEqual({ MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 7200 });
    expect(target.DeadLetterConfig).toEqual({ Arn: getAtt(ids.scheduleQueue) });
  });
});

it('outputs the API URL, the bucket name, the function name and the state machine ARN', () => {
  expect(s.json.Outputs.ApiUrl.Value).toEqual({
    'Fn::Join': [
      '',
      [
        'https://',
        ref(ids.api),
        '.execute-api.',
        ref('AWS::Region'),
        '.',
        ref('AWS::URLSuffix'),
        '/',
        ref(ids.stage),
        '/',
      ],
    ],
  });
  expect(s.json.Outputs.BucketName.Value).toEqual(ref(ids.bucket));
  expect(s.json.Outputs.FunctionName.Value).toEqual(ref(ids.fn));
  expect(s.json.Outputs.StateMachineArn.Value).toEqual(ref(idOf(s.stack, s.stack.fanout.stateMachine)));
  expect(Object.keys(s.json.Outputs).sort()).toEqual([
    'ApiUrl',
    'AsyncFailureQueueUrl',
    'AthenaQueryPolicyArn',
    'AthenaResultsBucketName',
    'AthenaWorkGroup',
    'BucketName',
    'FunctionName',
    'GlueDatabaseName',
    'ScheduleDeadLetterQueueUrl',
    'StateMachineArn',
  ]);
});
