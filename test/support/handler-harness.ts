import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { readFileSync } from 'node:fs';
import type { GenerateJob } from '../../lambda/handler/background-job.js';
import { createHandler, type HandlerDeps, type TierdriftHandler } from '../../lambda/handler/create-handler.js';
import { dependenciesFromEnvironment } from '../../lambda/handler/default-dependencies.js';
import type { FanoutPlanJob } from '../../lambda/fanout/fanout-payloads.js';
import type { ComposableStorage } from '../../lambda/storage/storage.js';
import type { LocalS3 } from './local-s3.js';

let buckets = 0;

export const readEvent = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`../../events/${name}`, import.meta.url), 'utf8'));

export const apiEvent = (name: string): APIGatewayProxyEvent => readEvent(name) as APIGatewayProxyEvent;

/** An API event from a sample, with another method, path or body. */
export function withRequest(
  base: APIGatewayProxyEvent,
  change: Partial<Pick<APIGatewayProxyEvent, 'httpMethod' | 'path' | 'body' | 'queryStringParameters'>>,
): APIGatewayProxyEvent {
  const event = { ...base, ...change };
  return {
    ...event,
    requestContext: { ...base.requestContext, path: `/prod${event.path}`, httpMethod: event.httpMethod },
  };
}

export interface Harness {
  handler: TierdriftHandler;
  bucket: string;
  storage: ComposableStorage;
  /** Jobs the API handed to the (recording) asynchronous invoker. */
  jobs: GenerateJob[];
  /** Executions the API started on the (recording) fan-out starter. */
  executions: Array<{ name: string; input: FanoutPlanJob }>;
  /** Moves the handler's clock forward. */
  advance(seconds: number): void;
  api(event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult & { json: Record<string, unknown> }>;
  /** Every key in the harness's bucket. */
  keys(): Promise<string[]>;
}

/**
 * The real handler on a fresh bucket of the local S3, wired like the Lambda but with a recording
 * invoker and fan-out starter (which answers like StartExecution: a second start of a name is
 * 'already-running'); `overrides` replaces dependencies, e.g. the fan-out's plan options.
 */
export async function createHarness(
  s3: LocalS3,
  variables: Record<string, string> = {},
  overrides: Partial<HandlerDeps> = {},
): Promise<Harness> {
  const bucket = `handler-test-${++buckets}`;
  await s3.createBucket(bucket);
  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  const deps = dependenciesFromEnvironment({ BUCKET_NAME: bucket, ...variables });
  const jobs: GenerateJob[] = [];
  const executions: Harness['executions'] = [];
  let offsetMs = 0;
  const logger = new Logger({ logLevel: 'SILENT' });
  const handler = createHandler({
    ...deps,
    logger,
    metrics: new Metrics({ namespace: 'tierdrift', logger }),
    invokeAsync: async (job) => void jobs.push(job),
    startFanout: async (name, input) => {
      if (executions.some((e) => e.name === name)) return 'already-running';
      executions.push({ name, input });
      return 'started';
    },
    now: () => new Date(Date.now() + offsetMs),
    ...overrides,
  });
  return {
    handler,
    bucket,
    storage: deps.storage,
    jobs,
    executions,
    advance: (seconds) => void (offsetMs += seconds * 1000),
    async api(event) {
      const response = await handler(event);
      return { ...response, json: JSON.parse(response.body) as Record<string, unknown> };
    },
    async keys() {
      const all: string[] = [];
      let token: string | undefined;
      do {
        const page = await deps.storage.list('', { token });
        all.push(...page.keys);
        token = page.nextToken;
      } while (token);
      return all.sort();
    },
  };
}
