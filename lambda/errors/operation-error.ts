/**
 * A failure explained in one line: the operation, the object it was on and the cause, e.g.
 * `S3 SlowDown (503) on UploadPart 12 of s3://b/…/uploads.csv after 3 attempts` or
 * `disk full writing /data/…/uploads.csv`. Entry points print the message alone (the CLI adds the
 * stack only when asked); the original error stays reachable as `cause`.
 */
export class OperationError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OperationError';
  }
}
