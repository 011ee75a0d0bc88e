import type { GenerationConfig } from '../config/schema.js';
import { buildDatasetSchema, type SchemaTable } from '../dataset/dataset-schema.js';
import type { ManifestFile } from '../dataset/manifest.js';
import { ParquetTables } from '../dataset/parquet-table.js';
import { fileKey, parquetPartFile, parquetTableFolder } from '../layout/key-layout.js';
import type { DatasetStorage, StagedWriter } from '../storage/storage.js';
import { ParquetThread } from '../threads/parquet-thread.js';
import { DigestingFileWriter } from './file-digest.js';
import type { UserBlock } from '../rows/user-rows.js';

/**
 * The Parquet parts of a range of users (a whole run, or a fan-out shard on part boundaries),
 * written from the users' batches as they come (`RowsChunk.batches`): encoded in this thread, or on a
 * worker thread when given its script (`parquetWorker`, the CLI's bundle). Each part is committed
 * as soon as it is whole, so that memory (an S3 part buffer each) does not grow with the number of
 * parts; the manifest, written last, is what makes them a dataset, as for every file.
 */
export class ParquetOutput {
  private readonly encoder: Pick<ParquetTables, 'append' | 'finish'>;
  private readonly thread: ParquetThread | undefined;
  private readonly tables: SchemaTable[];
  private readonly files: ManifestFile[] = [];
  private readonly open = new Map<string, { staged: StagedWriter; out: DigestingFileWriter }>();

  constructor(
    private readonly storage: DatasetStorage,
    private readonly prefix: string,
    config: GenerationConfig,
    users: { from: number; to: number },
    parquetWorker?: URL,
  ) {
    this.tables = buildDatasetSchema(config).tables;
    if (parquetWorker) {
      this.thread = new ParquetThread(
        parquetWorker,
        { config, users },
        {
          write: (table, part, bytes) => this.write(table, part, bytes),
          close: (table, part, rows) => this.close(table, part, rows),
        },
      );
      this.encoder = this.thread;
    } else {
      this.encoder = new ParquetTables(config, users, (table, part) => ({
        write: (bytes) => this.write(table.name, part, bytes),
        close: (rows) => this.close(table.name, part, rows),
      }));
    }
  }

  /** The next users' rows of every table, from their batches. */
  append(users: UserBlock): Promise<void> {
    return this.encoder.append(users);
  }

  /** Ends every table's parts; returns their manifest entries, by table (schema.json's order) and part. */
  async finish(): Promise<ManifestFile[]> {
    await this.encoder.finish();
    return inTableOrder(this.files, this.tables);
  }

  /** Stops the encoding and discards the parts being written (after a failure; parts already whole stay). */
  async abort(): Promise<void> {
    await this.thread?.stop();
    await Promise.allSettled([...this.open.values()].map((o) => o.staged.abort()));
  }

  private async write(table: string, part: number, bytes: Uint8Array): Promise<void> {
    const name = parquetPartFile(table, part);
    let open = this.open.get(name);
    if (!open) {
      const staged = this.storage.createWriter(fileKey(this.prefix, name));
      open = { staged, out: new DigestingFileWriter(staged) };
      this.open.set(name, open);
    }
    await open.out.appendChunk(bytes, 0);
  }

  private async close(table: string, part: number, rows: number): Promise<void> {
    const name = parquetPartFile(table, part);
    const open = this.open.get(name);
    if (!open) throw new Error(`${name} was closed before anything was written to it`);
    open.out.rows = rows;
    const figures = await open.out.close();
    await open.staged.commit();
    this.open.delete(name);
    const columns = this.tables.find((t) => t.name === table)?.columns.map((c) => c.name) ?? [];
    this.files.push({ name, columns, ...figures });
  }
}

/** Parquet parts as the manifest lists them: by table, in `tables` (schema.json's) order, then by part. */
export function inTableOrder(files: ManifestFile[], tables: readonly SchemaTable[]): ManifestFile[] {
  const order = (file: ManifestFile): number =>
    tables.findIndex((t) => file.name.startsWith(`${parquetTableFolder(t.name)}/`));
  return [...files].sort((a, b) => order(a) - order(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
