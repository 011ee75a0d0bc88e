import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { datasetAddress } from '../config/dataset-id.js';
import { generationConfigSchema, type GenerationConfig } from '../config/schema.js';
import { validateDatasetRequest } from '../datasets/dataset-request.js';
import { findPublished, prefixOf, publishedOf, type PublishedDataset } from '../datasets/dataset-store.js';
import { describeDataset } from '../datasets/describe-dataset.js';
import { listDatasets } from '../datasets/list-datasets.js';
import { claimRun, endRun, freshRunMarker, type RunMarker } from '../datasets/run-marker.js';
import { placeRun } from '../datasets/sync-rule.js';
import { userTiers } from '../datasets/user-tiers.js';
import { supportsUserRanges } from '../engine/engine-range.js';
import { datasetKeys } from '../publish/publish-dataset.js';
import type { ApiContext } from './api-context.js';
import { clientPath, readJsonBody } from './api-request.js';
import { jsonResponse, problemResponse, type Problem } from './api-response.js';
import { GENERATE_JOB_KIND } from './async-job.js';
import type { Environment } from './environment.js';
import { FANOUT_KINDS } from './fanout-payloads.js';

const DEFAULT_PAGE_SIZE = 20;
const MAX_PAGE_SIZE = 100;
export const DATASET_ID_RULE = 'must be a dataset id: seed-<seed>-<16 hex digits>, e.g. seed-42-fe0bbb5cee398a3b';

/**
 * POST /datasets: publish a config now (201/200), or start a background run when it is too big
 * (202): the fan-out state machine for the biggest seedrandom configs, else one asynchronous
 * invocation; 400 when its estimated output is over what may be written (see `placeRun`).
 */
export async function createDataset(event: APIGatewayProxyEvent, ctx: ApiContext): Promise<APIGatewayProxyResult> {
  const body = readJsonBody(event, ctx.env.maxBodyBytes);
  if (!body.ok) return body.response;
  const cap = userCapOf(body.value, ctx.env);
  const checked = validateDatasetRequest(body.value, cap.maxUsers, cap.setting);
  if (!checked.ok) return problemResponse(400, 'invalid generation config', checked.problems);
  const config = checked.config;
  const location = { Location: clientPath(event, `/datasets/${datasetAddress(config).datasetId}`) };
  const run = placeRun(config, ctx.env);
  if ('problem' in run) return problemResponse(400, 'invalid generation config', [run.problem]);
  if (run.place !== 'request') return startBackgroundRun(config, run.place === 'fanout', ctx, location);

  const outcome = await ctx.publish(config, 'api');
  return jsonResponse(outcome.status === 'created' ? 201 : 200, await describe(publishedOf(outcome), ctx), location);
}

/**
 * The user cap of a request: MAX_USERS when the fan-out will split it (seedrandom, at least
 * FANOUT_MIN_USERS), else SINGLE_RUN_MAX_USERS as well, since one invocation publishes it. Read from
 * the request as given (the engine's default filled in), so an invalid config hears about it too.
 */
function userCapOf(raw: unknown, env: Environment): { maxUsers: number; setting: string } {
  const requested = typeof raw === 'object' && raw !== null ? (raw as Partial<Record<'engine' | 'users', unknown>>) : {};
  const engine = generationConfigSchema.shape.engine.safeParse(requested.engine);
  const split = engine.success && supportsUserRanges({ engine: engine.data } as GenerationConfig);
  const users = typeof requested.users === 'number' ? requested.users : 0;
  if ((split && users >= env.fanout.minUsers) || env.maxUsers <= env.singleRunMaxUsers) return { maxUsers: env.maxUsers, setting: 'MAX_USERS' };
  const larger = split ? `seedrandom configs of at least ${env.fanout.minUsers} users are split` : 'only seedrandom configs can be split';
  return { maxUsers: env.singleRunMaxUsers, setting: `SINGLE_RUN_MAX_USERS: what one invocation publishes; ${larger}, up to ${env.maxUsers} (MAX_USERS)` };
}

