import type { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type ListMultipartUploadsCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { S3_TIMEOUTS, type S3Timeouts } from './s3-client.js';
import { s3Failure } from './s3-failure.js';
import {
  MIN_PART_BYTES,
  type ComposableStorage,
  type ListOptions,
  type ListPage,
  type PartSource,
  type StagedWriter,
} from './storage.js';

/**
 * Multipart part size and parts in flight, per storage (all its writers together). A writer holds
 * one part buffer while filling it, so a dataset's 7 files hold at most (7 + PARTS_IN_FLIGHT) ×
 * PART_BYTES (45 MiB) of parts. Chosen by measuring the CLI publishing to a loopback S3 server in
 * another process (GNU time's peak RSS; the local folder: 209 MB at 1,000,000 users):
 * - lib-storage's 8 MiB parts × 2 in flight behind an 8 MiB stream buffer per file: 390 MB at
 *   200,000 users, ~500 MB at 1,000,000; tuned to 5 MiB × 1 behind 1 MiB: 285 and 372 MB (its
 *   copies: stream buffer, chunk list, concatenated part, and chunks kept from the worker threads);
 * - these buffers, 5 MiB (S3's minimum): 4 in flight 229 / 285 MB, 2 in flight 226 / 279 MB.
 * Two in flight keep up with the generator (~40 MB/s) at S3's per-connection rates.
 */
export const PART_BYTES = MIN_PART_BYTES;
const PARTS_IN_FLIGHT = 2;

/** ListMultipartUploads pages read by one `removeStale` (1,000 uploads a page). */
const STALE_UPLOAD_PAGES = 10;

/**
 * Datasets in an S3 bucket. CSVs stream up as multipart uploads (an object appears only when its
 * upload completes); the manifest is written with `If-None-Match: *`, so only one run publishes it.
 * Every call is bounded by the client's timeouts (`createS3Client`), and a failed one is thrown as
 * an `OperationError` naming the call, the object and the cause (`s3Failure`).
 */
export class S3Storage implements ComposableStorage {
  private readonly abortMs: number;
  /** Parts in flight across this storage's writers: a writer waits for a free slot. */
  readonly slots = new Slots(PARTS_IN_FLIGHT);
  private readonly spareParts: Buffer[] = [];

  constructor(
    readonly client: S3Client,
    readonly bucket: string,
    options: { timeouts?: S3Timeouts } = {},
  ) {
    this.abortMs = (options.timeouts ?? S3_TIMEOUTS).abortMs;
  }

  describe(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async read(key: string): Promise<Buffer | undefined> {
    const body = await this.readStream(key);
    if (!body) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(chunk);
    return Buffer.concat(chunks);
  }

  async readStream(key: string): Promise<AsyncIterable<Buffer> | undefined> {
    let body: Readable;
    try {
      body = (await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }))).Body as Readable;
    } catch (error) {
      if (isMissing(error) || (isAccessDenied(error) && !(await this.listed(key)))) return undefined;
      throw this.failure(error, 'GetObject', key);
    }
    return this.described(body, key);
  }

  /** The body's chunks; a connection that fails mid-body is reported like a failed call. */
  private async *described(body: Readable, key: string): AsyncGenerator<Buffer> {
    try {
      yield* body;
    } catch (error) {
      throw this.failure(error, 'GetObject', key);
    }
  }

  /**
   * S3 answers a GET of a missing key with 403, not 404, to a caller whose s3:ListBucket is
   * limited to a prefix (the deployed function's case); a listing of the key tells the two apart.
   */
  private async listed(key: string): Promise<boolean> {
    return (await this.list(key, { limit: 1 })).keys[0] === key;
  }

  createWriter(key: string): StagedWriter {
    return new S3StagedWriter(this, key);
  }

  async putIfAbsent(key: string, body: string): Promise<boolean> {
    try {
      await this.client.send(
        new PutObjectCommand({
          Bucket: this.bucket,
          Key: key,
          Body: body,
          ContentType: 'application/json',
          IfNoneMatch: '*',
        }),
      );
      return true;
    } catch (error) {
      // 412: the key exists; 409: a concurrent conditional write to it is in progress.
      const status = error instanceof S3ServiceException ? error.$metadata.httpStatusCode : undefined;
      if (status === 412 || status === 409) return false;
      throw this.failure(error, 'PutObject', key);
    }
  }

  /**
   * A multipart upload of `key` whose parts are server-side copies of the sources (UploadPartCopy,
   * ranges included), so the bytes never pass through this process, except where a source (or
   * the rest of one) is shorter than `minPartBytes` and not at the very end: those bytes are read
   * and merged into an uploaded part of at least `minPartBytes`. Memory stays below ~3 ×
   * `minPartBytes`. A failure aborts the upload: nothing appears under `key`.
   */
  async compose(key: string, parts: PartSource[], options: { minPartBytes?: number } = {}): Promise<void> {
    const min = options.minPartBytes ?? MIN_PART_BYTES;
    const sources = parts.filter((p) => p.bytes > 0);
    const uploadId = await this.createUpload(key);
    const completed: CompletedPart[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      const PartNumber = completed.length + 1;
      const ETag = await this.uploadPart(key, uploadId, PartNumber, Buffer.concat(pending, pendingBytes));
      completed.push({ PartNumber, ETag });
      pending = [];
      pendingBytes = 0;
    };
    const readRange = async (source: string, from: number, to: number): Promise<void> => {
      const bytes = await this.call('GetObject', source, undefined, async () => {
        const out = await this.client.send(
          new GetObjectCommand({ Bucket: this.bucket, Key: source, Range: `bytes=${from}-${to - 1}` }),
        );
        return Buffer.from(await answered(out.Body, 'a body').transformToByteArray());
      });
      if (bytes.length !== to - from)
        throw new Error(`${source}: read ${bytes.length} bytes of range ${from}-${to - 1}`);
      pending.push(bytes);
      pendingBytes += bytes.length;
    };
    const copy = async (source: string, from: number, to: number, whole: boolean): Promise<void> => {
      const PartNumber = completed.length + 1;
      const out = await this.call('UploadPartCopy', key, PartNumber, () =>
        this.client.send(
          new UploadPartCopyCommand({
            Bucket: this.bucket,
            Key: key,
            UploadId: uploadId,
            PartNumber,
            CopySource: `${this.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`,
            CopySourceRange: whole ? undefined : `bytes=${from}-${to - 1}`,
          }),
        ),
      );
      completed.push({ PartNumber, ETag: out.CopyPartResult?.ETag });
    };
    try {
      for (let i = 0; i < sources.length; i++) {
        const { key: source, bytes } = sources[i];
        const last = i === sources.length - 1;
        let offset = 0;
        if (pendingBytes > 0) {
          const need = min - pendingBytes;
          if (bytes - need >= min || (last && bytes > need)) {
            // Top the pending bytes up to a full part from this source; copy the rest.
            await readRange(source, 0, need);
            await flush();
            offset = need;
          } else {
            await readRange(source, 0, bytes); // < 2 × min
            if (pendingBytes >= min) await flush();
            continue;
          }
        }
        if (bytes - offset >= min || last) await copy(source, offset, bytes, offset === 0);
        else await readRange(source, offset, bytes);
      }
      if (pendingBytes > 0 || completed.length === 0) await flush();
      await this.completeUpload(key, uploadId, completed);
    } catch (error) {
      await this.abortUpload(key, uploadId);
      throw error;
    }
  }

  async remove(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const batch = keys.slice(i, i + 1000);
      const out = await this.call('DeleteObjects', batch[0], undefined, () =>
        this.client.send(
          new DeleteObjectsCommand({
            Bucket: this.bucket,
            Delete: { Objects: batch.map((Key) => ({ Key })), Quiet: true },
          }),
        ),
      );
      if (out.Errors?.length)
        throw new Error(
          `could not delete ${out.Errors.length} objects, e.g. ${out.Errors[0].Key}: ${out.Errors[0].Message}`,
        );
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<ListPage> {
    // A malformed answer fails inside `call` too, so its error names the operation and the prefix.
    return this.call('ListObjectsV2', prefix, undefined, async () => {
      const out = await this.client.send(
        new ListObjectsV2Command({
          Bucket: this.bucket,
          Prefix: prefix,
          Delimiter: options.delimiter,
          ContinuationToken: options.token,
          StartAfter: options.startAfter,
          MaxKeys: options.limit,
        }),
      );
      return {
        keys: (out.Contents ?? []).map((o) => answered(o.Key, 'a key')),
        prefixes: (out.CommonPrefixes ?? []).map((p) => answered(p.Prefix, 'a prefix')),
        nextToken: out.IsTruncated ? out.NextContinuationToken : undefined,
      };
    });
  }

  /**
   * Aborts the incomplete multipart uploads under the dataset folder `prefix` that were started
   * more than `olderThanSeconds` ago: what killed runs left (a failed run aborts its own); a live
   * run's uploads are younger. Reads at most STALE_UPLOAD_PAGES pages; the bucket's lifecycle rule
   * removes whatever is left, and everything when the caller may not list multipart uploads.
   */
  async removeStale(prefix: string, olderThanSeconds: number): Promise<number> {
    const folder = `${prefix.replace(/\/+$/, '')}/`;
    const before = Date.now() - olderThanSeconds * 1000;
    let removed = 0;
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (let page = 0; page < STALE_UPLOAD_PAGES; page++) {
      let out: ListMultipartUploadsCommandOutput;
      try {
        out = await this.client.send(
          new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: folder, KeyMarker, UploadIdMarker }),
        );
      } catch (error) {
        // Without s3:ListBucketMultipartUploads the bucket's lifecycle rule is the only cleanup.
        if (isAccessDenied(error)) return removed;
        throw this.failure(error, 'ListMultipartUploads', folder);
      }
      for (const upload of out.Uploads ?? []) {
        if (!upload.Key || !upload.UploadId || !upload.Initiated || upload.Initiated.getTime() > before) continue;
        await this.abortUpload(upload.Key, upload.UploadId, { quiet: false });
        removed++;
      }
      if (!out.IsTruncated) break;
      KeyMarker = out.NextKeyMarker;
      UploadIdMarker = out.NextUploadIdMarker;
    }
    return removed;
  }

  // ---- multipart calls, shared by compose and the staged writer ----

  async createUpload(key: string): Promise<string> {
    return this.call('CreateMultipartUpload', key, undefined, async () => {
      const out = await this.client.send(
        new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentTypeOf(key) }),
      );
      return answered(out.UploadId, 'an upload id');
    });
  }

  /** Uploads one part and returns its ETag; `signal` cancels it (a sibling part failed). */
  async uploadPart(
    key: string,
    uploadId: string,
    part: number,
    body: Buffer,
    signal?: AbortSignal,
  ): Promise<string | undefined> {
    const out = await this.call('UploadPart', key, part, () =>
      this.client.send(
        new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId, PartNumber: part, Body: body }),
        { abortSignal: signal },
      ),
    );
    return out.ETag;
  }

  async completeUpload(key: string, uploadId: string, parts: CompletedPart[]): Promise<void> {
    const Parts = [...parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    await this.call('CompleteMultipartUpload', key, undefined, () =>
      this.client.send(
        new CompleteMultipartUploadCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId: uploadId,
          MultipartUpload: { Parts },
        }),
      ),
    );
  }

  /**
   * AbortMultipartUpload, all its tries within `abortMs`. On a failure path (`quiet`, the default)
   * its own failure is dropped: the run's error is the one to report, and the lifecycle rule or
   * the next run's `removeStale` removes what is left.
   */
  async abortUpload(key: string, uploadId: string, { quiet = true } = {}): Promise<void> {
    try {
      await this.call('AbortMultipartUpload', key, undefined, () =>
        this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId: uploadId }), {
          abortSignal: AbortSignal.timeout(this.abortMs),
        }),
      );
    } catch (error) {
      // Already gone (another run aborted or completed it): nothing to remove.
      if (quiet || isMissing((error as Error).cause)) return;
      throw error;
    }
  }

  async putObject(key: string, body: Buffer): Promise<void> {
    await this.call('PutObject', key, undefined, () =>
      this.client.send(
        new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentTypeOf(key) }),
      ),
    );
  }

  /** A part buffer of PART_BYTES, reused once its part is uploaded. */
  takePartBuffer(): Buffer {
    return this.spareParts.pop() ?? Buffer.allocUnsafe(PART_BYTES);
  }

  givePartBuffer(buffer: Buffer): void {
    if (this.spareParts.length < PARTS_IN_FLIGHT) this.spareParts.push(buffer);
  }

  private async call<T>(operation: string, key: string, part: number | undefined, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      throw this.failure(error, operation, key, part);
    }
  }

  private failure(error: unknown, operation: string, key: string, part?: number): Error {
    return s3Failure(error, { operation, part, url: this.describe(key) });
  }
}

