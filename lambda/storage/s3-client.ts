import { S3Client } from '@aws-sdk/client-s3';

/**
 * How long an S3 call may take, and how often it is tried: the one home of these numbers, used
 * by the CLI and the Lambda alike (both build their client with `createS3Client`).
 */
export interface S3Timeouts {
  /** Establishing the TCP (and TLS) connection. */
  connectMs: number;
  /** From sending a request to its response's headers, body upload included (a 5 MiB part). */
  requestMs: number;
  /** Silence on an open socket, either way: a stalled upload, or a download that stopped coming. */
  idleMs: number;
  /** Tries of one call, the first included (the SDK's standard retry strategy). */
  maxAttempts: number;
  /** AbortMultipartUpload on a failure path, all its tries together. */
  abortMs: number;
}

/**
 * Production values. A stall (a connection that stops moving bytes) ends an attempt after `idleMs`;
 * a trickle after `requestMs`, which still lets a 5 MiB part go up at ~90 KB/s (slower links fail).
 * Worst case from a stall to the run's error, in the Lambda (15-minute timeout):
 *   the first call to fail: 3 attempts × 60 s + the standard strategy's backoff
 *     (≤ 0.1 + 0.2 s, ≤ 1 + 2 s when throttled)                                            ≤ 183 s
 *   one more stalled call the run may be waiting on then (another file's CreateMultipartUpload,
 *     or a free part slot)                                                               ≤ 183 s
 *   the aborts of the open multipart uploads, all at once, each within abortMs            ≤  60 s
 * about 7 minutes, under half the 15, after whatever the run had done before the stall (runs sized
 * for the Lambda by the sync / fan-out rule). A stall rather than a trickle ends each attempt after
 * 30 s: about 3.5 minutes in all. The standard strategy also stops retrying early once the
 * client's retry quota (500 tokens, 5 a retry, 10 a timeout) runs out.
 */
export const S3_TIMEOUTS: S3Timeouts = {
  connectMs: 5_000,
  requestMs: 60_000,
  idleMs: 30_000,
  maxAttempts: 3,
  abortMs: 60_000,
};

/**
 * An S3 client from the SDK's standard configuration: region, credentials and endpoint
 * (`AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`) come from the environment or AWS config files.
 * `S3_FORCE_PATH_STYLE=true` selects path-style addressing, which S3-compatible servers
 * (MinIO, local emulators) usually need. Every call is bounded by `timeouts` (tests pass short ones).
 */
export function createS3Client(timeouts: S3Timeouts = S3_TIMEOUTS): S3Client {
  return new S3Client({
    forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true',
    retryMode: 'standard',
    maxAttempts: timeouts.maxAttempts,
    // The NodeHttpHandler's options (the SDK builds the handler from them).
    requestHandler: {
      connectionTimeout: timeouts.connectMs,
      requestTimeout: timeouts.requestMs,
      // Without it, a request past requestTimeout is only logged as a warning.
      throwOnRequestTimeout: true,
      socketTimeout: timeouts.idleMs,
    },
  });
}
