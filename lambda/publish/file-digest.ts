import { createHash, type Hash } from 'node:crypto';
import { CsvBuffer } from '../dataset/csv-buffer.js';
import type { StagedWriter } from '../storage/storage.js';

const FLUSH_AT = 1 << 20;

export interface FileDigest {
  bytes: number;
  sha256: string;
}

/** Size and SHA-256 of bytes seen chunk by chunk, the figures a manifest lists per file. */
export class ContentDigest {
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;

  update(chunk: Uint8Array): void {
    this.hash.update(chunk);
    this.bytes += chunk.length;
  }

  /** The figures so far; call once, at the end. */
  digest(): FileDigest {
    return { bytes: this.bytes, sha256: this.hash.digest('hex') };
  }
}

export function sameDigest(a: FileDigest, b: FileDigest): boolean {
  return a.bytes === b.bytes && a.sha256 === b.sha256;
}

/**
 * One output file on its way to storage: rows are written into a ~1 MiB buffer, and each full
 * buffer is hashed, counted and handed to the writer in the same pass.
 */
export class DigestingFileWriter {
  readonly buffer = new CsvBuffer(FLUSH_AT + (FLUSH_AT >> 2));
  private readonly content = new ContentDigest();
  rows = 0;

  constructor(private readonly writer: StagedWriter) {}

  get full(): boolean {
    return this.buffer.length >= FLUSH_AT;
  }

  appendText(text: string, rows: number): void {
    this.buffer.reserve(text.length);
    this.buffer.ascii(text);
    this.rows += rows;
  }

  /** Writes what is left and returns the file's figures; the writer still has to be committed. */
  async close(): Promise<{ bytes: number; rows: number; sha256: string }> {
    await this.flush();
    const { bytes, sha256 } = this.content.digest();
    return { bytes, rows: this.rows, sha256 };
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.take();
    this.content.update(chunk);
    await this.writer.write(chunk);
  }
}
