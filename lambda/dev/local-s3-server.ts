import { CreateBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { buildApp } from 'fauxqs';
import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * A real S3-compatible HTTP server (fauxqs) on 127.0.0.1, in this process, with two additions:
 * - `If-None-Match: *` on PutObject and CompleteMultipartUpload is enforced (answered 412 when the
 *   key exists), as S3 does since 2024-08-20 and fauxqs does not; conditional writes to one key are
 *   served one at a time, so two racing writers cannot both pass the check;
 * - UploadPartCopy (`x-amz-copy-source` on an UploadPart, with `x-amz-copy-source-range`), which
 *   fauxqs serves as an empty UploadPart: emulated by reading the source range and uploading it as
 *   the part, through in-process requests that the fault hook and the request count do not see
 *   (fauxqs does enforce S3's 5 MiB minimum for every part but the last, on completion);
 * - ListMultipartUploads (`GET /bucket?uploads`), which fauxqs serves as a plain listing: emulated
 *   from the CreateMultipartUpload answers it gave and the Complete/Abort requests it served
 *   (initiation times from the `now` option's clock), and AbortMultipartUpload of an unknown
 *   upload answered 404 NoSuchUpload, as S3 does;
 * - a fault hook: `failWhen(fn)` answers every request `fn` picks with an error the SDK does not
 *   retry (400 InjectedFault unless told otherwise), so tests can break a run at its k-th request.
 */
export interface LocalS3 {
  endpoint: string;
  /** Number of S3 requests served (faulted ones included). */
  readonly requests: number;
  failWhen(pick: ((n: number, method: string, url: string) => boolean) | undefined, answer?: FaultAnswer): void;
  /** The multipart uploads created in `bucket` (under `prefix`) and neither completed nor aborted. */
  incompleteUploads(bucket: string, prefix?: string): IncompleteUpload[];
  createBucket(name: string): Promise<void>;
  /** Sets the SDK's standard environment so production code reaches this server. */
  useAsSdkEndpoint(): void;
  stop(): Promise<void>;
}

/** The error a picked request gets, e.g. `{ status: 403, code: 'AccessDenied' }`. */
export interface FaultAnswer {
  status: number;
  code: string;
}

export interface IncompleteUpload {
  key: string;
  uploadId: string;
  initiated: Date;
}

export interface LocalS3Options {
  /** The clock that dates multipart uploads (milliseconds since the epoch; default `Date.now`). */
  now?: () => number;
}

const INJECTED_FAULT: FaultAnswer = { status: 400, code: 'InjectedFault' };

export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const now = options.now ?? Date.now;
  const app = buildApp({ logger: false });
  // Per bucket, its incomplete multipart uploads by upload id.
  const uploads = new Map<string, Map<string, IncompleteUpload>>();
  const uploadsOf = (bucket: string): Map<string, IncompleteUpload> => {
    const known = uploads.get(bucket);
    if (known) return known;
    const created = new Map<string, IncompleteUpload>();
    uploads.set(bucket, created);
    return created;
  };
  let requests = 0;
  let pick: ((n: number, method: string, url: string) => boolean) | undefined;
  let answer = INJECTED_FAULT;
  // Per key, the tail of the queue of conditional writes; each holds its turn until answered.
  const turns = new Map<string, Promise<void>>();
  const releases = new WeakMap<FastifyRequest, () => void>();
  const release = (req: FastifyRequest) => {
    releases.get(req)?.();
    releases.delete(req);
  };

  const INTERNAL = 'x-local-s3-internal';
  app.addHook('onRequest', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.headers[INTERNAL]) return;
    const n = ++requests;
    if (pick?.(n, req.method, req.url)) {
      await reply
        .code(answer.status)
        .header('content-type', 'application/xml')
        .send(`<?xml version="1.0"?><Error><Code>${answer.code}</Code><Message>injected fault #${n}</Message></Error>`);
    }
  });
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    if (req.headers[INTERNAL]) return;
    const url = new URL(req.url, 'http://local');
    const [, bucket = '', ...key] = url.pathname.split('/').map(decodeURIComponent);
    if (req.method === 'GET' && url.searchParams.has('uploads') && key.join('') === '') {
      await reply
        .code(200)
        .header('content-type', 'application/xml')
        .send(listUploadsXml(bucket, url.searchParams, uploadsOf(bucket)));
      return;
    }
    const uploadId = url.searchParams.get('uploadId');
    if (req.method === 'DELETE' && uploadId && !uploadsOf(bucket).has(uploadId)) {
      await reply
        .code(404)
        .header('content-type', 'application/xml')
        .send(
          '<?xml version="1.0"?><Error><Code>NoSuchUpload</Code><Message>The specified upload does not exist</Message></Error>',
        );
    }
  });
  app.addHook('preHandler', async (req: FastifyRequest, reply: FastifyReply) => {
    const copySource = req.headers['x-amz-copy-source'];
    if (req.method === 'PUT' && typeof copySource === 'string' && req.url.includes('uploadId=')) {
      const range = req.headers['x-amz-copy-source-range'];
      const source = await app.inject({
        method: 'GET',
        url: `/${decodeURIComponent(copySource).replace(/^\//, '').split('/').map(encodeURIComponent).join('/')}`,
        headers: { [INTERNAL]: '1', ...(typeof range === 'string' ? { range } : {}) },
      });
      if (source.statusCode >= 300) {
        await reply.code(source.statusCode).header('content-type', 'application/xml').send(source.rawPayload);
        return;
      }
      const part = await app.inject({
        method: 'PUT',
        url: req.url,
        headers: { [INTERNAL]: '1', 'content-type': 'application/octet-stream' },
        payload: source.rawPayload,
      });
      if (part.statusCode >= 300) {
        await reply.code(part.statusCode).header('content-type', 'application/xml').send(part.rawPayload);
        return;
      }
      const etag = String(part.headers.etag);
      await reply
        .code(200)
        .header('content-type', 'application/xml')
        .send(
          `<?xml version="1.0" encoding="UTF-8"?><CopyPartResult><ETag>${etag.replaceAll('"', '&quot;')}</ETag><LastModified>${new Date().toISOString()}</LastModified></CopyPartResult>`,
        );
      return;
    }
    if (req.headers['if-none-match'] !== '*') return;
    const url = new URL(req.url, 'http://local');
    const completing = req.method === 'POST' && url.searchParams.has('uploadId');
    const plainPut = req.method === 'PUT' && !url.searchParams.has('partNumber') && !url.searchParams.has('uploadId');
    if (!completing && !plainPut) return;
    const [, bucket, ...key] = url.pathname.split('/');
    const objectKey = decodeURIComponent(key.join('/'));
    const turnKey = `${bucket}/${objectKey}`;
    const previous = turns.get(turnKey) ?? Promise.resolve();
    const mine = new Promise<void>((resolve) => releases.set(req, resolve));
    const tail = previous.then(() => mine);
    turns.set(turnKey, tail);
    void tail.then(() => {
      if (turns.get(turnKey) === tail) turns.delete(turnKey);
    });
    await previous;
    try {
      await client.send(new HeadObjectCommand({ Bucket: bucket, Key: objectKey }));
    } catch {
      return; // absent: let the write through (the turn ends when it is answered)
    }
    await reply
      .code(412)
      .header('content-type', 'application/xml')
      .send(
        '<?xml version="1.0"?><Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message></Error>',
      );
  });

  // Multipart uploads as they open (the UploadId fauxqs answers) and close.
  app.addHook('onSend', async (req: FastifyRequest, reply: FastifyReply, payload: unknown) => {
    if (req.headers[INTERNAL] || reply.statusCode >= 300) return payload;
    const url = new URL(req.url, 'http://local');
    const [, bucket = '', ...key] = url.pathname.split('/').map(decodeURIComponent);
    const uploadId = url.searchParams.get('uploadId');
    if (req.method === 'POST' && url.searchParams.has('uploads') && typeof payload === 'string') {
      const id = /<UploadId>([^<]+)<\/UploadId>/.exec(payload)?.[1];
      if (id) uploadsOf(bucket).set(id, { key: key.join('/'), uploadId: id, initiated: new Date(now()) });
    } else if (
      uploadId &&
      (req.method === 'DELETE' || (req.method === 'POST' && !url.searchParams.has('partNumber')))
    ) {
      uploadsOf(bucket).delete(uploadId);
    }
    return payload;
  });

  app.addHook('onResponse', (req: FastifyRequest, _reply, done) => {
    release(req);
    done();
  });
  app.addHook('onRequestAbort', (req: FastifyRequest, done) => {
    release(req);
    done();
  });

  const endpoint = await app.listen({ host: '127.0.0.1', port: 0 });
  // The hooks above use it only for requests, which come after `listen`.
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
  return {
    endpoint,
    get requests() {
      return requests;
    },
    failWhen(fn, faultAnswer = INJECTED_FAULT) {
      pick = fn;
      answer = faultAnswer;
    },
    incompleteUploads(bucket, prefix = '') {
      return [...uploadsOf(bucket).values()].filter((u) => u.key.startsWith(prefix));
    },
    async createBucket(name) {
      await client.send(new CreateBucketCommand({ Bucket: name }));
    },
    useAsSdkEndpoint() {
      process.env.AWS_ENDPOINT_URL_S3 = endpoint;
      process.env.AWS_REGION = 'us-east-1';
      process.env.AWS_ACCESS_KEY_ID = 'test';
      process.env.AWS_SECRET_ACCESS_KEY = 'test';
      process.env.S3_FORCE_PATH_STYLE = 'true';
    },
    async stop() {
      client.destroy();
      await app.close();
    },
  };
}