/** A counting semaphore. */
class Slots {
  private readonly waiting: Array<() => void> = [];

  constructor(private free: number) {}

  async take(): Promise<void> {
    if (this.free > 0) {
      this.free--;
      return;
    }
    await new Promise<void>((resolve) => this.waiting.push(resolve));
  }

  give(): void {
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}

/**
 * A file streamed up in PART_BYTES parts: chunks are copied into the part being filled (so a chunk
 * is let go of as soon as `write` returns), a full part goes up once the storage has a slot free,
 * and `commit` completes the multipart upload, or writes a file smaller than a part in one
 * PutObject. The first failed part cancels the others and aborts the upload at once.
 */
class S3StagedWriter implements StagedWriter {
  private part: Buffer | undefined;
  private filled = 0;
  private partCount = 0;
  private uploadId: Promise<string> | undefined;
  private readonly completed: CompletedPart[] = [];
  private readonly inFlight = new Set<Promise<void>>();
  private readonly cancel = new AbortController();
  private writing: Promise<void> = Promise.resolve();
  private failed: { error: unknown } | undefined;
  private ending: Promise<void> | undefined;
  private committed = false;

  constructor(
    private readonly storage: S3Storage,
    private readonly key: string,
  ) {}

  write(chunk: Uint8Array): Promise<void> {
    // In order even if a caller does not wait (append fails at once after a failure).
    this.writing = this.writing.catch(() => undefined).then(() => this.append(chunk));
    return this.writing;
  }

