import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { UrlSigner } from '../datasets/url-signer.js';
import type { AsyncInvoker } from './async-job.js';

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