/** S3's ListMultipartUploadsResult: by key, then initiation; `prefix`, the markers and `max-uploads` honoured. */
function listUploadsXml(bucket: string, query: URLSearchParams, open: Map<string, IncompleteUpload>): string {
  const prefix = query.get('prefix') ?? '';
  const keyMarker = query.get('key-marker') ?? '';
  const uploadIdMarker = query.get('upload-id-marker') ?? '';
  const max = Math.min(1000, Number(query.get('max-uploads') ?? 1000));
  const sorted = [...open.values()]
    .filter((u) => u.key.startsWith(prefix))
    .sort((a, b) =>
      a.key < b.key
        ? -1
        : a.key > b.key
          ? 1
          : a.initiated.getTime() - b.initiated.getTime() || (a.uploadId < b.uploadId ? -1 : 1),
    );
  let from = 0;
  if (keyMarker) {
    const marker = uploadIdMarker ? sorted.findIndex((u) => u.key === keyMarker && u.uploadId === uploadIdMarker) : -1;
    from = marker >= 0 ? marker + 1 : sorted.findIndex((u) => u.key > keyMarker);
    if (from < 0) from = sorted.length;
  }
  const page = sorted.slice(from, from + max);
  const truncated = from + max < sorted.length;
  const last = page.at(-1);
  const xml = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    '<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">',
    `<Bucket>${xml(bucket)}</Bucket><KeyMarker>${xml(keyMarker)}</KeyMarker><UploadIdMarker>${xml(uploadIdMarker)}</UploadIdMarker>`,
    truncated && last
      ? `<NextKeyMarker>${xml(last.key)}</NextKeyMarker><NextUploadIdMarker>${xml(last.uploadId)}</NextUploadIdMarker>`
      : '',
    `<Prefix>${xml(prefix)}</Prefix><MaxUploads>${max}</MaxUploads><IsTruncated>${truncated}</IsTruncated>`,
    ...page.map(
      (u) =>
        `<Upload><Key>${xml(u.key)}</Key><UploadId>${xml(u.uploadId)}</UploadId><Initiated>${u.initiated.toISOString()}</Initiated><StorageClass>STANDARD</StorageClass></Upload>`,
    ),
    '</ListMultipartUploadsResult>',
  ].join('');
}
