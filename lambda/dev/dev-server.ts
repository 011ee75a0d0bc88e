import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathToFileURL } from 'node:url';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { createHandler, type TierdriftHandler } from '../handler/create-handler.js';
import { dependenciesFromEnvironment } from '../handler/default-dependencies.js';
import { fanoutStarter } from '../handler/fanout-executions.js';
import { startLocalS3, type LocalS3 } from './local-s3-server.js';
import { LocalStateMachine } from './local-state-machine.js';
import { synthesizedFanout } from './synthesized-fanout.js';

const BUCKET = 'tierdrift-dev';

export interface DevStack {
  /** The API's base URL, e.g. http://127.0.0.1:3000. */
  url: string;
  s3: LocalS3;
  handler: TierdriftHandler;
  /** The fan-out state machine's executions. */
  fanout: LocalStateMachine;
  stop(): Promise<void>;
}

/**
 * The local stack: an embedded S3 server and an HTTP server on 127.0.0.1 that turns each request
 * into an API Gateway proxy event for the real handler. Background jobs happen in this process, and
 * fan-outs in the stack's fan-out state machine, synthesized at start (about 2 s, then cached) and
 * run by an emulator.
 */
export async function startDevStack(port = 3000): Promise<DevStack> {
  const fanout = await synthesizedFanout();
  const s3 = await startLocalS3();
  s3.useAsSdkEndpoint();
  await s3.createBucket(BUCKET);
  process.env.BUCKET_NAME ??= BUCKET;
  // EMF lines are for CloudWatch; locally they would drown the logs.
  process.env.POWERTOOLS_METRICS_DISABLED ??= 'true';
  const deps = dependenciesFromEnvironment(process.env);
  const running = new Set<Promise<unknown>>();
  // Like Step Functions: one execution per name, run after the request has been answered.
  const stateMachine = new LocalStateMachine({
    ...fanout,
    invoke: (payload) => handler(payload),
    onFailure: (name, error) => deps.logger.error('fan-out failed', { execution: name, error: error as Error }),
  });
  const handler: TierdriftHandler = createHandler({
    ...deps,
    invokeAsync: (job) => {
      // Like an 'Event' invocation: accepted now, run after this request has been answered.
      const run = new Promise((resolve) => setImmediate(resolve)).then(() => handler(job));
      running.add(run);
      void run
        .catch((error: unknown) => deps.logger.error('background job failed', { error: error as Error }))
        .finally(() => running.delete(run));
      return Promise.resolve();
    },
    startFanout: fanoutStarter(stateMachine),
  });

  const server = createServer((req, res) => {
    void toProxyEvent(req)
      .then((event) => handler(event))
      .then(
        (response) => {
          res.writeHead(response.statusCode, response.headers as Record<string, string>);
          res.end(response.body);
        },
        (error: unknown) => {
          deps.logger.error('dev server request failed', { error: error as Error });
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: 'internal error', errors: [{ field: '(server)', rule: String(error) }] }));
        },
      );
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    s3,
    handler,
    fanout: stateMachine,
    async stop() {
      await closeServer(server);
      await Promise.allSettled(running);
      await stateMachine.settled();
      await s3.stop();
    },
  };
}

async function toProxyEvent(req: IncomingMessage): Promise<APIGatewayProxyEvent> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const url = new URL(req.url ?? '/', 'http://localhost');
  const query = Object.fromEntries(url.searchParams);
  // As API Gateway: every value of each parameter here, the last one in queryStringParameters.
  const multiQuery: Record<string, string[]> = {};
  for (const [name, value] of url.searchParams) (multiQuery[name] ??= []).push(value);
  const headers = Object.fromEntries(
    Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')]),
  );
  const body = Buffer.concat(chunks);
  return {
    resource: url.pathname,
    path: url.pathname,
    httpMethod: req.method ?? 'GET',
    headers,
    multiValueHeaders: {},
    queryStringParameters: Object.keys(query).length > 0 ? query : null,
    multiValueQueryStringParameters: Object.keys(multiQuery).length > 0 ? multiQuery : null,
    pathParameters: null,
    stageVariables: null,
    body: body.length > 0 ? body.toString('base64') : null,
    isBase64Encoded: body.length > 0,
    requestContext: {
      path: url.pathname,
      httpMethod: req.method ?? 'GET',
      stage: 'dev',
      requestId: crypto.randomUUID(),
      requestTimeEpoch: Date.now(),
    } as APIGatewayProxyEvent['requestContext'],
  };
}

function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const stack = await startDevStack(Number(process.env.PORT ?? 3000));
  console.log(`tierdrift dev API on ${stack.url} (S3 on ${stack.s3.endpoint}, bucket ${process.env.BUCKET_NAME})`);
  console.log('try:');
  console.log(`  curl -X POST ${stack.url}/datasets -d '{"seed":7}'`);
  console.log(`  curl '${stack.url}/datasets?seed=7'`);
  const stop = () => void stack.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
