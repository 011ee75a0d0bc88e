import type { LocalS3 } from './local-s3.js';

export interface S3Request {
  method: string;
  /** Path-style: `/bucket/key?query`. */
  url: string;
  faulted: boolean;
}

/** The S3 operation and the key's last segment, e.g. `UploadPart uploads.csv`. */
export function describeRequest(request: S3Request): string {
  const url = new URL(request.url, 'http://s3');
  const q = url.searchParams;
  const operation =
    q.get('x-id') ??
    (request.method === 'POST' && q.has('uploads')
      ? 'CreateMultipartUpload'
      : request.method === 'POST' && q.has('uploadId')
        ? 'CompleteMultipartUpload'
        : request.method === 'DELETE' && q.has('uploadId')
          ? 'AbortMultipartUpload'
          : request.method);
  return `${operation} ${decodeURIComponent(url.pathname.split('/').at(-1) ?? '')}`;
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

  /**
   * Multipart uploads created in `bucket` and neither completed nor aborted. fauxqs has no
   * ListMultipartUploads (GET ?uploads is served as a plain listing), so this counts the requests,
   * taking every request that was not faulted as answered successfully.
   */
  openMultipartUploads(bucket: string): number {
    let created = 0;
    const closed = new Set<string>();
    for (const request of this.requests(bucket)) {
      if (request.faulted) continue;
      const query = new URL(request.url, 'http://s3').searchParams;
      if (request.method === 'POST' && query.has('uploads')) created++;
      const uploadId = query.get('uploadId');
      if (uploadId && (request.method === 'DELETE' || (request.method === 'POST' && !query.has('partNumber')))) closed.add(uploadId);
    }
    return created - closed.size;
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
