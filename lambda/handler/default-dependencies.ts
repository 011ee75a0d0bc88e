import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { S3Storage } from '../storage/s3-storage.js';
import { createS3Client } from '../storage/s3-client.js';
import { lambdaSelfInvoker, s3UrlSigner, stepFunctionsFanoutStarter } from './aws-adapters.js';
import type { HandlerDeps } from './create-handler.js';
import { loadEnvironment } from './environment.js';

/** The handler's dependencies from the environment; throws at cold start on a bad setting. */
export function dependenciesFromEnvironment(variables: Record<string, string | undefined> = process.env): HandlerDeps {
  const env = loadEnvironment(variables);
  const client = createS3Client();
  return {
    env,
    storage: new S3Storage(client, env.bucket),
    signer: s3UrlSigner(client, env.bucket),
    invokeAsync: lambdaSelfInvoker(env.functionName),
    startFanout: stepFunctionsFanoutStarter(env.fanout.stateMachineArn),
    logger: new Logger({ serviceName: 'tierdrift' }),
    metrics: new Metrics({ namespace: 'tierdrift', serviceName: 'tierdrift' }),
  };
}
