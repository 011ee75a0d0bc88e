import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { parseUnambiguousJson } from '../config/unambiguous-json.js';
import type { Problem } from '../errors/problem.js';
import { problemResponse } from './api-response.js';

export type BodyResult = { ok: true; value: unknown } | { ok: false; response: APIGatewayProxyResult };

export type TextBodyResult = { ok: true; text: string } | { ok: false; response: APIGatewayProxyResult };

// Fatal: bytes that are not UTF-8 are refused rather than silently replaced by U+FFFD.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The request's body as text (API Gateway base64-encodes binary bodies), or the 413 answer when
 * it is too large, or the 400 answer when it is not UTF-8.
 */
export function readTextBody(event: APIGatewayProxyEvent, maxBytes: number): TextBodyResult {
  const bytes = Buffer.from(event.body ?? '', event.isBase64Encoded ? 'base64' : 'utf8');
  if (bytes.length > maxBytes) {
    const rule = `must be at most ${maxBytes} bytes (got ${bytes.length})`;
    return { ok: false, response: problemResponse(413, 'request body too large', [{ field: '(body)', rule }]) };
  }
  try {
    return { ok: true, text: UTF8.decode(bytes) };
  } catch {
    return {
      ok: false,
      response: problemResponse(400, 'request body is not text', [{ field: '(body)', rule: 'must be UTF-8 text' }]),
    };
  }
}

/**
 * A query parameter given more than once: API Gateway passes only one of its values on, so the
 * request is ambiguous (like a JSON key given twice).
 */
export function repeatedQueryParameters(event: APIGatewayProxyEvent): Problem[] {
  return Object.entries(event.multiValueQueryStringParameters ?? {})
    .filter(([, values]) => (values?.length ?? 0) > 1)
    .map(([name]) => ({ field: name, rule: 'is given more than once: ambiguous; give it once' }));
}

/** Query parameters the route does not take: a misspelt one would silently leave its default in place. */
export function unknownQueryParameters(event: APIGatewayProxyEvent, known: readonly string[]): Problem[] {
  return Object.keys(event.queryStringParameters ?? {})
    .filter((name) => !known.includes(name))
    .map((name) => ({ field: name, rule: `unknown query parameter (allowed: ${known.join(', ')})` }));
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
  const json = parseUnambiguousJson(text);
  if (json.ok) return json;
  if ('syntaxError' in json) {
    const rule = `must be valid JSON (${json.syntaxError})`;
    return { ok: false, response: problemResponse(400, 'request body is not JSON', [{ field: '(body)', rule }]) };
  }
  const rule = 'is given more than once in its object: ambiguous (JSON would keep the last); give it once';
  return { ok: false, response: problemResponse(400, 'ambiguous request body', [{ field: json.duplicateKey, rule }]) };
}

/**
 * The URL path of a resource as the client called it: API Gateway's `path` lacks the stage
 * (`/prod`) that `requestContext.path` keeps, so the difference is the base to prepend.
 */
export function clientPath(event: APIGatewayProxyEvent, resourcePath: string): string {
  const called = event.requestContext.path;
  const base = called.endsWith(event.path) ? called.slice(0, called.length - event.path.length) : '';
  return `${base}${resourcePath}`;
}
