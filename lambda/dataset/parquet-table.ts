import { constants, zstdCompressSync } from 'node:zlib';
import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import type { GenerationConfig } from '../config/schema.js';
import { PARQUET_TYPES, relbenchMetadata, type SchemaColumn, type SchemaTable } from './dataset-schema.js';
import { SECONDS_PER_HOUR } from '../config/task-settings.js';
import { parseUtcTimestamp } from '../time/utc-timestamp.js';
import { buildDatasetSchema } from './dataset-schema.js';
import { TABLES } from '../layout/tables.js';
import { itemLines } from '../rows/csv-format.js';
import { isWritten, USER_TABLES } from '../rows/user-tables.js';

/**
 * A table's Parquet parts, encoded from its CSV rows as they stream (the CSV text is what every
 * path already makes, the same bytes whatever the threads or shards, so the Parquet values are
 * the CSV values by construction). Parts are cut by user ranges fixed by the config
 * (`parquetPartUsers`), row groups every `ROW_GROUP_ROWS` rows of a part: the bytes depend on the
 * config only, not on who made the rows or in how many pieces.
 */

/** Rows of a row group: the columns of one are held in memory while it fills (a few MB for the widest table). */
export const ROW_GROUP_ROWS = 65_536;
/** Rows of all per-user tables a part holds, about (from the config's rates and task grid). */
const PART_ROWS = 1_000_000;

const CREATED_BY = 'tierdrift (hyparquet-writer 0.17.0)';
const ZSTD_LEVEL = 3;
const zstd = (input: Uint8Array): Uint8Array =>
  zstdCompressSync(input, { params: { [constants.ZSTD_c_compressionLevel]: ZSTD_LEVEL } });

/**
 * Users a part holds, a function of the config alone: about `PART_ROWS` rows of all per-user
 * tables, counting each user's grid anchors, the uploads of a user at the higher of the two mean
 * rates for the whole window, and 5 rows of the small tables.
 */
export function parquetPartUsers(config: GenerationConfig): number {
  const hours = ((parseUtcTimestamp(config.end) ?? 0) - (parseUtcTimestamp(config.start) ?? 0)) / SECONDS_PER_HOUR;
  const uploads = (Math.max(config.freeUploadsPerDay.mean, config.premiumUploadsPerDay.mean) * hours) / 24;
  const rowsPerUser = hours / config.tasks.gridHours + uploads + 5;
  return Math.max(1, Math.floor(PART_ROWS / rowsPerUser));
}

/** The parts of a table over users from..to (the whole run, or a fan-out shard on part boundaries). */
export function partRange(config: GenerationConfig, from: number, to: number): { first: number; last: number } {
  const per = parquetPartUsers(config);
  if ((from - 1) % per !== 0 || (to !== config.users && to % per !== 0))
    throw new Error(`users ${from}..${to} do not start and end on Parquet part boundaries (${per} users a part)`);
  return { first: (from - 1) / per, last: Math.ceil(to / per) - 1 };
}

/** Where a part's bytes go: written in order, then closed (committed) once the part is whole. */
export interface PartSink {
  write(bytes: Uint8Array): Promise<void>;
  close(rows: number): Promise<void>;
}

/** A ByteWriter that hands its bytes on after each row group (hyparquet awaits `flush`), so a part is never held whole. */
class StreamingByteWriter extends ByteWriter {
  constructor(private readonly sink: PartSink) {
    super(1 << 20);
  }

  flush(): Promise<void> {
    const bytes = new Uint8Array(this.buffer.slice(0, this.index));
    this.index = 0;
    return this.sink.write(bytes);
  }
}

/** The part being written: its encoder, the bytes it writes into, and where they go. */
interface OpenPart {
  parquet: ParquetWriter;
  bytes: StreamingByteWriter;
  sink: PartSink;
}

type Values = BigInt64Array | Float64Array | Array<string | null> | Array<bigint | null> | Array<Uint8Array | null>;

/** A column's values for the row group being filled, parsed from CSV fields. */
interface ColumnBuffer {
  values: Values;
  /** Parses the field bytes [from, to) of a row into slot `i`. */
  set(bytes: Uint8Array, from: number, to: number, i: number): void;
}

const latin1 = new TextDecoder('latin1');
const ZERO = 0x30;

function parseUint(bytes: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) n = n * 10 + (bytes[i] - ZERO);
  return n;
}

const digits2 = (b: Uint8Array, at: number): number => (b[at] - ZERO) * 10 + b[at + 1] - ZERO;

/** Epoch seconds of `YYYY-MM-DDTHH:MM:SSZ` (validated by the writer that made it) at `from`. */
function parseTimestamp(b: Uint8Array, from: number): number {
  const year = parseUint(b, from, from + 4);
  const month = digits2(b, from + 5);
  const day = digits2(b, from + 8);
  // Howard Hinnant's days_from_civil.
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const days = era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
  return days * 86400 + digits2(b, from + 11) * 3600 + digits2(b, from + 14) * 60 + digits2(b, from + 17);
}

