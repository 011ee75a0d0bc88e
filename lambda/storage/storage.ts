/**
 * Where datasets are published. Keys are `/`-separated paths relative to the storage root.
 * A writer's bytes become visible under its key only on `commit()`; `putIfAbsent` is the
 * atomic, no-overwrite write that publishes a manifest.
 */
export interface DatasetStorage {
  /** Human-readable location of a key (a path, or an s3:// URL). */
  describe(key: string): string;
  /** The whole object, or undefined when there is none. */
  read(key: string): Promise<Buffer | undefined>;
  /** Streams the object's bytes, or undefined when there is none. */
  readStream(key: string): Promise<AsyncIterable<Buffer> | undefined>;
  createWriter(key: string): StagedWriter;
  /** Writes the object unless the key exists; false when it did. */
  putIfAbsent(key: string, body: string): Promise<boolean>;
  /**
   * One page of the keys under a prefix; with a delimiter, the "folders" one level down. With
   * `startAfter` (instead of `token`), the page starts after that key (S3's StartAfter).
   */
  list(prefix: string, options?: ListOptions): Promise<ListPage>;
  /**
   * Removes what dead runs left under `prefix` (a dataset's folder): temp files on disk,
   * incomplete multipart uploads on S3, when older than `olderThanSeconds` or provably abandoned.
   * Returns how many it removed.
   */
  removeStale(prefix: string, olderThanSeconds: number): Promise<number>;
}

/** A listing's page: `delimiter` groups keys into "folders"; `token` continues a page; `startAfter` starts past a key. */
export interface ListOptions {
  delimiter?: string;
  token?: string;
  limit?: number;
  startAfter?: string;
}

export interface ListPage {
  keys: string[];
  prefixes: string[];
  /** Pass as `token` to get the next page; undefined on the last page. */
  nextToken?: string;
}

export interface StagedWriter {
  /** Resolves once the chunk is accepted (back-pressure); the writer owns the chunk afterwards. */
  write(chunk: Uint8Array): Promise<void>;
  /**
   * Resolves once every chunk written before the call is written out and no longer held, so that
   * its memory can be reused. Optional: a writer without it keeps its chunks.
   */
  released?(): Promise<void>;
  /** Makes everything written visible under the key. */
  commit(): Promise<void>;
  /** Discards everything written; safe to call after a failure or twice. */
  abort(): Promise<void>;
}

/**
 * Writes `key` through a staged writer: `fill` writes to it, then it is committed; any error,
 * from `fill` or the commit, aborts it and is thrown on (an abort's own failure does not hide it).
 * Returns what `fill` returned.
 */
export async function writeObject<T>(
  storage: Pick<DatasetStorage, 'createWriter'>,
  key: string,
  fill: (writer: StagedWriter) => Promise<T>,
): Promise<T> {
  return writeObjects(storage, [key], ([writer]) => fill(writer));
}

/**
 * `writeObject` for several keys written together (a dataset's files): all are committed once
 * `fill` is done, in order, and on any error every one is aborted, so none is left half-written.
 */
export async function writeObjects<T>(
  storage: Pick<DatasetStorage, 'createWriter'>,
  keys: readonly string[],
  fill: (writers: StagedWriter[]) => Promise<T>,
): Promise<T> {
  const writers = keys.map((key) => storage.createWriter(key));
  try {
    const result = await fill(writers);
    for (const writer of writers) await writer.commit();
    return result;
  } catch (error) {
    await Promise.allSettled(writers.map((w) => w.abort()));
    throw error;
  }
}

/** One source of a composed object: a key and its size in bytes. */
export interface PartSource {
  key: string;
  bytes: number;
}

/** Storage that can assemble an object from others (the fan-out commit) and delete objects. */
export interface ComposableStorage extends DatasetStorage {
  /**
   * Writes `key` as the concatenation of `parts` in order, visible only once complete. On S3 a
   * multipart upload whose parts are server-side copies (UploadPartCopy) where each is at least
   * `minPartBytes` (S3's 5 MiB minimum for every part but the last); smaller pieces are read and
   * re-uploaded, merged into parts of at least that size.
   */
  compose(key: string, parts: PartSource[], options?: { minPartBytes?: number }): Promise<void>;
  /** Deletes the keys (missing ones are fine). */
  remove(keys: string[]): Promise<void>;
}

export const MIN_PART_BYTES = 5 * 1024 * 1024;

export function isComposable(storage: DatasetStorage): storage is ComposableStorage {
  return (
    typeof (storage as Partial<ComposableStorage>).compose === 'function' &&
    typeof (storage as Partial<ComposableStorage>).remove === 'function'
  );
}
