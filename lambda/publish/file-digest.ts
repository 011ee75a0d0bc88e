import { createHash, type Hash } from 'node:crypto';
import type { StagedWriter } from '../storage/storage.js';

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
 * One output file on its way to storage: each piece of it is hashed, counted and handed to the
 * writer in the same pass.
 */
export class DigestingFileWriter {
  private readonly content = new ContentDigest();
  // Short text (a header, the fixed items rows), written with the next chunk or on close.
  private text = '';
  rows = 0;

  constructor(private readonly writer: StagedWriter) {}

  appendText(text: string, rows: number): void {
    this.text += text;
    this.rows += rows;
  }

  /** Appends bytes formatted elsewhere (a chunk of rows), as they are. */
  async appendChunk(bytes: Uint8Array, rows: number): Promise<void> {
    this.rows += rows;
    await this.writeText();
    await this.write(bytes);
  }

  /** Whether every chunk appended so far has been written out and let go (waits for it); false if the writer cannot tell. */
  async released(): Promise<boolean> {
    if (!this.writer.released) return false;
    await this.writer.released();
    return true;
  }

  /** Writes what is left and returns the file's figures; the writer still has to be committed. */
  async close(): Promise<{ bytes: number; rows: number; sha256: string }> {
    await this.writeText();
    const { bytes, sha256 } = this.content.digest();
    return { bytes, rows: this.rows, sha256 };
  }

  private async writeText(): Promise<void> {
    if (this.text === '') return;
    const bytes = Buffer.from(this.text, 'latin1');
    this.text = '';
    await this.write(bytes);
  }

  private async write(bytes: Uint8Array): Promise<void> {
    if (bytes.length === 0) return;
    this.content.update(bytes);
    await this.writer.write(bytes);
  }
}