  released(): Promise<void> {
    return this.writing.catch(() => undefined);
  }

  async commit(): Promise<void> {
    await this.writing;
    this.throwIfFailed();
    if (this.uploadId === undefined) {
      // Smaller than a part: one PutObject.
      const body = this.part;
      this.part = undefined;
      await this.storage.putObject(this.key, body ? body.subarray(0, this.filled) : Buffer.alloc(0));
      if (body) this.storage.givePartBuffer(body);
      this.committed = true;
      return;
    }
    if (this.part && this.filled > 0) await this.sendPart(this.part);
    await Promise.all(this.inFlight);
    this.throwIfFailed();
    try {
      await this.storage.completeUpload(this.key, await this.uploadId, this.completed);
    } catch (error) {
      await this.fail(error);
      throw error;
    }
    this.committed = true;
  }

  /** Nothing to discard once committed (the caller aborts every writer when any fails). */
  async abort(): Promise<void> {
    if (!this.committed) await this.fail(new Error('upload aborted'));
  }

  private async append(chunk: Uint8Array): Promise<void> {
    this.throwIfFailed();
    for (let at = 0; at < chunk.length;) {
      this.part ??= this.storage.takePartBuffer();
      const n = Math.min(chunk.length - at, PART_BYTES - this.filled);
      this.part.set(chunk.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === PART_BYTES) await this.sendPart(this.part);
    }
  }

