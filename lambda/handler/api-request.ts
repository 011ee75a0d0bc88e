import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { problemResponse } from './api-response.js';

export type BodyResult = { ok: true; value: unknown } | { ok: false; response: APIGatewayProxyResult };

export type TextBodyResult = { ok: true; text: string } | { ok: false; response: APIGatewayProxyResult };

/** The request's body as text (API Gateway base64-encodes binary bodies), or the 413 answer when it is too large. */
export function readTextBody(event: APIGatewayProxyEvent, maxBytes: number): TextBodyResult {
  const bytes = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.length > maxBytes) {
    const rule = `must be at most ${maxBytes} bytes (got ${bytes.length})`;
    return { ok: false, response: problemResponse(413, 'request body too large', [{ field: '(body)', rule }]) };
  }
  return { ok: true, text: bytes.toString('utf8') };
}

/** The request's JSON body, or the 400/413 answer explaining why there is none. */
export function readJsonBody(event: APIGatewayProxyEvent, maxBytes: number): BodyResult {
  const body = readTextBody(event, maxBytes);
  if (!body.ok) return body;
  const { text } = body;
  if (text.trim() === '') {
    const rule = 'must be a JSON generation config, e.g. {"seed": 7} ({} for the defaults)';
    return { ok: false, response: problemResponse(400, 'missing request body', [{ field: '(body)', rule }]) };
  }
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch (error) {
    const rule = `must be valid JSON (${(error as Error).message})`;
    return { ok: false, response: problemResponse(400, 'request body is not JSON', [{ field: '(body)', rule }]) };
  }
}

/**
 * The URL path of a resource as the client called it: API Gateway's `path` lacks the stage
 * (`/prod`) that `requestContext.path` keeps, so the difference is the base to prepend.
 */
export function clientPath(event: APIGatewayProxyEvent, resourcePath: string): string {
  const called = event.requestContext?.path ?? event.path;
  const base = called.endsWith(event.path) ? called.slice(0, called.length - event.path.length) : '';
  return `${base}${resourcePath}`;
}
