import type { GenerationConfig } from '../config/schema.js';
import { buildDatasetSchema, type SchemaTable } from '../dataset/dataset-schema.js';
import type { ManifestFile } from '../dataset/manifest.js';
import { parquetPartUsers, partRange, ParquetTableWriter, type PartSink } from '../dataset/parquet-table.js';
import { fileKey, parquetPartFile, parquetTableFolder } from '../layout/key-layout.js';
import { TABLES } from '../layout/tables.js';
import { itemLines } from '../rows/csv-format.js';
import { USER_TABLES } from '../rows/user-tables.js';
import type { DatasetStorage, StagedWriter } from '../storage/storage.js';
import { DigestingFileWriter } from './file-digest.js';

/**
 * The Parquet parts of a range of users (a whole run, or a fan-out shard on part boundaries),
 * written from the per-user tables' CSV chunks as they come. Each part is committed as soon as it
 * is whole, so that memory (an S3 part buffer each) does not grow with the number of parts; the
 * manifest, written last, is what makes them a dataset, as for every file.
 */
export class ParquetOutput {
  /** In `USER_TABLES` order. */
  private readonly userTables: ParquetTableWriter[];
  private readonly items: ParquetTableWriter | undefined;
  private readonly files: ManifestFile[] = [];
  private readonly tables: SchemaTable[];
  private readonly open = new Set<StagedWriter>();

  constructor(
    private readonly storage: DatasetStorage,
    private readonly prefix: string,
    config: GenerationConfig,
    users: { from: number; to: number },
  ) {
    const tables = (this.tables = buildDatasetSchema(config).tables);
    const per = parquetPartUsers(config);
    const range = partRange(config, users.from, users.to);
    const writerOf = (file: string, partRangeOf: { first: number; last: number }): ParquetTableWriter => {
      const order = tables.findIndex((t) => t.file === file);
      return new ParquetTableWriter(tables[order], partRangeOf, per, (part) => this.sink(tables[order], part));
    };
    this.userTables = USER_TABLES.map((t) => writerOf(t.file, range));
    // The items table's two rows are one part, written by whoever writes part 0.
    this.items = range.first === 0 ? writerOf(TABLES.items.file, { first: 0, last: 0 }) : undefined;
  }

  /** Rows of the per-user table `table` (index in `USER_TABLES`), as CSV data rows. */
  append(table: number, bytes: Uint8Array): Promise<void> {
    return this.userTables[table].append(bytes);
  }

  /** Ends every table's parts; returns their manifest entries, by table (schema.json's order) and part. */
  async finish(): Promise<ManifestFile[]> {
    if (this.items) {
      await this.items.append(Buffer.from(itemLines(), 'latin1'));
      await this.items.finish();
    }
    for (const table of this.userTables) await table.finish();
    return inTableOrder(this.files, this.tables);
  }

  /** Discards the part being written of each table (after a failure; parts already whole stay). */
  async abort(): Promise<void> {
    await Promise.allSettled([...this.open].map((w) => w.abort()));
  }

  private sink(table: SchemaTable, part: number): PartSink {
    const name = parquetPartFile(table.name, part);
    const staged = this.storage.createWriter(fileKey(this.prefix, name));
    this.open.add(staged);
    const out = new DigestingFileWriter(staged);
    return {
      write: (bytes) => out.appendChunk(bytes, 0),
      close: async (rows) => {
        out.rows = rows;
        const figures = await out.close();
        await staged.commit();
        this.open.delete(staged);
        this.files.push({ name, columns: table.columns.map((c) => c.name), ...figures });
      },
    };
  }
}

/** Parquet parts as the manifest lists them: by table, in `tables` (schema.json's) order, then by part. */
export function inTableOrder(files: ManifestFile[], tables: readonly SchemaTable[]): ManifestFile[] {
  const order = (file: ManifestFile): number =>
    tables.findIndex((t) => file.name.startsWith(`${parquetTableFolder(t.name)}/`));
  return [...files].sort((a, b) => order(a) - order(b) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
