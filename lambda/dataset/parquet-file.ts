import { constants, zstdCompressSync } from 'node:zlib';
import { ByteWriter } from 'hyparquet-writer';
import { writePageHeader } from 'hyparquet-writer/src/datapage.js';
import { writeMetadata } from 'hyparquet-writer/src/metadata.js';
import { PARQUET_TYPES, relbenchMetadata, type SchemaTable } from './dataset-schema.js';
import type { EncodedColumn } from '../rows/parquet-columns.js';

/**
 * One Parquet file (a part of a table), written a row group at a time into a sink. The columns
 * come already encoded (parquet-columns.ts); hyparquet-writer supplies the format's framing:
 * page headers and the footer's Thrift metadata.
 */

export const CREATED_BY = 'tierdrift (hyparquet-writer 0.17.0)';
const MAGIC = 0x31524150; // "PAR1"
const ZSTD_LEVEL = 3;
const zstd = (input: Uint8Array): Uint8Array =>
  zstdCompressSync(input, { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } });

type FileMetaData = Parameters<typeof writeMetadata>[1];
type RowGroup = FileMetaData['row_groups'][number];
type ColumnChunk = RowGroup['columns'][number];
type PageHeader = Parameters<typeof writePageHeader>[1];

/** Where a part's bytes go: written in order, then closed (committed) once the part is whole. */
export interface PartSink {
  write(bytes: Uint8Array): Promise<void>;
  close(rows: number): Promise<void>;
}

/** The schema elements of a table's files: its columns with their Parquet types. */
function schemaElements(table: SchemaTable): FileMetaData['schema'] {
  return [
    { name: 'schema', num_children: table.columns.length },
    ...table.columns.map((c) => {
      const type = PARQUET_TYPES[c.type];
      return {
        name: c.name,
        type: type.physical,
        repetition_type: c.nullable ? ('OPTIONAL' as const) : ('REQUIRED' as const),
        ...(type.logical?.type === 'STRING' ? { converted_type: 'UTF8' as const } : {}),
        ...(type.logical ? { logical_type: type.logical } : {}),
      };
    }),
  ];
}

export class ParquetPartWriter {
  private readonly out = new ByteWriter(1 << 20);
  private readonly schema: FileMetaData['schema'];
  private readonly rowGroups: RowGroup[] = [];
  private rows = 0;

  constructor(
    private readonly table: SchemaTable,
    private readonly sink: PartSink,
  ) {
    this.schema = schemaElements(table);
    this.out.appendUint32(MAGIC);
  }

  /** Writes a row group of `rows` rows (a column chunk of one data page per column), then hands its bytes on. */
  async writeRowGroup(columns: EncodedColumn[], rows: number): Promise<void> {
    const start = this.out.offset;
    const chunks = columns.map((column, j) => this.writeColumnChunk(j, column, rows));
    let uncompressed = 0n;
    for (const chunk of chunks) uncompressed += chunk.meta_data?.total_uncompressed_size ?? 0n;
    this.rowGroups.push({
      columns: chunks,
      total_byte_size: uncompressed,
      num_rows: BigInt(rows),
      total_compressed_size: BigInt(this.out.offset - start),
    });
    this.rows += rows;
    await this.flush();
  }

  /** Writes the footer and closes the part. */
  async finish(): Promise<void> {
    writeMetadata(this.out, {
      version: 2,
      created_by: CREATED_BY,
      schema: this.schema,
      num_rows: BigInt(this.rows),
      row_groups: this.rowGroups,
      key_value_metadata: relbenchMetadata(this.table),
      metadata_length: 0,
    });
    this.out.appendUint32(MAGIC);
    await this.flush();
    await this.sink.close(this.rows);
  }

  private writeColumnChunk(j: number, column: EncodedColumn, rows: number): ColumnChunk {
    const { out } = this;
    const element = this.schema[j + 1];
    if (!element.type) throw new Error(`${this.table.name}: column ${element.name} has no physical type`);
    const fileOffset = out.offset;
    let uncompressed = 0;
    let dictionaryOffset: bigint | undefined;
    if (column.dictionary) {
      dictionaryOffset = BigInt(out.offset);
      uncompressed += this.writePage(column.dictionary.bytes, {
        type: 'DICTIONARY_PAGE',
        dictionary_page_header: { num_values: column.dictionary.count, encoding: 'PLAIN' },
      });
    }
    const dataOffset = BigInt(out.offset);
    uncompressed += this.writePage(column.page, {
      type: 'DATA_PAGE',
      data_page_header: {
        num_values: rows,
        encoding: column.encoding,
        definition_level_encoding: 'RLE',
        repetition_level_encoding: 'RLE',
      },
    });
    const nullable = element.repetition_type === 'OPTIONAL';
    return {
      file_offset: BigInt(fileOffset),
      meta_data: {
        type: element.type,
        encodings: column.dictionary ? ['PLAIN', 'RLE', 'RLE_DICTIONARY'] : nullable ? ['PLAIN', 'RLE'] : ['PLAIN'],
        path_in_schema: [element.name],
        codec: 'ZSTD',
        num_values: BigInt(rows),
        total_uncompressed_size: BigInt(uncompressed),
        total_compressed_size: BigInt(out.offset - fileOffset),
        data_page_offset: dataOffset,
        dictionary_page_offset: dictionaryOffset,
        statistics: {
          min_value: column.min,
          max_value: column.max,
          null_count: BigInt(column.nulls),
        },
      },
    };
  }

  /** A page: its header, then its bytes compressed; returns its uncompressed size, header included. */
  private writePage(
    bytes: Uint8Array,
    header: Omit<PageHeader, 'uncompressed_page_size' | 'compressed_page_size'>,
  ): number {
    const compressed = zstd(bytes);
    const headerStart = this.out.offset;
    writePageHeader(this.out, {
      ...header,
      uncompressed_page_size: bytes.length,
      compressed_page_size: compressed.length,
    });
    const headerBytes = this.out.offset - headerStart;
    this.out.appendBytes(compressed);
    return headerBytes + bytes.length;
  }

  /** Hands the bytes written so far to the sink. */
  private async flush(): Promise<void> {
    const bytes = new Uint8Array(this.out.buffer.slice(0, this.out.index));
    this.out.index = 0;
    await this.sink.write(bytes);
  }
}
