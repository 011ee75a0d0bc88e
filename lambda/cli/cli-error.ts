import { inspect } from 'node:util';
import { OperationError } from '../errors/operation-error.js';
import { DatasetFetchError } from '../publish/fetch-dataset.js';
import { FailedChecksError } from '../publish/publish-dataset.js';

/** An error the CLI reports on one screen and turns into an exit code (2: bad input, 1: failed check). */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 2,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** What the CLI prints for a failure, and the exit code it ends with. */
export interface FailureReport {
  text: string;
  exitCode: 1 | 2;
}

/**
 * A failure as the CLI prints it: one line `error: …` (the operation, its object and the cause);
 * with `debug`, the stack and its `cause` chain after it. `running` names the command and its
 * target (`generate s3://b/x`), the object of errors that name none themselves.
 */
export function failureReport(error: unknown, running: string, debug: boolean): FailureReport {
  if (error instanceof CliError) return { text: `error: ${error.message}`, exitCode: error.exitCode };
  const known = knownFailure(error);
  const line = known ?? `${running}: ${causeChain(error)}${debug ? '' : ' (run with --debug for the stack)'}`;
  return { text: debug ? `error: ${line}\n${inspect(error, { depth: 8 })}` : `error: ${line}`, exitCode: 1 };
}

/**
 * The one-line account of an expected failure: an operation that failed (storage calls, S3's
 * included, are all `OperationError`s; a refused download) or a strict run's failed checks.
 * Undefined for anything else.
 */
function knownFailure(error: unknown): string | undefined {
  if (error instanceof OperationError || error instanceof DatasetFetchError) return error.message;
  if (error instanceof FailedChecksError)
    return [error.message, ...error.failed.flatMap((c) => (c.note ? [`${c.name}: ${c.note}`] : []))].join('; ');
  return undefined;
}

/**
 * An unexpected error and its causes on one line: `AbortError: The operation was aborted` alone
 * hides why, so each cause is appended (`…: read ECONNRESET`), repeated messages once.
 */
function causeChain(error: unknown): string {
  const parts: string[] = [];
  const seen = new Set<unknown>();
  for (
    let e: unknown = error;
    e !== undefined && !seen.has(e) && parts.length < 8;
    e = e instanceof Error ? e.cause : undefined
  ) {
    seen.add(e);
    const text = describeOne(e);
    if (!parts.some((p) => p.includes(text))) parts.push(text);
  }
  return parts.join(': ').replace(/\s*\n\s*/g, ' ');
}

function describeOne(value: unknown): string {
  if (!(value instanceof Error))
    return typeof value === 'string' ? value : inspect(value, { breakLength: Infinity, depth: 2 });
  // Node's failed connection to every address of a host is an AggregateError without a message.
  const message = value.message || (value instanceof AggregateError ? value.errors.map(describeOne).join('; ') : '');
  // `socket hang up` says less than its code, ECONNRESET.
  const code = (value as NodeJS.ErrnoException).code;
  const text =
    typeof code === 'string' && !message.includes(code) ? [message, `(${code})`].filter(Boolean).join(' ') : message;
  if (!text) return value.name;
  return value.name === 'Error' ? text : `${value.name}: ${text}`;
}
