import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import {
  DescribeExecutionCommand,
  ExecutionAlreadyExists,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { UrlSigner } from '../catalog/url-signer.js';
import type { BackgroundJobInvoker } from './background-job.js';
import { fanoutStarter, type ExecutionStatus } from './fanout-executions.js';
import type { FanoutStarter } from '../fanout/fanout-payloads.js';

/** Presigned S3 GET URLs, against whatever endpoint the client is configured with. */
export function s3UrlSigner(client: S3Client, bucket: string): UrlSigner {
  return {
    signGet: (key, expiresIn) =>
      getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn }),
  };
}

/** Hands a job to an asynchronous ('Event') invocation of this same function. */
export function lambdaSelfInvoker(functionName: string | undefined): BackgroundJobInvoker {
  let client: LambdaClient | undefined;
  return async (job) => {
    if (!functionName)
      throw new Error('AWS_LAMBDA_FUNCTION_NAME is not set: cannot start a background job outside Lambda');
    client ??= new LambdaClient({});
    await client.send(
      new InvokeCommand({
        FunctionName: functionName,
        InvocationType: 'Event',
        Payload: Buffer.from(JSON.stringify(job)),
      }),
    );
  };
}

/**
 * Starts the fan-out state machine's executions (see fanoutStarter for the names): StartExecution,
 * whose ExecutionAlreadyExists means the name is taken, and DescribeExecution for its status.
 */
export function stepFunctionsFanoutStarter(stateMachineArn: string | undefined): FanoutStarter {
  let client: SFNClient | undefined;
  const arn = (): string => {
    if (!stateMachineArn) throw new Error('STATE_MACHINE_ARN is not set: cannot start the fan-out of a large dataset');
    return stateMachineArn;
  };
  const sfn = (): SFNClient => {
    arn();
    return (client ??= new SFNClient({}));
  };
  return fanoutStarter({
    async start(name, input) {
      try {
        await sfn().send(new StartExecutionCommand({ stateMachineArn, name, input: JSON.stringify(input) }));
        return true;
      } catch (error) {
        if (error instanceof ExecutionAlreadyExists) return false;
        throw error;
      }
    },
    async status(name) {
      const out = await sfn().send(new DescribeExecutionCommand({ executionArn: executionArnOf(arn(), name) }));
      return out.status as ExecutionStatus;
    },
  });
}

/** arn:…:stateMachine:<machine> → arn:…:execution:<machine>:<name> */
export const executionArnOf = (stateMachineArn: string, name: string): string =>
  `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