function columnBuffer(column: SchemaColumn, rows: number): ColumnBuffer {
  switch (column.type) {
    case 'int': {
      const values = new BigInt64Array(rows);
      return { values, set: (b, from, to, i) => (values[i] = BigInt(parseUint(b, from, to))) };
    }
    case 'float': {
      const values = new Float64Array(rows);
      // Most rows repeat the previous row's text (the task's probabilities): parse it once.
      const last = new Uint8Array(32);
      let lastLength = -1;
      let lastValue = 0;
      return {
        values,
        set: (b, from, to, i) => {
          const length = to - from;
          if (!sameBytes(b, from, length, last, lastLength)) {
            lastValue = Number(latin1.decode(b.subarray(from, to)));
            lastLength = length <= last.length ? length : -1;
            if (lastLength >= 0) last.set(b.subarray(from, to));
          }
          values[i] = lastValue;
        },
      };
    }
    case 'timestamp': {
      if (column.nullable) {
        const values: Array<bigint | null> = new Array<bigint | null>(rows).fill(null);
        return {
          values,
          set: (b, from, to, i) => (values[i] = from === to ? null : BigInt(parseTimestamp(b, from)) * 1_000_000n),
        };
      }
      const values = new BigInt64Array(rows);
      return { values, set: (b, from, _to, i) => (values[i] = BigInt(parseTimestamp(b, from)) * 1_000_000n) };
    }
    case 'string': {
      const values = new Array<string | null>(rows).fill(null);
      return { values, set: (b, from, to, i) => (values[i] = latin1.decode(b.subarray(from, to))) };
    }
    case 'category': {
      // A few values, found by their bytes; each row refers to one shared byte array per value,
      // which the writer's dictionary keys by identity: no allocation per row.
      const known = (column.values ?? []).map((v) => Buffer.from(String(v), 'latin1'));
      const values = new Array<Uint8Array | null>(rows).fill(null);
      return {
        values,
        set: (b, from, to, i) => {
          const value = known.find((k) => sameBytes(b, from, to - from, k, k.length));
          if (!value)
            throw new Error(`${column.name}: ${latin1.decode(b.subarray(from, to))} is not one of its values`);
          values[i] = value;
        },
      };
    }
  }
}

/** Whether bytes [from, from + length) of `b` are the first `knownLength` bytes of `known`. */
function sameBytes(b: Uint8Array, from: number, length: number, known: Uint8Array, knownLength: number): boolean {
  if (length !== knownLength) return false;
  for (let k = 0; k < length; k++) if (b[from + k] !== known[k]) return false;
  return true;
}

/**
 * Encodes one table's CSV rows (data rows only, in user order, users `from..to`) into Parquet
 * parts `first..last` (see `partRange`); each part goes to the sink `openPart` gives it, every
 * part of the range even when it has no rows. The table's first column is `user_id` (a column
 * `user_id` in every table but items, which has one part).
 */
export class ParquetTableWriter {
  private readonly columns: ColumnBuffer[];
  private readonly userColumn: number;
  /** Where each field of the row being read ends. */
  private readonly ends: Int32Array;
  private rowsInGroup = 0;
  private rowsInPart = 0;
  private part: number;
  private open: OpenPart | undefined;

  constructor(
    private readonly table: SchemaTable,
    private readonly range: { first: number; last: number },
    private readonly usersPerPart: number,
    private readonly openPart: (part: number) => PartSink,
  ) {
    this.columns = table.columns.map((c) => columnBuffer(c, ROW_GROUP_ROWS));
    this.ends = new Int32Array(table.columns.length);
    this.userColumn = table.columns.findIndex((c) => c.name === 'user_id');
    if (this.userColumn < 0 && range.first !== range.last)
      throw new Error(`${table.name} has no user_id: it cannot be cut into parts by users`);
    this.part = range.first;
  }

  /** Appends CSV data rows (whole rows, `\r\n` after each). */
  async append(bytes: Uint8Array): Promise<void> {
    const { columns, ends } = this;
    const width = columns.length;
    let at = 0;
    while (at < bytes.length) {
      const start = at;
      let field = 0;
      for (;;) {
        const c = bytes[at];
        if (c === 0x2c || c === 0x0d) {
          if (field === width) throw new Error(`${this.table.name}: a CSV row of more than ${width} fields`);
          ends[field++] = at;
          if (c === 0x0d) break;
        }
        at++;
      }
      at += 2;
      if (field !== width) throw new Error(`${this.table.name}: a CSV row of ${field} fields, not ${width}`);
      if (this.userColumn >= 0) {
        const u = this.userColumn;
        const part = Math.floor((parseUint(bytes, u === 0 ? start : ends[u - 1] + 1, ends[u]) - 1) / this.usersPerPart);
        if (part !== this.part) await this.endPart(part);
      }
      const i = this.rowsInGroup;
      for (let f = 0; f < width; f++) columns[f].set(bytes, f === 0 ? start : ends[f - 1] + 1, ends[f], i);
      this.rowsInGroup++;
      this.rowsInPart++;
      if (this.rowsInGroup === ROW_GROUP_ROWS) await this.flushGroup();
    }
  }

