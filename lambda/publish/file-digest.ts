import { createHash, type Hash } from 'node:crypto';
import { CsvBuffer } from '../dataset/csv-buffer.js';
import type { StagedWriter } from '../storage/storage.js';

const FLUSH_AT = 1 << 20;

/**
 * One output file on its way to storage: rows are written into a ~1 MiB buffer, and each full
 * buffer is hashed, counted and handed to the writer in the same pass.
 */
export class DigestingFileWriter {
  readonly buffer = new CsvBuffer(FLUSH_AT + (FLUSH_AT >> 2));
  private readonly hash: Hash = createHash('sha256');
  bytes = 0;
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
    return { bytes: this.bytes, rows: this.rows, sha256: this.hash.digest('hex') };
  }

  async flush(): Promise<void> {
    if (this.buffer.length === 0) return;
    const chunk = this.buffer.take();
    this.hash.update(chunk);
    this.bytes += chunk.length;
    await this.writer.write(chunk);
  }
}
