import { createReadStream, writeSync, type Dirent } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, rm, writeFile, type FileHandle } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { once } from 'node:events';
import type { ComposableStorage, ListPage, PartSource, StagedWriter } from './storage.js';

/** Datasets in a local folder: temporary files renamed into place, the manifest hard-linked (no overwrite). */
export class LocalFolderStorage implements ComposableStorage {
  readonly root: string;

  constructor(root: string) {
    this.root = resolve(root);
  }

  describe(key: string): string {
    return this.path(key);
  }

  async read(key: string): Promise<Buffer | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  }

  async readStream(key: string): Promise<AsyncIterable<Buffer> | undefined> {
    const stream = createReadStream(this.path(key));
    try {
      await once(stream, 'open');
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
    return stream as AsyncIterable<Buffer>;
  }

  createWriter(key: string): StagedWriter {
    return new LocalStagedWriter(this.path(key));
  }

  async putIfAbsent(key: string, body: string): Promise<boolean> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const temp = tempName(target);
    await writeFile(temp, body);
    try {
      // link() refuses an existing target, so two racing publishers cannot both win.
      await link(temp, target);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    } finally {
      await rm(temp, { force: true });
    }
  }

  /** S3-like listing: keys in lexical order, `token` the last key of the previous page. */
  async list(prefix: string, options: { delimiter?: string; token?: string; limit?: number; startAfter?: string } = {}): Promise<ListPage> {
    const dirKey = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    const dir = this.path(dirKey);
    let entries: Dirent[];
    try {
      entries = await readdir(dir, { recursive: true, withFileTypes: true });
    } catch (error) {
      if (isNotFound(error)) return { keys: [], prefixes: [] };
      throw error;
    }
    const found = new Map<string, boolean>(); // key or folder prefix → is a folder
    for (const entry of entries) {
      if (!entry.isFile() || entry.name.includes('.tmp-')) continue;
      const key = relative(this.root, join(entry.parentPath, entry.name)).split(sep).join('/');
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const cut = options.delimiter ? rest.indexOf(options.delimiter) : -1;
      if (cut >= 0) found.set(prefix + rest.slice(0, cut + options.delimiter!.length), true);
      else found.set(key, false);
    }
    const after = options.token ?? options.startAfter;
    const all = [...found.keys()].sort().filter((k) => after === undefined || k > after);
    const page = all.slice(0, options.limit ?? 1000);
    return {
      keys: page.filter((k) => !found.get(k)),
      prefixes: page.filter((k) => found.get(k)),
      nextToken: all.length > page.length ? page[page.length - 1] : undefined,
    };
  }

  /** Concatenates the parts into a temporary file renamed into place (no part-size rule on disk). */
  async compose(key: string, parts: PartSource[]): Promise<void> {
    const writer = this.createWriter(key);
    try {
      for (const part of parts) {
        const stream = await this.readStream(part.key);
        if (!stream) throw new Error(`missing part ${this.describe(part.key)}`);
        for await (const chunk of stream) await writer.write(chunk);
      }
      await writer.commit();
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }

  async remove(keys: string[]): Promise<void> {
    await Promise.all(keys.map((key) => rm(this.path(key), { force: true })));
  }

  private path(key: string): string {
    return join(this.root, ...key.split('/'));
  }
}

/**
 * A temporary file renamed into place on commit. Chunks are written synchronously: a write into
 * the page cache takes well under a millisecond per MiB, less than handing it to libuv's thread
 * pool (measured: 2 GiB in 0.3-0.4 s of CPU on this thread, against 1-3.5 s spread over the pool
 * through a WriteStream), and a chunk is let go of as soon as `write` returns.
 */
class LocalStagedWriter implements StagedWriter {
  private readonly temp: string;
  private opening: Promise<FileHandle> | undefined;

  constructor(private readonly target: string) {
    this.temp = tempName(target);
  }

  async write(chunk: Uint8Array): Promise<void> {
    const { fd } = await this.open();
    for (let done = 0; done < chunk.length; ) done += writeSync(fd, chunk, done);
  }

  released(): Promise<void> {
    return Promise.resolve();
  }

  async commit(): Promise<void> {
    const file = await this.open();
    await file.close();
    await rename(this.temp, this.target);
  }

  async abort(): Promise<void> {
    // Wait for an open in flight: removing the temp file before it could leave it behind.
    const file = await this.opening?.catch(() => undefined);
    await file?.close().catch(() => undefined);
    await rm(this.temp, { force: true });
  }

  private open(): Promise<FileHandle> {
    this.opening ??= mkdir(dirname(this.target), { recursive: true }).then(() => open(this.temp, 'w'));
    return this.opening;
  }
}

function tempName(target: string): string {
  return `${target}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
}

function isNotFound(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ENOENT' || code === 'ENOTDIR';
}
