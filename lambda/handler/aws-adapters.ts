import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { UrlSigner } from '../datasets/url-signer.js';
import type { AsyncInvoker } from './async-job.js';
import type { FanoutStarter } from './fanout-payloads.js';

/** Presigned S3 GET URLs, against whatever endpoint the client is configured with. */
export function s3UrlSigner(client: S3Client, bucket: string): UrlSigner {
  return {
    signGet: (key, expiresIn) => getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn }),
  };
}

/** Hands a job to an asynchronous ('Event') invocation of this same function. */
export function lambdaSelfInvoker(functionName: string | undefined): AsyncInvoker {
  let client: LambdaClient | undefined;
  return async (job) => {
    if (!functionName) throw new Error('AWS_LAMBDA_FUNCTION_NAME is not set: cannot start a background run outside Lambda');
    client ??= new LambdaClient({});
    await client.send(
      new InvokeCommand({ FunctionName: functionName, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(job)) }),
    );
  };
}

/**
 * Starts an execution of the fan-out state machine. Names are unique per state machine, so a
 * second start for the same dataset is refused with ExecutionAlreadyExists: already running.
 */
export function stepFunctionsFanoutStarter(stateMachineArn: string | undefined): FanoutStarter {
  let client: SFNClient | undefined;
  return async (name, input) => {
    if (!stateMachineArn) throw new Error('STATE_MACHINE_ARN is not set: cannot start the fan-out of a large dataset');
    client ??= new SFNClient({});
    try {
      await client.send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
      return 'started';
    } catch (error) {
      if (error instanceof ExecutionAlreadyExists) return 'already-running';
      throw error;
    }
  };
}
