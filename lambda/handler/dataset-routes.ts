import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { setTimeout } from 'node:timers/promises';
import { CONFIG_HASH, DATASET_ID_RULE, datasetAddress } from '../config/dataset-id.js';
import { generationConfigSchema, type GenerationConfig } from '../config/schema.js';
import { validateDatasetRequest } from '../catalog/dataset-request.js';
import { findPublished, prefixOf, publishedOf, type PublishedDataset } from '../catalog/dataset-store.js';
import { describeDataset } from '../catalog/describe-dataset.js';
import { listDatasets } from '../catalog/list-datasets.js';
import { claimRun, endRun, freshRunMarker, openRunMarker, type RunMarker } from '../catalog/run-marker.js';
import { placeRun } from '../catalog/sync-rule.js';
import { userTiers } from '../catalog/user-tiers.js';
import { DatasetFileError, requireCsv } from '../dataset/dataset-csv.js';
import { supportsUserRanges } from '../engine/engine-range.js';
import { datasetKeys } from '../layout/key-layout.js';
import { FailedChecksError, strictRefusal, type PublishOutcome } from '../publish/publish-dataset.js';
import type { ApiContext } from './api-context.js';
import { clientPath, readJsonBody, unknownQueryParameters } from './api-request.js';
import { issueProblems, type Problem } from '../errors/problem.js';
import { jsonResponse, problemResponse } from './api-response.js';
import { GENERATE_JOB_KIND } from './background-job.js';
import type { Environment } from './environment.js';
import { FANOUT_KINDS } from '../fanout/fanout-payloads.js';

const LIST_PARAMETERS = ['seed', 'limit', 'nextToken'];
const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;

/**
 * POST /datasets: publish a config now (201/200), or start a background job when it is too big
 * (202): the fan-out state machine for the biggest seedrandom configs, else one asynchronous
 * invocation; 400 when its estimated output is over what may be written (see `placeRun`).
 * `?strict=true`: failed integrity checks fail the run (422, nothing published).
 */
export async function createDataset(event: APIGatewayProxyEvent, ctx: ApiContext): Promise<APIGatewayProxyResult> {
  const body = readJsonBody(event, ctx.env.maxBodyBytes);
  if (!body.ok) return body.response;
  const strict = strictOf(event);
  if (strict === undefined)
    return problemResponse(400, 'invalid query', [{ field: 'strict', rule: 'must be true or false' }]);
  const cap = userCapOf(body.value, ctx.env);
  const checked = validateDatasetRequest(body.value, cap.maxUsers, cap.setting);
  if (!checked.ok) return problemResponse(400, 'invalid generation config', checked.problems);
  const config = checked.config;
  const location = { Location: clientPath(event, `/datasets/${datasetAddress(config).datasetId}`) };
  const run = placeRun(config, ctx.env);
  if ('problem' in run) return problemResponse(400, 'invalid generation config', [run.problem]);
  // The fan-out does not take `strict`: it runs seedrandom only, whose checks pass by construction.
  if (run.place !== 'request') return startBackgroundJob(config, run.place === 'fanout', ctx, location, strict);
  return publishNow(config, ctx, location, strict);
}

function strictOf(event: APIGatewayProxyEvent): boolean | undefined {
  const text = event.queryStringParameters?.strict;
  return text === undefined || text === 'false' ? false : text === 'true' ? true : undefined;
}

/**
 * 422: the config is valid, but the dataset it makes fails checks the request required to pass.
 * Each failed check is named, with what it means when its cause is known.
 */
function failedChecksResponse(error: FailedChecksError, location: Record<string, string>): APIGatewayProxyResult {
  const problems = error.failed.map((c) => ({
    field: `checks.${c.name}`,
    rule: `${c.description}: ${c.violations} violation(s), e.g. ${c.examples.slice(0, 3).join('; ')}${c.note ? `. Why: ${c.note}` : ''}`,
  }));
  return problemResponse(422, error.message, problems, error.alreadyPublished ? location : {});
}

/**
 * The user cap of a request: MAX_USERS when the fan-out will split it (seedrandom, at least
 * FANOUT_MIN_USERS), else SINGLE_RUN_MAX_USERS as well, since one invocation publishes it. Read from
 * the request as given (the engine's default filled in), so an invalid config hears about it too.
 */
function userCapOf(raw: unknown, env: Environment): { maxUsers: number; setting: string } {
  const requested =
    typeof raw === 'object' && raw !== null ? (raw as Partial<Record<'engine' | 'users', unknown>>) : {};
  const engine = generationConfigSchema.shape.engine.safeParse(requested.engine);
  const split = engine.success && supportsUserRanges({ engine: engine.data } as GenerationConfig);
  const users = typeof requested.users === 'number' ? requested.users : 0;
  if ((split && users >= env.fanout.minUsers) || env.maxUsers <= env.singleRunMaxUsers)
    return { maxUsers: env.maxUsers, setting: 'MAX_USERS' };
  const larger = split
    ? `seedrandom configs of at least ${env.fanout.minUsers} users are split`
    : 'only seedrandom configs can be split';
  return {
    maxUsers: env.singleRunMaxUsers,
    setting: `SINGLE_RUN_MAX_USERS: what one invocation publishes; ${larger}, up to ${env.maxUsers} (MAX_USERS)`,
  };
}

