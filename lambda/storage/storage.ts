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
  /** One page of the keys under a prefix; with a delimiter, the "folders" one level down. */
  list(prefix: string, options?: { delimiter?: string; token?: string; limit?: number }): Promise<ListPage>;
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
  /** Makes everything written visible under the key. */
  commit(): Promise<void>;
  /** Discards everything written; safe to call after a failure or twice. */
  abort(): Promise<void>;
}
