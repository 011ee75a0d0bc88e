import { OperationError } from '../errors/operation-error.js';

/** One S3 call: the operation's name, its part number if any, and the object as s3://bucket/key. */
export interface S3Call {
  operation: string;
  part?: number;
  url: string;
}

/**
 * A failed S3 call in one line, e.g. `S3 SlowDown (503) on UploadPart 12 of s3://b/…/uploads.csv
 * after 3 attempts`: the cause (the service's error code and status, or the network's), the call,
 * and how many tries the SDK's retry strategy made. The SDK's error stays as `cause`.
 */
export function s3Failure(error: unknown, call: S3Call): OperationError {
  if (error instanceof OperationError) return error;
  const attempts = attemptsOf(error);
  const where = `${call.operation}${call.part === undefined ? '' : ` ${call.part}`} of ${call.url}`;
  return new OperationError(`${causeOf(error)} on ${where}${attempts > 1 ? ` after ${attempts} attempts` : ''}`, {
    cause: error,
  });
}

interface SdkErrorShape {
  name?: string;
  message?: string;
  code?: string;
  $fault?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
}

function attemptsOf(error: unknown): number {
  return (error as SdkErrorShape | undefined)?.$metadata?.attempts ?? 1;
}

const NETWORK_CAUSES: Record<string, string> = {
  ECONNRESET: 'S3 connection reset',
  ECONNREFUSED: 'S3 connection refused',
  EPIPE: 'S3 connection closed',
  ECONNABORTED: 'S3 connection aborted',
  ETIMEDOUT: 'S3 connection timed out',
  EHOSTUNREACH: 'S3 host unreachable',
  ENETUNREACH: 'S3 network unreachable',
  ENOTFOUND: 'S3 endpoint not found',
  EAI_AGAIN: 'S3 endpoint not resolved',
};

function causeOf(error: unknown): string {
  const e = (error ?? {}) as SdkErrorShape;
  const message = String(e.message ?? error);
  const status = e.$metadata?.httpStatusCode;
  if (e.$fault && status !== undefined) {
    // A service error: its code, or for an unparsable body (a proxy's page), the status alone.
    const code = e.name && !/^(Unknown|UnknownError|Error|S3ServiceException)$/.test(e.name) ? `${e.name} ` : '';
    return `S3 ${code}(${status})`;
  }
  const code = e.code ?? '';
  // The NodeHttpHandler's own timeouts, told apart by their messages. (It names socket errors such
  // as ECONNRESET 'TimeoutError' too: those go by their code, below.)
  if (e.name === 'TimeoutError' && /node-http-handler/.test(message)) {
    const ms = Number(/(\d+) ?ms/.exec(message)?.[1]);
    const seconds = Number.isFinite(ms) ? formatSeconds(ms) : undefined;
    if (/establish a connection/.test(message)) return `S3 connection timed out${seconds ? ` after ${seconds}` : ''}`;
    if (/inactivity/.test(message)) return `S3 connection stalled${seconds ? ` (no bytes for ${seconds})` : ''}`;
    return `S3 request timed out${seconds ? ` after ${seconds}` : ''}`;
  }
  if (NETWORK_CAUSES[code]) return `${NETWORK_CAUSES[code]} (${code})`;
  if (e.name === 'AbortError') return 'S3 request cancelled';
  const firstLine = message.split('\n')[0];
  return `S3 request failed: ${code ? `${code} ` : ''}${firstLine}`;
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}
