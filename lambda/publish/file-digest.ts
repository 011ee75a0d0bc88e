import { createHash, type Hash } from 'node:crypto';
import type { StagedWriter } from '../storage/storage.js';

const FLUSH_AT = 1 << 20;

/**
 * One output file on its way to storage: text is batched into ~1 MiB chunks, and each chunk is
 * hashed and counted in the same pass that writes it.
 */
export class DigestingFileWriter {
  private readonly hash: Hash = createHash('sha256');
  private pending = '';
  bytes = 0;
  rows = 0;

  constructor(private readonly writer: StagedWriter) {}

  /** Appends ASCII text holding `rows` data rows; resolves after a flush when the batch is full. */
  async append(text: string, rows: number): Promise<void> {
    this.pending += text;
    this.rows += rows;
    if (this.pending.length >= FLUSH_AT) await this.flush();
  }

  async finish(): Promise<{ bytes: number; rows: number; sha256: string }> {
    await this.flush();
    await this.writer.commit();
    return { bytes: this.bytes, rows: this.rows, sha256: this.hash.digest('hex') };
  }

  private async flush(): Promise<void> {
    if (!this.pending) return;
    const chunk = this.pending;
    this.pending = '';
    this.hash.update(chunk, 'latin1');
    this.bytes += chunk.length;
    await this.writer.write(chunk);
  }
}