  /** Starts the upload of the filled part once a slot is free (does not wait for it to finish). */
  private async sendPart(body: Buffer): Promise<void> {
    const bytes = this.filled;
    this.part = undefined;
    this.filled = 0;
    const partNumber = ++this.partCount;
    await this.storage.slots.take();
    let uploadId: string;
    try {
      this.throwIfFailed();
      this.uploadId ??= this.storage.createUpload(this.key);
      uploadId = await this.uploadId;
    } catch (error) {
      this.storage.slots.give();
      this.storage.givePartBuffer(body);
      throw await this.fail(error);
    }
    const sending: Promise<void> = this.storage
      .uploadPart(this.key, uploadId, partNumber, body.subarray(0, bytes), this.cancel.signal)
      .then(
        (ETag) => void this.completed.push({ PartNumber: partNumber, ETag }),
        (error: unknown) => void this.fail(error),
      )
      .finally(() => {
        this.inFlight.delete(sending);
        this.storage.slots.give();
        this.storage.givePartBuffer(body);
      });
    this.inFlight.add(sending);
  }

  /**
   * Records the first failure, cancels the parts in flight and aborts the multipart upload, once;
   * resolves when that is done (every call waits for the same).
   */
  /** Records the first failure and ends the upload; resolves to that first failure's error. */
  private fail(error: unknown): Promise<unknown> {
    const failed = (this.failed ??= { error });
    this.ending ??= (async () => {
      this.cancel.abort();
      await Promise.allSettled(this.inFlight);
      const uploadId = await this.uploadId?.catch(() => undefined);
      if (uploadId) await this.storage.abortUpload(this.key, uploadId);
      if (this.part) this.storage.givePartBuffer(this.part);
      this.part = undefined;
    })();
    return this.ending.then(() => failed.error);
  }

  private throwIfFailed(): void {
    if (this.failed) throw this.failed.error;
  }
}

/** A field every successful answer carries: its absence is a broken server, said as such. */
function answered<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`S3 answered without ${what}`);
  return value;
}

// A missing bucket is an error, not an absent object: otherwise a run against a mistyped bucket
// would find "no manifest" and generate everything before its first write failed.
function isMissing(error: unknown): boolean {
  if (!(error instanceof S3ServiceException) || error.name === 'NoSuchBucket') return false;
  return error.name === 'NoSuchKey' || error.$metadata.httpStatusCode === 404;
}

function isAccessDenied(error: unknown): boolean {
  return error instanceof S3ServiceException && error.$metadata.httpStatusCode === 403;
}

function contentTypeOf(key: string): string {
  if (key.endsWith('.html')) return 'text/html; charset=utf-8';
  return key.endsWith('.json') ? 'application/json' : key.endsWith('.csv') ? 'text/csv' : 'application/octet-stream';
}
