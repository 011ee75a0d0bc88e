import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type * as apigateway from 'aws-cdk-lib/aws-apigateway';
import type * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as scheduler from 'aws-cdk-lib/aws-scheduler';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { AthenaCatalog } from './athena-catalog.js';
import { DatasetApi } from './dataset-api.js';
import { DatasetBuckets } from './dataset-buckets.js';
import { allowStartingFanout, FanoutStateMachine } from './fanout-state-machine.js';
import { GeneratorFunction } from './generator-function.js';
import { NightlySchedule } from './nightly-schedule.js';
import type { TierdriftSettings } from './settings.js';

export interface TierdriftStackProps extends StackProps {
  settings: TierdriftSettings;
}

/**
 * The whole deployment, composed of its parts (each acknowledges its own cdk-nag findings; see
 * infra/stack-part.ts): the buckets, the function, the fan-out, the API, the nightly schedule and
 * the Athena catalog.
 */
export class TierdriftStack extends Stack {
  readonly bucket: s3.Bucket;
  readonly accessLogsBucket: s3.Bucket;
  readonly fn: nodejs.NodejsFunction;
  readonly api: apigateway.RestApi;
  readonly schedule: scheduler.Schedule;
  readonly asyncFailureQueue: sqs.Queue;
  readonly scheduleDeadLetterQueue: sqs.Queue;
  readonly fanout: FanoutStateMachine;
  readonly athena: AthenaCatalog;

  constructor(scope: Construct, id: string, props: TierdriftStackProps) {
    super(scope, id, props);
    const { settings } = props;

    const buckets = new DatasetBuckets(this, settings);
    this.bucket = buckets.bucket;
    this.accessLogsBucket = buckets.accessLogsBucket;

    // The fan-out's name is fixed so the function can be told its ARN without referencing it (the
    // state machine references the function: the other direction would be a circular dependency).
    const stateMachineName = `${this.stackName}-fanout`;
    const generator = new GeneratorFunction(this, { settings, bucket: this.bucket, stateMachineName });
    this.fn = generator.fn;
    this.asyncFailureQueue = generator.asyncFailureQueue;

    this.fanout = new FanoutStateMachine(this, 'Fanout', {
      fn: this.fn,
      stateMachineName,
      maxConcurrency: settings.fanoutMaxConcurrency,
      retryAttempts: settings.fanoutRetryAttempts,
      logRetentionDays: settings.logRetentionDays,
    });
    allowStartingFanout(this, generator.role, this.fanout, stateMachineName);

    this.api = new DatasetApi(this, { settings, fn: this.fn, stackName: this.stackName }).api;

    const nightly = new NightlySchedule(this, { settings, fn: this.fn });
    this.schedule = nightly.schedule;
    this.scheduleDeadLetterQueue = nightly.deadLetterQueue;

    this.athena = new AthenaCatalog(this, 'Athena', {
      settings,
      bucket: this.bucket,
      accessLogsBucket: this.accessLogsBucket,
      workGroupName: this.stackName,
    });

    this.api.node.tryRemoveChild('Endpoint'); // the RestApi's own URL output: ApiUrl below replaces it
    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: 'Base URL of the API (SigV4, service execute-api)',
    });
    new CfnOutput(this, 'BucketName', { value: this.bucket.bucketName });
    new CfnOutput(this, 'FunctionName', { value: this.fn.functionName });
    new CfnOutput(this, 'StateMachineArn', { value: this.fanout.stateMachine.stateMachineArn });
    new CfnOutput(this, 'AsyncFailureQueueUrl', { value: this.asyncFailureQueue.queueUrl });
    new CfnOutput(this, 'ScheduleDeadLetterQueueUrl', { value: this.scheduleDeadLetterQueue.queueUrl });
    new CfnOutput(this, 'GlueDatabaseName', { value: this.athena.database.ref });
    new CfnOutput(this, 'AthenaWorkGroup', { value: this.athena.workGroup.ref });
    new CfnOutput(this, 'AthenaResultsBucketName', { value: this.athena.resultsBucket.bucketName });
    new CfnOutput(this, 'AthenaQueryPolicyArn', {
      value: this.athena.queryPolicy.managedPolicyArn,
      description: 'Attach to the roles that query the datasets in Athena',
    });
  }
}
