import { ByteWriter } from 'hyparquet-writer';
import { writeRleBitPackedHybrid } from 'hyparquet-writer/src/encoding.js';

/**
 * A row group's columns, filled value by value straight into the bytes of their Parquet pages:
 * ids and times as 64-bit little-endian integers (two int32 words, no BigInt), floats as the
 * doubles themselves, strings length-prefixed, categories as dictionary indices. Encoding a row
 * group is then a copy, not a pass over JavaScript values.
 */

/** A column chunk's uncompressed pages and statistics, in the physical type's terms. */
export interface EncodedColumn {
  /** A dictionary column's values, PLAIN-encoded. */
  dictionary?: { bytes: Uint8Array; count: number };
  encoding: 'PLAIN' | 'RLE_DICTIONARY';
  /** Definition levels (nullable columns only: RLE, with their 4-byte length), then the values. */
  page: Uint8Array;
  nulls: number;
  min: bigint | number | Uint8Array | undefined;
  max: bigint | number | Uint8Array | undefined;
}

export interface ColumnBuffer {
  /** The values pushed since the last call, `rows` of them, as a column chunk; then starts afresh. */
  encode(rows: number): EncodedColumn;
}

// The pages are typed arrays' own bytes: Parquet is little-endian, and so is every Lambda and CI machine.
if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1) throw new Error('Parquet output needs a little-endian CPU');

const TWO_TO_32 = 2 ** 32;

/**
 * INT64 values, nullable or not: integers times `scale`, ids with scale 1 (below 2^53), times
 * pushed as epoch seconds with scale 10^6 (µs). A time in µs passes 2^53 beyond 285 years from
 * 1970 (a config may start in year 1000 or end in 9999) and is still an exact double: 10^6 is
 * 2^6 · 15,625, so s · 10^6 has the significant bits of s · 15,625, under 53 for any four-digit year.
 */
export class Int64Column implements ColumnBuffer {
  private readonly words: Int32Array;
  private readonly levels: Uint8Array | undefined;
  private rows = 0;
  private values = 0;
  private min = Infinity;
  private max = -Infinity;

  constructor(
    rows: number,
    nullable: boolean,
    private readonly scale: 1 | 1_000_000 = 1,
  ) {
    this.words = new Int32Array(2 * rows);
    this.levels = nullable ? new Uint8Array(rows) : undefined;
  }

  push(v: number): void {
    if (this.levels) this.levels[this.rows] = 1;
    this.rows++;
    const x = v * this.scale;
    const w = 2 * this.values++;
    this.words[w] = x % TWO_TO_32;
    this.words[w + 1] = Math.floor(x / TWO_TO_32);
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  pushNull(): void {
    if (!this.levels) throw new Error('a null in a required column');
    this.levels[this.rows++] = 0;
  }

  encode(rows: number): EncodedColumn {
    checkRows(this.rows, rows);
    const values = new Uint8Array(this.words.buffer, 0, 8 * this.values);
    const scale = BigInt(this.scale);
    const encoded: EncodedColumn = {
      encoding: 'PLAIN',
      page: withLevels(this.levels, rows, values),
      nulls: rows - this.values,
      min: this.values > 0 ? BigInt(this.min) * scale : undefined,
      max: this.values > 0 ? BigInt(this.max) * scale : undefined,
    };
    this.rows = this.values = 0;
    this.min = Infinity;
    this.max = -Infinity;
    return encoded;
  }
}

/** DOUBLE values. */
export class DoubleColumn implements ColumnBuffer {
  private readonly values: Float64Array;
  private rows = 0;
  private min = Infinity;
  private max = -Infinity;

  constructor(rows: number) {
    this.values = new Float64Array(rows);
  }

  push(x: number): void {
    this.values[this.rows++] = x;
    if (x < this.min) this.min = x;
    if (x > this.max) this.max = x;
  }

  encode(rows: number): EncodedColumn {
    checkRows(this.rows, rows);
    const encoded: EncodedColumn = {
      encoding: 'PLAIN',
      page: new Uint8Array(this.values.buffer, 0, 8 * rows),
      nulls: 0,
      // Parquet's statistics order: a zero minimum is -0, a zero maximum +0.
      min: rows > 0 ? (this.min === 0 ? -0 : this.min) : undefined,
      max: rows > 0 ? (this.max === 0 ? 0 : this.max) : undefined,
    };
    this.rows = 0;
    this.min = Infinity;
    this.max = -Infinity;
    return encoded;
  }
}

/** BYTE_ARRAY strings, PLAIN: each value's bytes after their 4-byte length. */
export class StringColumn implements ColumnBuffer {
  private bytes = Buffer.allocUnsafe(1 << 16);
  private length = 0;
  private rows = 0;
  private min: Uint8Array | undefined;
  private max: Uint8Array | undefined;