/** A request's turn at a dataset: found published, or the run claimed by this request or by another. */
type Turn = { published: PublishedDataset } | { prefix: string; marker: RunMarker; claimed: boolean };

/** One run per dataset at a time, sync or background: the run marker's no-overwrite claim decides who runs it. */
async function takeTurn(config: GenerationConfig, ctx: ApiContext): Promise<Turn> {
  const address = datasetAddress(config);
  const { prefix } = datasetKeys(address, ctx.store.root);
  const published = await findPublished(ctx.store, prefix);
  if (published) return { published };
  const marker: RunMarker = { datasetId: address.datasetId, startedAt: ctx.now.toISOString(), trigger: 'api' };
  return { prefix, marker, claimed: await claimRun(ctx.store.storage, prefix, marker, ctx.env.runMarkerStaleSeconds) };
}

/**
 * Publishes inside the request, single flight: the request that claims the run generates and ends
 * the marker; identical requests meanwhile wait for its manifest (`awaitRun`).
 */
async function publishNow(
  config: GenerationConfig,
  ctx: ApiContext,
  location: Record<string, string>,
  strict: boolean,
): Promise<APIGatewayProxyResult> {
  const turn = await takeTurn(config, ctx);
  if ('published' in turn) return publishedResponse(turn.published, strict, ctx, location);
  const { prefix, marker } = turn;
  if (!turn.claimed) return awaitRun(prefix, marker.datasetId, strict, ctx, location);
  let outcome: PublishOutcome;
  try {
    outcome = await ctx.publish(config, 'api', { strict });
  } catch (error) {
    // Ended with the cause rather than left to go stale, so the next request retries at once.
    await endRun(ctx.store.storage, prefix, marker, new Date(), String(error));
    if (error instanceof FailedChecksError) return failedChecksResponse(error, location);
    throw error;
  }
  await endRun(ctx.store.storage, prefix, marker, new Date());
  return jsonResponse(outcome.status === 'created' ? 201 : 200, await describe(publishedOf(outcome), ctx), location);
}

/** 200 with a published dataset, or the 422 of `strict` when its checks failed. */
async function publishedResponse(
  dataset: PublishedDataset,
  strict: boolean,
  ctx: ApiContext,
  location: Record<string, string>,
): Promise<APIGatewayProxyResult> {
  const refusal = strict ? strictRefusal(dataset.manifest, true) : undefined;
  if (refusal) return failedChecksResponse(refusal, location);
  return jsonResponse(200, await describe(dataset, ctx), location);
}

// How often a waiting request looks for the manifest: soon at first, then at most once a second.
const FIRST_POLL_MS = 100;
const MAX_POLL_MS = 1000;

/**
 * Waits up to SYNC_WAIT_SECONDS for the run another request claimed: 200 with the dataset once its
 * manifest is there; 503 (retry) if the run ends without one; else 202 like a background job. The
 * marker is read before the manifest: the run writes its manifest before it ends the marker, so an
 * ended marker and then no manifest means the run failed.
 */
async function awaitRun(
  prefix: string,
  datasetId: string,
  strict: boolean,
  ctx: ApiContext,
  location: Record<string, string>,
): Promise<APIGatewayProxyResult> {
  const deadline = Date.now() + ctx.env.syncWaitSeconds * 1000;
  for (let pause = FIRST_POLL_MS; ; pause = Math.min(2 * pause, MAX_POLL_MS)) {
    const running = await openRunMarker(ctx.store.storage, prefix);
    const published = await findPublished(ctx.store, prefix);
    if (published) return publishedResponse(published, strict, ctx, location);
    if (!running) {
      const rule = 'the identical request that was publishing this dataset failed (see the function logs); retry';
      return problemResponse(503, 'dataset run failed', [{ field: '(server)', rule }], { 'Retry-After': '1' });
    }
    const left = deadline - Date.now();
    if (left <= 0) return runningResponse(datasetId, prefix, location);
    await setTimeout(Math.min(pause, left));
  }
}

const runningResponse = (datasetId: string, prefix: string, location: Record<string, string>) =>
  jsonResponse(202, { datasetId, status: 'running', prefix }, location);

