import type { APIGatewayProxyResult } from 'aws-lambda';

import type { Problem } from '../errors/problem.js';

export function jsonResponse(
  statusCode: number,
  body: unknown,
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8', ...headers },
    body: `${JSON.stringify(body, null, 2)}\n`,
  };
}

/** Every error answer: a message and the list of problems, each naming its field. */
export function problemResponse(
  statusCode: number,
  message: string,
  errors: Problem[],
  headers: Record<string, string> = {},
): APIGatewayProxyResult {
  return jsonResponse(statusCode, { message, errors }, headers);
}
