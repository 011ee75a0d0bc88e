import type { GenerationConfig } from '../config/schema.js';
import type { SchemaColumn, SchemaTable } from './dataset-schema.js';
import {
  CategoryColumn,
  DoubleColumn,
  Int64Column,
  StringColumn,
  type AnyColumn,
  type ColumnSet,
} from '../rows/parquet-columns.js';
import type { UserColumnWriter } from '../rows/column-writers.js';
import type { UserBlock } from '../rows/user-rows.js';
import { PackedBatches } from '../engine/packed-batches.js';
import type { UserBatch } from '../engine/user-batch.js';
import { ParquetPartWriter, type PartSink } from './parquet-file.js';
import { SECONDS_PER_HOUR } from '../config/task-settings.js';
import { parseUtcTimestamp } from '../time/utc-timestamp.js';
import { buildDatasetSchema } from './dataset-schema.js';
import { ITEMS, TABLES } from '../layout/tables.js';
import { isWritten, USER_TABLES, type UserTable } from '../rows/user-tables.js';

/**
 * A table's Parquet parts, written from the users' batches as they stream, by the table's column
 * writer (`USER_TABLES`), which reads the same values its CSV writer formats. Parts are cut by
 * user ranges fixed by the config (`parquetPartUsers`), row groups every `ROW_GROUP_ROWS` rows of
 * a part: the bytes depend on the config only, not on who made the rows or in how many pieces.
 */

/** Rows of a row group: the columns of one are held in memory while it fills (a few MB for the widest table). */
export const ROW_GROUP_ROWS = 65_536;
/** Rows of all per-user tables a part holds, about (from the config's rates and task grid). */
const PART_ROWS = 1_000_000;

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

/** A column's buffer for row groups of up to `rows` rows, by its schema type. */
function columnBuffer(column: SchemaColumn, rows: number): AnyColumn {
  const nullable = column.nullable === true;
  if (nullable && column.type !== 'int' && column.type !== 'timestamp')
    throw new Error(`${column.name}: a nullable ${column.type} column is not supported`);
  switch (column.type) {
    case 'int':
      return new Int64Column(rows, nullable);
    case 'timestamp':
      // Pushed as epoch seconds, written as µs (TIMESTAMP(MICROS)).
      return new Int64Column(rows, nullable, 1_000_000);
    case 'float':
      return new DoubleColumn(rows);
    case 'string':
      return new StringColumn();
    case 'category':
      return new CategoryColumn(column.name, (column.values ?? []).map(String), rows);
  }
}

/**
 * One table's Parquet parts `first..last` (see `partRange`) over users in order; each part goes
 * to the sink `openPart` gives it, every part of the range even when it has no rows.
 */
export class ParquetTableWriter {
  private readonly columns: AnyColumn[];
  /** The table's columns by name, for its column writer. */
  readonly columnSet: ColumnSet;
  private rowsInGroup = 0;
  private part: number;
  private open: ParquetPartWriter | undefined;

  constructor(
    private readonly table: SchemaTable,
    private readonly range: { first: number; last: number },
    private readonly usersPerPart: number,
    private readonly openPart: (part: number) => PartSink,
  ) {
    this.columns = table.columns.map((c) => columnBuffer(c, ROW_GROUP_ROWS));
    const byName = new Map(table.columns.map((c, j) => [c.name, this.columns[j]]));
    this.columnSet = {
      get: (name, kind) => {
        const column = byName.get(name);
        if (!(column instanceof kind)) throw new Error(`${table.name}.${name} is not a ${kind.name} in schema.json`);
        return column;
      },
    };
    this.part = range.first;
  }

  /**
   * A user's rows, by `writer`; undefined when done without writing out a row group (no promise
   * per user), else the promise of the rest.
   */
  addUser(batch: UserBatch, txnFrom: number, writer: UserColumnWriter): Promise<void> | undefined {
    const part = Math.floor((batch.userId - 1) / this.usersPerPart);
    writer.start(batch, txnFrom);
    if (part !== this.part) return this.endPart(part).then(() => this.fill(writer));
    return this.fill(writer);
  }

  /** Rows that belong to no user (the items table's), fewer than a row group, pushed by `push`. */
  addFixedRows(rows: number, push: (columns: ColumnSet) => void): void {
    if (this.rowsInGroup + rows > ROW_GROUP_ROWS) throw new Error(`${this.table.name}: too many fixed rows`);
    push(this.columnSet);
    this.rowsInGroup += rows;
  }

  /** Ends the last part, and writes any part of the range left with no rows. */
  async finish(): Promise<void> {
    await this.endPart(this.range.last + 1);
  }

  /** Writes the started user's rows on, writing out each row group that fills. */
  private fill(writer: UserColumnWriter): Promise<void> | undefined {
    while (!writer.done) {
      this.rowsInGroup += writer.write(ROW_GROUP_ROWS - this.rowsInGroup);
      if (this.rowsInGroup === ROW_GROUP_ROWS) return this.flushGroup().then(() => this.fill(writer));
    }
    return undefined;
  }

  /** Ends the current part (and any empty ones before `next`): `next` is the part the next row goes to. */
  private async endPart(next: number): Promise<void> {
    if (next < this.part || next > this.range.last + 1)
      throw new Error(
        `${this.table.name}: a row of part ${next} after part ${this.part} (parts ${this.range.first}..${this.range.last})`,
      );
    for (; this.part < next; this.part++) {
      await this.flushGroup();
      await this.openedPart().finish();
      this.open = undefined;
    }
  }

  private openedPart(): ParquetPartWriter {
    return (this.open ??= new ParquetPartWriter(this.table, this.openPart(this.part)));
  }

  private async flushGroup(): Promise<void> {
    const rows = this.rowsInGroup;
    if (rows === 0) return;
    await this.openedPart().writeRowGroup(
      this.columns.map((c) => c.encode(rows)),
      rows,
    );
    this.rowsInGroup = 0;
  }
}

/**
 * Every table's Parquet parts over users `from..to`, from the users' batches (and the items
 * table's fixed rows, by whoever writes part 0): where the rows are encoded, in this thread or a
 * worker's.
 */
export class ParquetTables {
  /** The per-user tables the config writes, each with its column writer. */
  private readonly userTables: Array<{ table: ParquetTableWriter; writer: UserColumnWriter }>;
  private readonly items: ParquetTableWriter | undefined;
  private readonly batches = new PackedBatches();

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
    this.userTables = USER_TABLES.filter((t) => isWritten(t, config)).map((t: UserTable) => {
      const table = writerOf(t.file, range);
      return { table, writer: t.columnWriter(config, table.columnSet) };
    });
    this.items = range.first === 0 ? writerOf(TABLES.items.file, { first: 0, last: 0 }) : undefined;
  }

  /** The next users' rows of every table, from their batches. */
  async append({ block, txnFrom }: UserBlock): Promise<void> {
    this.batches.load(block);
    let txn = txnFrom;
    for (const batch of this.batches.batches()) {
      for (const { table, writer } of this.userTables) {
        const rest = table.addUser(batch, txn, writer);
        if (rest) await rest;
      }
      txn += batch.uploadCount;
    }
  }

  /** Ends every table's parts. */
  async finish(): Promise<void> {
    if (this.items) {
      this.items.addFixedRows(ITEMS.length, (columns) => {
        const itemId = columns.get('item_id', Int64Column);
        const sizeGb = columns.get('size_gb', Int64Column);
        for (const item of ITEMS) {
          itemId.push(item.itemId);
          sizeGb.push(item.sizeGb);
        }
      });
      await this.items.finish();
    }
    for (const { table } of this.userTables) await table.finish();
  }
}