  /** Ends the last part, and writes any part of the range left with no rows. */
  async finish(): Promise<void> {
    await this.endPart(this.range.last + 1);
  }

  /** Ends the current part (and any empty ones before `next`): `next` is the part the next row goes to. */
  private async endPart(next: number): Promise<void> {
    if (next < this.part || next > this.range.last + 1)
      throw new Error(
        `${this.table.name}: a row of part ${next} after part ${this.part} (parts ${this.range.first}..${this.range.last})`,
      );
    for (; this.part < next; this.part++) {
      await this.flushGroup();
      const open = this.open ?? this.startPart();
      // The footer: ParquetWriter.finish writes it into the byte writer, which hands it on.
      await open.parquet.finish();
      await open.bytes.flush();
      await open.sink.close(this.rowsInPart);
      this.open = undefined;
      this.rowsInPart = 0;
    }
  }

  private startPart(): OpenPart {
    const sink = this.openPart(this.part);
    const bytes = new StreamingByteWriter(sink);
    const parquet = new ParquetWriter({
      writer: bytes,
      schema: [
        { name: 'schema', num_children: this.table.columns.length },
        ...this.table.columns.map((c) => {
          const type = PARQUET_TYPES[c.type];
          return {
            name: c.name,
            type: type.physical,
            repetition_type: c.nullable ? ('OPTIONAL' as const) : ('REQUIRED' as const),
            ...(type.logical?.type === 'STRING' ? { converted_type: 'UTF8' as const } : {}),
            ...(type.logical ? { logical_type: type.logical } : {}),
          };
        }),
      ],
      codec: 'ZSTD',
      compressors: { ZSTD: zstd },
      kvMetadata: relbenchMetadata(this.table),
      createdBy: CREATED_BY,
    });
    this.open = { parquet, bytes, sink };
    return this.open;
  }

  private async flushGroup(): Promise<void> {
    const rows = this.rowsInGroup;
    if (rows === 0) return;
    const { parquet } = this.open ?? this.startPart();
    await parquet.write({
      columnData: this.table.columns.map((c, j) => {
        const type = PARQUET_TYPES[c.type];
        return {
          name: c.name,
          data: this.columns[j].values.slice(0, rows),
          // Dictionaries for categories only: a dictionary of ids or times would be as big as the column.
          encoding: type.dictionary ? undefined : ('PLAIN' as const),
          nullable: c.nullable === true,
        };
      }),
      rowGroupSize: rows,
    });
    this.rowsInGroup = 0;
  }
}

/**
 * Every table's Parquet parts over users `from..to`, from the per-user tables' CSV chunks (and the
 * items table's fixed rows, by whoever writes part 0): where the rows are encoded, in this thread
 * or a worker's.
 */
export class ParquetTables {
  /** In `USER_TABLES` order; none for a table the config does not write (no task file). */
  private readonly userTables: (ParquetTableWriter | undefined)[];
  private readonly items: ParquetTableWriter | undefined;

  constructor(
    config: GenerationConfig,
    users: { from: number; to: number },
    openPart: (table: SchemaTable, part: number) => PartSink,
  ) {
    const tables = buildDatasetSchema(config).tables;
    const per = parquetPartUsers(config);
    const range = partRange(config, users.from, users.to);
    const writerOf = (file: string, parts: { first: number; last: number }): ParquetTableWriter => {
      const table = tables.find((t) => t.file === file);
      if (!table) throw new Error(`schema.json has no table of ${file}`);
      return new ParquetTableWriter(table, parts, per, (part) => openPart(table, part));
    };
    this.userTables = USER_TABLES.map((t) => (isWritten(t, config) ? writerOf(t.file, range) : undefined));
    this.items = range.first === 0 ? writerOf(TABLES.items.file, { first: 0, last: 0 }) : undefined;
  }

  /** Rows of the per-user table `table` (index in `USER_TABLES`), as CSV data rows. */
  append(table: number, bytes: Uint8Array): Promise<void> {
    return this.userTables[table]?.append(bytes) ?? Promise.resolve();
  }

  /** Ends every table's parts. */
  async finish(): Promise<void> {
    if (this.items) {
      await this.items.append(Buffer.from(itemLines(), 'latin1'));
      await this.items.finish();
    }
    for (const table of this.userTables) await table?.finish();
  }
}
