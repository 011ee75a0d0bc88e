import { DatasetFetchError } from '../publish/fetch-dataset.js';

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

/**
 * The one-line account of an expected failure (exit 1): a refused download, or an error answered
 * by S3 (a missing bucket, denied access, …). Undefined for anything else, which gets a stack trace.
 */
export function oneLineFailure(error: unknown): string | undefined {
  if (error instanceof DatasetFetchError) return error.message;
  if (isServiceError(error)) return `S3 answered ${error.name}: ${error.message}`;
  return undefined;
}

// Every AWS SDK service exception carries `$metadata` and `$fault`; checked by shape so that the
// SDK is loaded only by runs that use S3.
function isServiceError(error: unknown): error is Error {
  return error instanceof Error && '$metadata' in error && '$fault' in error;
}
