import type { LocalS3 } from './local-s3.js';

export interface S3Request {
  method: string;
  /** Path-style: `/bucket/key?query`. */
  url: string;
  faulted: boolean;
}

/** The S3 operation and the key's last segment, e.g. `UploadPart uploads.csv` (the operation alone for a bucket). */
export function describeRequest(request: S3Request): string {
  const url = new URL(request.url, 'http://s3');
  const q = url.searchParams;
  const operation =
    q.get('x-id') ??
    (request.method === 'GET' && q.has('uploads')
      ? 'ListMultipartUploads'
      : request.method === 'GET' && q.get('list-type') === '2'
        ? 'ListObjectsV2'
        : request.method === 'POST' && q.has('delete')
          ? 'DeleteObjects'
          : request.method === 'POST' && q.has('uploads')
            ? 'CreateMultipartUpload'
            : request.method === 'POST' && q.has('uploadId')
              ? 'CompleteMultipartUpload'
              : request.method === 'DELETE' && q.has('uploadId')
                ? 'AbortMultipartUpload'
                : request.method);
  const [, , ...key] = url.pathname.split('/');
  return key.join('') === '' ? operation : `${operation} ${decodeURIComponent(key.at(-1)!)}`;
}

/**
 * Every request the local S3 server gets, per bucket, through its fault hook; and, when asked, the
 * k-th request to a bucket answered with an injected failure. The HEADs the server sends itself to
 * emulate `If-None-Match` are left out: our code never sends HEAD, so they are not its requests.
 */
export class S3RequestLog {
  private readonly byBucket = new Map<string, S3Request[]>();
  private readonly faults = new Map<string, number>();

  constructor(s3: LocalS3) {
    s3.failWhen((_n, method, url) => this.record(method, url));
  }

  requests(bucket: string): S3Request[] {
    return this.byBucket.get(bucket) ?? [];
  }

  /** Starts a fresh record of `bucket`'s requests, failing the `failAt`-th one (1-based) if given. */
  restart(bucket: string, failAt?: number): void {
    this.byBucket.set(bucket, []);
    if (failAt === undefined) this.faults.delete(bucket);
    else this.faults.set(bucket, failAt);
  }

  private record(method: string, url: string): boolean {
    if (method === 'HEAD') return false;
    const bucket = decodeURIComponent(url.split('/')[1]?.split('?')[0] ?? '');
    const list = this.byBucket.get(bucket) ?? [];
    this.byBucket.set(bucket, list);
    const faulted = this.faults.get(bucket) === list.length + 1;
    list.push({ method, url, faulted });
    return faulted;
  }
}
