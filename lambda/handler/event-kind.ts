import type { APIGatewayProxyEvent } from 'aws-lambda';
import { GENERATE_JOB_KIND } from './background-job.js';
import { isFanoutKind } from '../fanout/fanout-payloads.js';

export type EventKind = 'api' | 'schedule' | 'job' | 'fanout';

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

export function isApiGatewayEvent(event: unknown): event is APIGatewayProxyEvent {
  return (
    isRecord(event) &&
    typeof event.httpMethod === 'string' &&
    typeof event.path === 'string' &&
    isRecord(event.requestContext)
  );
}

/** Which trigger sent an event (`fanout`: a step of the state machine), or undefined when it is none of them. */
export function eventKind(event: unknown): EventKind | undefined {
  if (isApiGatewayEvent(event)) return 'api';
  if (!isRecord(event)) return undefined;
  if (event.kind === GENERATE_JOB_KIND) return 'job';
  if (isFanoutKind(event.kind)) return 'fanout';
  if ('fixtures' in event) return 'schedule';
  return undefined;
}
