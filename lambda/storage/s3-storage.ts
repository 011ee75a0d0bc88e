import { PassThrough, type Readable } from 'node:stream';
import { once } from 'node:events';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3ServiceException,
  UploadPartCommand,
  UploadPartCopyCommand,
  type CompletedPart,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { MIN_PART_BYTES, type ComposableStorage, type ListPage, type PartSource, type StagedWriter } from './storage.js';

/** Multipart part size and parts in flight: memory per file stays near PART_SIZE * (QUEUE + 1). */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;

/**
 * Datasets in an S3 bucket. CSVs stream up as multipart uploads (an object appears only when its
 * upload completes); the manifest is written with `If-None-Match: *`, so only one run publishes it.
 */
export class S3Storage implements ComposableStorage {
  constructor(
    readonly client: S3Client,
    readonly bucket: string,
  ) {}

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
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body as Readable;
    } catch (error) {
      if (isMissing(error) || (isAccessDenied(error) && !(await this.listed(key)))) return undefined;
      throw error;
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
    return new S3StagedWriter(this.client, this.bucket, key);
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
      const status = (error as S3ServiceException).$metadata?.httpStatusCode;
      if (status === 412 || status === 409) return false;
      throw error;
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
    const { UploadId } = await this.client.send(
      new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: key, ContentType: contentTypeOf(key) }),
    );
    const completed: CompletedPart[] = [];
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    const flush = async (): Promise<void> => {
      const PartNumber = completed.length + 1;
      const body = Buffer.concat(pending, pendingBytes);
      const out = await this.client.send(new UploadPartCommand({ Bucket: this.bucket, Key: key, UploadId, PartNumber, Body: body }));
      completed.push({ PartNumber, ETag: out.ETag });
      pending = [];
      pendingBytes = 0;
    };
    const readRange = async (source: string, from: number, to: number): Promise<void> => {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: source, Range: `bytes=${from}-${to - 1}` }));
      const bytes = Buffer.from(await out.Body!.transformToByteArray());
      if (bytes.length !== to - from) throw new Error(`${source}: read ${bytes.length} bytes of range ${from}-${to - 1}`);
      pending.push(bytes);
      pendingBytes += bytes.length;
    };
    const copy = async (source: string, from: number, to: number, whole: boolean): Promise<void> => {
      const PartNumber = completed.length + 1;
      const out = await this.client.send(
        new UploadPartCopyCommand({
          Bucket: this.bucket,
          Key: key,
          UploadId,
          PartNumber,
          CopySource: `${this.bucket}/${source.split('/').map(encodeURIComponent).join('/')}`,
          CopySourceRange: whole ? undefined : `bytes=${from}-${to - 1}`,
        }),
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
      await this.client.send(
        new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId, MultipartUpload: { Parts: completed } }),
      );
    } catch (error) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: key, UploadId })).catch(() => undefined);
      throw error;
    }
  }

  async remove(keys: string[]): Promise<void> {
    for (let i = 0; i < keys.length; i += 1000) {
      const out = await this.client.send(
        new DeleteObjectsCommand({
          Bucket: this.bucket,
          Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
        }),
      );
      if (out.Errors?.length) throw new Error(`could not delete ${out.Errors.length} objects, e.g. ${out.Errors[0].Key}: ${out.Errors[0].Message}`);
    }
  }

  async list(prefix: string, options: { delimiter?: string; token?: string; limit?: number; startAfter?: string } = {}): Promise<ListPage> {
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
      keys: (out.Contents ?? []).map((o) => o.Key!),
      prefixes: (out.CommonPrefixes ?? []).map((p) => p.Prefix!),
      nextToken: out.IsTruncated ? out.NextContinuationToken : undefined,
    };
  }
}

class S3StagedWriter implements StagedWriter {
  private readonly body = new PassThrough({ highWaterMark: PART_SIZE });
  private readonly done: Promise<unknown>;
  private failure: unknown;

  constructor(client: S3Client, bucket: string, key: string) {
    const upload = new Upload({
      client,
      params: { Bucket: bucket, Key: key, Body: this.body, ContentType: contentTypeOf(key) },
      partSize: PART_SIZE,
      queueSize: QUEUE_SIZE,
      leavePartsOnError: false,
    });
    this.done = upload.done();
    this.done.catch((error: unknown) => {
      this.failure = error;
      this.body.destroy();
    });
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.body.write(chunk)) {
      await Promise.race([once(this.body, 'drain'), this.done.then(() => undefined)]);
    }
    if (this.failure) throw this.failure;
  }

  async commit(): Promise<void> {
    this.body.end();
    await this.done;
  }

  /**
   * Fails the body rather than calling `Upload.abort()`: that rejects `done()` at once and sends
   * AbortMultipartUpload later in the background, so a process exiting right after a failed run
   * would leave the uploaded parts behind. A failing body makes the upload abort its multipart
   * upload before `done()` settles, and this waits for it.
   */
  async abort(): Promise<void> {
    this.body.destroy(new Error('upload aborted'));
    await this.done.catch(() => undefined);
  }
}

// A missing bucket is an error, not an absent object: otherwise a run against a mistyped bucket
// would find "no manifest" and generate everything before its first write failed.
function isMissing(error: unknown): boolean {
  if (!(error instanceof S3ServiceException) || error.name === 'NoSuchBucket') return false;
  return error.name === 'NoSuchKey' || error.$metadata?.httpStatusCode === 404;
}

function isAccessDenied(error: unknown): boolean {
  return error instanceof S3ServiceException && error.$metadata?.httpStatusCode === 403;
}

function contentTypeOf(key: string): string {
  return key.endsWith('.json') ? 'application/json' : key.endsWith('.csv') ? 'text/csv' : 'application/octet-stream';
}