  /** A string of Latin-1 (here ASCII) characters. */
  push(text: string): void {
    if (this.length + 4 + text.length > this.bytes.length) {
      const bigger = Buffer.allocUnsafe(Math.max(2 * this.bytes.length, this.length + 4 + text.length));
      this.bytes.copy(bigger, 0, 0, this.length);
      this.bytes = bigger;
    }
    const at = this.length + 4;
    this.bytes.writeUInt32LE(text.length, this.length);
    this.bytes.write(text, at, 'latin1');
    this.length = at + text.length;
    this.rows++;
    const value = this.bytes.subarray(at, this.length);
    // Buffer.compare is byte order, Parquet's order of BYTE_ARRAY statistics.
    if (!this.min || Buffer.compare(value, this.min) < 0) this.min = Uint8Array.from(value);
    if (!this.max || Buffer.compare(value, this.max) > 0) this.max = Uint8Array.from(value);
  }

  encode(rows: number): EncodedColumn {
    checkRows(this.rows, rows);
    const encoded: EncodedColumn = {
      encoding: 'PLAIN',
      page: this.bytes.subarray(0, this.length),
      nulls: 0,
      min: this.min,
      max: this.max,
    };
    this.length = this.rows = 0;
    this.min = this.max = undefined;
    return encoded;
  }
}

/** A few known values (the schema column's), dictionary-encoded: the dictionary is all of them, in order. */
export class CategoryColumn implements ColumnBuffer {
  private readonly known: Uint8Array[];
  private readonly indexes: Uint8Array;
  private readonly seen: Uint8Array;
  private readonly dictionary: Uint8Array;
  private readonly bitWidth: number;
  private rows = 0;

  constructor(
    private readonly name: string,
    private readonly values: readonly string[],
    rows: number,
  ) {
    if (values.length > 256) throw new Error(`${name}: more than 256 values cannot be one-byte dictionary indexes`);
    this.known = values.map((v) => Buffer.from(v, 'latin1'));
    this.indexes = new Uint8Array(rows);
    this.seen = new Uint8Array(this.known.length);
    const plain = new ByteWriter();
    for (const value of this.known) {
      plain.appendUint32(value.length);
      plain.appendBytes(value);
    }
    this.dictionary = plain.getBytes().slice();
    this.bitWidth = Math.max(1, Math.ceil(Math.log2(this.known.length)));
  }

  /** The index of `value` among the column's values (to push), checked once, not per row. */
  indexOf(value: string): number {
    const index = this.values.indexOf(value);
    if (index < 0) throw new Error(`${this.name}: ${value} is not one of its values`);
    return index;
  }

  push(index: number): void {
    this.indexes[this.rows++] = index;
    this.seen[index] = 1;
  }

  encode(rows: number): EncodedColumn {
    checkRows(this.rows, rows);
    const page = new ByteWriter(rows + 64);
    page.appendUint8(this.bitWidth);
    writeRleBitPackedHybrid(page, this.indexes.subarray(0, rows), this.bitWidth);
    let min: Uint8Array | undefined;
    let max: Uint8Array | undefined;
    for (let k = 0; k < this.known.length; k++) {
      if (!this.seen[k]) continue;
      const value = this.known[k];
      if (!min || Buffer.compare(value, min) < 0) min = value;
      if (!max || Buffer.compare(value, max) > 0) max = value;
    }
    this.seen.fill(0);
    this.rows = 0;
    return {
      dictionary: { bytes: this.dictionary, count: this.known.length },
      encoding: 'RLE_DICTIONARY',
      page: page.getBytes(),
      nulls: 0,
      min,
      max,
    };
  }
}

function checkRows(pushed: number, rows: number): void {
  if (pushed !== rows) throw new Error(`a row group of ${rows} rows with ${pushed} values in a column`);
}

/** A data page (v1) of a nullable column: its definition levels, RLE with their byte length, before the values. */
function withLevels(levels: Uint8Array | undefined, rows: number, values: Uint8Array): Uint8Array {
  if (!levels) return values;
  const page = new ByteWriter(values.length + rows / 4 + 64);
  page.appendUint32(0);
  const length = writeRleBitPackedHybrid(page, levels.subarray(0, rows), 1);
  page.view.setUint32(0, length, true);
  page.appendBytes(values);
  return page.getBytes();
}

export type AnyColumn = Int64Column | DoubleColumn | StringColumn | CategoryColumn;

/** A table's columns for a row group, asked for by name and kind (a mismatch with the schema fails at once). */
export interface ColumnSet {
  get<T extends AnyColumn>(name: string, kind: abstract new (...args: never[]) => T): T;
}