async function startBackgroundJob(
  config: GenerationConfig,
  fanout: boolean,
  ctx: ApiContext,
  location: Record<string, string>,
  strict: boolean,
): Promise<APIGatewayProxyResult> {
  const turn = await takeTurn(config, ctx);
  if ('published' in turn) return publishedResponse(turn.published, strict, ctx, location);
  const { prefix, marker } = turn;
  if (turn.claimed) {
    try {
      // Executions are named after the dataset: a second start finds a running one (fanoutStarter).
      if (fanout)
        await ctx.startFanout(marker.datasetId, { kind: FANOUT_KINDS.plan, config, requestedAt: marker.startedAt });
      else
        await ctx.invokeAsync({
          kind: GENERATE_JOB_KIND,
          config,
          requestedAt: marker.startedAt,
          ...(strict && { strict }),
        });
    } catch (error) {
      await endRun(
        ctx.store.storage,
        prefix,
        marker,
        new Date(),
        `could not start the background job: ${String(error)}`,
      );
      throw error;
    }
  }
  return runningResponse(marker.datasetId, prefix, location);
}

/** GET /datasets/{datasetId}: 200 published, 202 while a run is under way, 404 otherwise. */
export async function getDataset(datasetId: string, ctx: ApiContext): Promise<APIGatewayProxyResult> {
  const prefix = prefixOf(ctx.store, datasetId);
  if (!prefix) return problemResponse(400, 'malformed dataset id', [{ field: 'datasetId', rule: DATASET_ID_RULE }]);
  const dataset = await findPublished(ctx.store, prefix);
  if (dataset) return jsonResponse(200, await describe(dataset, ctx));
  const marker = await freshRunMarker(ctx.store.storage, prefix, ctx.now, ctx.env.runMarkerStaleSeconds);
  if (marker) return jsonResponse(202, { datasetId, status: 'running', prefix, startedAt: marker.startedAt });
  return notFound(datasetId);
}

/** GET /datasets?seed=N&limit=&nextToken=: one page of the datasets published for a seed. */
export async function listSeedDatasets(event: APIGatewayProxyEvent, ctx: ApiContext): Promise<APIGatewayProxyResult> {
  const query = event.queryStringParameters ?? {};
  const problems = unknownQueryParameters(event, LIST_PARAMETERS);
  const seed = wholeNumber(query.seed);
  const seedRule = generationConfigSchema.shape.seed.unwrap().safeParse(seed);
  if (query.seed === undefined) problems.push({ field: 'seed', rule: 'is required (the seed whose datasets to list)' });
  else if (!seedRule.success) problems.push(...issueProblems(seedRule.error.issues, { whole: 'seed' }));
  const limit = query.limit === undefined ? DEFAULT_PAGE_SIZE : wholeNumber(query.limit);
  if (!(limit >= 1 && limit <= MAX_PAGE_SIZE))
    problems.push({ field: 'limit', rule: `must be an integer from 1 to ${MAX_PAGE_SIZE}` });
  const nextToken = query.nextToken || undefined; // empty: the first page
  if (nextToken !== undefined && !CONFIG_HASH.test(nextToken)) {
    problems.push({
      field: 'nextToken',
      rule: 'must be the nextToken of a previous page (16 hex digits), or absent for the first page',
    });
  }
  if (problems.length > 0) return problemResponse(400, 'invalid query', problems);
  return jsonResponse(200, { seed, ...(await listDatasets(ctx.store, seed, limit, nextToken)) });
}

/** GET /datasets/{datasetId}/users/{userId}/tiers: the user's merged tier timeline. */
export async function getUserTiers(
  datasetId: string,
  userText: string,
  ctx: ApiContext,
): Promise<APIGatewayProxyResult> {
  const problems: Problem[] = [];
  const prefix = prefixOf(ctx.store, datasetId);
  if (!prefix) problems.push({ field: 'datasetId', rule: DATASET_ID_RULE });
  const userId = wholeNumber(userText);
  if (!(userId >= 1)) problems.push({ field: 'userId', rule: 'must be a user id: an integer from 1' });
  if (!prefix || problems.length > 0) return problemResponse(400, 'malformed request path', problems);

  const dataset = await findPublished(ctx.store, prefix);
  if (!dataset) return notFound(datasetId);
  try {
    requireCsv(dataset.manifest, 'the tiers route');
  } catch (error) {
    if (error instanceof DatasetFileError)
      return problemResponse(404, 'no CSV files', [{ field: 'datasetId', rule: error.message }]);
    throw error;
  }
  const tiers = await userTiers(ctx.store, dataset, userId);
  if (!tiers) {
    const rule = `no such user in this dataset (user ids are 1 to ${dataset.manifest.config.users})`;
    return problemResponse(404, 'user not found', [{ field: 'userId', rule }]);
  }
  return jsonResponse(200, { datasetId, userId, tiers });
}

function describe(dataset: PublishedDataset, ctx: ApiContext) {
  return describeDataset(dataset, {
    signer: ctx.signer,
    expiresInSeconds: ctx.env.presignExpiresSeconds,
    now: ctx.now,
  });
}

export function notFound(datasetId: string): APIGatewayProxyResult {
  return problemResponse(404, 'dataset not found', [
    { field: 'datasetId', rule: `no published dataset ${datasetId}, and no run under way` },
  ]);
}

/** A decimal integer, or NaN for anything else ("", "1e3", "0x10", "-1"). */
function wholeNumber(text: string | undefined): number {
  return text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
}
