import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { DATASET_ID_RULE } from '../config/dataset-id.js';
import { findPublished, prefixOf } from '../catalog/dataset-store.js';
import { DatasetFileError } from '../dataset/dataset-csv.js';
import { evaluatePredictions } from '../evaluation/evaluate.js';
import { EXPECTATION_PARAMETERS, parseExpectations } from '../evaluation/expectations.js';
import { parsePredictions } from '../evaluation/predictions.js';
import { InputProblemsError } from '../evaluation/problem-list.js';
import { taskDatasetOf } from '../evaluation/task-dataset.js';
import type { ApiContext } from './api-context.js';
import { readTextBody, unknownQueryParameters } from './api-request.js';
import { jsonResponse, problemResponse } from './api-response.js';
import { notFound } from './dataset-routes.js';

/**
 * POST /datasets/{datasetId}/evaluations?maxJustDowngraded=&minJustUpgraded=&minPremiumLongRatio=
 * (thresholds optional), body a predictions CSV: the report `tierdrift evaluate` writes (200), or
 * 400 naming the bad rows.
 */
export async function evaluateDatasetPredictions(
  event: APIGatewayProxyEvent,
  datasetId: string,
  ctx: ApiContext,
): Promise<APIGatewayProxyResult> {
  const prefix = prefixOf(ctx.store, datasetId);
  if (!prefix) return problemResponse(400, 'malformed dataset id', [{ field: 'datasetId', rule: DATASET_ID_RULE }]);
  const body = readTextBody(event, ctx.env.maxBodyBytes);
  if (!body.ok) return body.response;
  const unknown = unknownQueryParameters(event, Object.keys(EXPECTATION_PARAMETERS));
  const thresholds = parseExpectations(event.queryStringParameters ?? {});
  if (!thresholds.ok || unknown.length > 0)
    return problemResponse(400, 'invalid query', [...unknown, ...(thresholds.ok ? [] : thresholds.problems)]);
  const dataset = await findPublished(ctx.store, prefix);
  if (!dataset) return notFound(datasetId);
  try {
    const { datasetId: id } = taskDatasetOf(dataset.manifest);
    return jsonResponse(
      200,
      await evaluatePredictions(ctx.store.storage, prefix, id, parsePredictions(body.text), thresholds.expectations),
    );
  } catch (error) {
    if (error instanceof InputProblemsError) return problemResponse(400, 'invalid predictions', error.problems);
    if (error instanceof DatasetFileError)
      return problemResponse(404, 'no task file', [{ field: 'datasetId', rule: error.message }]);
    throw error;
  }
}