async function startBackgroundRun(
  config: GenerationConfig,
  fanout: boolean,
  ctx: ApiContext,
  location: Record<string, string>,
): Promise<APIGatewayProxyResult> {
  const { storage } = ctx.store;
  const address = datasetAddress(config);
  const { datasetId } = address;
  const { prefix } = datasetKeys(address, ctx.store.root);
  const existing = await findPublished(ctx.store, prefix);
  if (existing) return jsonResponse(200, await describe(existing, ctx), location);

  const marker: RunMarker = { datasetId, startedAt: ctx.now.toISOString(), trigger: 'api' };
  if (await claimRun(storage, prefix, marker, ctx.env.runMarkerStaleSeconds)) {
    try {
      // Executions are named after the dataset: a second start finds a running one (fanoutStarter).
      if (fanout) await ctx.startFanout(datasetId, { kind: FANOUT_KINDS.plan, config, requestedAt: marker.startedAt });
      else await ctx.invokeAsync({ kind: GENERATE_JOB_KIND, config, requestedAt: marker.startedAt });
    } catch (error) {
      await endRun(storage, prefix, marker, new Date(), `could not start the background run: ${String(error)}`);
      throw error;
    }
  }
  return jsonResponse(202, { datasetId, status: 'running', prefix }, location);
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
  const problems: Problem[] = [];
  const seed = wholeNumber(query.seed);
  const seedRule = generationConfigSchema.shape.seed.unwrap().safeParse(seed);
  if (query.seed === undefined) problems.push({ field: 'seed', rule: 'is required (the seed whose datasets to list)' });
  else if (!seedRule.success) problems.push({ field: 'seed', rule: seedRule.error.issues[0].message });
  const limit = query.limit === undefined ? DEFAULT_PAGE_SIZE : wholeNumber(query.limit);
  if (!(limit >= 1 && limit <= MAX_PAGE_SIZE)) problems.push({ field: 'limit', rule: `must be an integer from 1 to ${MAX_PAGE_SIZE}` });
  if (problems.length > 0) return problemResponse(400, 'invalid query', problems);
  return jsonResponse(200, { seed, ...(await listDatasets(ctx.store, seed, limit, query.nextToken || undefined)) });
}

/** GET /datasets/{datasetId}/users/{userId}/tiers: the user's merged tier timeline. */
export async function getUserTiers(datasetId: string, userText: string, ctx: ApiContext): Promise<APIGatewayProxyResult> {
  const problems: Problem[] = [];
  const prefix = prefixOf(ctx.store, datasetId);
  if (!prefix) problems.push({ field: 'datasetId', rule: DATASET_ID_RULE });
  const userId = wholeNumber(userText);
  if (!(userId >= 1)) problems.push({ field: 'userId', rule: 'must be a user id: an integer from 1' });
  if (!prefix || problems.length > 0) return problemResponse(400, 'malformed request path', problems);

  const dataset = await findPublished(ctx.store, prefix);
  if (!dataset) return notFound(datasetId);
  const tiers = await userTiers(ctx.store, dataset, userId);
  if (!tiers) {
    const rule = `no such user in this dataset (user ids are 1 to ${dataset.manifest.config.users})`;
    return problemResponse(404, 'user not found', [{ field: 'userId', rule }]);
  }
  return jsonResponse(200, { datasetId, userId, tiers });
}

function describe(dataset: PublishedDataset, ctx: ApiContext) {
  return describeDataset(dataset, { signer: ctx.signer, expiresInSeconds: ctx.env.presignExpiresSeconds, now: ctx.now });
}

export function notFound(datasetId: string): APIGatewayProxyResult {
  return problemResponse(404, 'dataset not found', [{ field: 'datasetId', rule: `no published dataset ${datasetId}, and no run under way` }]);
}

/** A decimal integer, or NaN for anything else ("", "1e3", "0x10", "-1"). */
function wholeNumber(text: string | undefined): number {
  return text !== undefined && /^\d{1,15}$/.test(text) ? Number(text) : Number.NaN;
}
