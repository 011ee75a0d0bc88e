import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { DatasetStorage } from '../storage/storage.js';
import type { Manifest } from './manifest.js';

/** One data row of a CSV file: its 1-based line number in the file and its fields. */
export interface CsvRow {
  line: number;
  fields: string[];
}

export class DatasetFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetFileError';
  }
}

/**
 * The data rows of a dataset CSV (comma-separated, no quoting, CRLF) read from `stream`, after
 * checking that its header is `columns`; `name` is the file as messages call it. Throws
 * DatasetFileError when the header is another. Ending the iteration early releases the stream.
 */
export async function* datasetCsvRows(
  stream: AsyncIterable<Uint8Array>,
  name: string,
  columns: readonly string[],
): AsyncGenerator<CsvRow> {
  const source = Readable.from(stream);
  try {
    let line = 0;
    for await (const text of createInterface({ input: source, crlfDelay: Infinity })) {
      line++;
      if (line === 1) {
        if (text !== columns.join(','))
          throw new DatasetFileError(`${name}: expected the header ${columns.join(',')}, got ${text}`);
        continue;
      }
      if (text !== '') yield { line, fields: text.split(',') };
    }
    if (line === 0) throw new DatasetFileError(`${name} is empty (no header)`);
  } finally {
    source.destroy();
  }
}

/**
 * Refuses a dataset published without CSV files (`formats` without `csv`) to a reader of its
 * CSVs (`reader`: what needs them), in one line that names the missing format. Manifests from
 * before `formats` existed are CSV.
 */
export function requireCsv(manifest: Pick<Manifest, 'datasetId' | 'config'>, reader: string): void {
  const formats: readonly string[] = 'formats' in manifest.config ? manifest.config.formats : ['csv'];
  if (!formats.includes('csv'))
    throw new DatasetFileError(
      `${manifest.datasetId} has no CSV files (formats: ${formats.join(', ')}); ${reader} reads CSV: publish the config with "formats": ["csv", "parquet"]`,
    );
}

/** `datasetCsvRows` of a stored file; throws DatasetFileError when the file is missing. */
export async function* readDatasetCsv(
  storage: DatasetStorage,
  key: string,
  columns: readonly string[],
): AsyncGenerator<CsvRow> {
  const stream = await storage.readStream(key);
  if (!stream) throw new DatasetFileError(`no ${storage.describe(key)}`);
  yield* datasetCsvRows(stream, storage.describe(key), columns);
}

/**
 * Hands out the rows of a file sorted by user id one user at a time, and lets a merge-join skip
 * to a user: memory per user, not per file.
 */
export class UserBlockReader {
  private pending: CsvRow | undefined;
  private done = false;

  constructor(
    private readonly rows: AsyncIterator<CsvRow>,
    private readonly name: string,
    private readonly userColumn = 0,
  ) {}

  /** The block of `userId` (empty when the file has none), skipping users before it. */
  async rowsOf(userId: number): Promise<string[][]> {
    const block: string[][] = [];
    for (;;) {
      const row = await this.peek();
      if (!row) return block;
      const id = Number(row.fields[this.userColumn]);
      if (!Number.isInteger(id))
        throw new DatasetFileError(
          `${this.name} line ${row.line}: user_id ${JSON.stringify(row.fields[this.userColumn])} is not an integer`,
        );
      if (id > userId) return block;
      if (id === userId) block.push(row.fields);
      this.pending = undefined;
    }
  }

  private async peek(): Promise<CsvRow | undefined> {
    if (this.pending || this.done) return this.pending;
    const next = await this.rows.next();
    if (next.done) this.done = true;
    else this.pending = next.value;
    return this.pending;
  }
}
