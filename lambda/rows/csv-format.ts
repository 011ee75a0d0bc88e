import { startedBatch, tierName, type UserBatch } from '../engine/user-batch.js';
import type { CsvBuffer } from './csv-buffer.js';
import { ITEMS, TABLES, type TableName } from '../layout/tables.js';

/**
 * CSV exactly as Python's csv module (and csv-stringify with `record_delimiter: '\r\n'`) writes
 * these tables: comma-separated, every row ending in CRLF. No field of these tables can contain
 * a comma, quote or line break (integers, timestamps, tier names, "User NNN"), so none is ever
 * quoted; test/csv-format.test.ts proves the bytes equal csv-stringify's.
 */
const EOL = '\r\n';

/** The header row of one of the four tables, or of any table given by its columns. */
export function headerLine(table: TableName | { columns: readonly string[] }): string {
  const { columns } = typeof table === 'string' ? TABLES[table] : table;
  return columns.join(',') + EOL;
}

export function itemLines(): string {
  return ITEMS.map((i) => `${i.itemId},${i.sizeGb}${EOL}`).join('');
}

// Worst-case bytes of one row, to reserve before writing it.
const MAX_TIER_ROW = 16 + 1 + 20 + 1 + 20 + 1 + 7 + 2;
const MAX_UPLOAD_ROW = 16 + 1 + 16 + 1 + 3 + 1 + 20 + 2;

/**
 * Writes one user's rows of a table, resumably, so that no buffer grows with one user's row
 * count: `start` a user, then `write` until `done`, each call stopping once `out` holds `limit`
 * bytes (so it ends below `limit` + one row). The user's batch must stay valid until `done`.
 */
export interface UserRowWriter {
  start(batch: UserBatch): void;
  /** Writes the started user's next rows into `out` until they are all written or `out.length` reaches `limit`; returns how many. */
  write(out: CsvBuffer, limit: number): number;
  /** Whether the started user's rows are all written. */
  readonly done: boolean;
}

/** A table of a few rows per user (at most the 3 tier intervals), written whole by `rows`, which returns how many. */
export class FewRowsWriter implements UserRowWriter {
  done = true;
  private batch: UserBatch | undefined;

  constructor(private readonly rows: (batch: UserBatch, out: CsvBuffer) => number) {}

  start(batch: UserBatch): void {
    this.batch = batch;
    this.done = false;
  }

  write(out: CsvBuffer): number {
    this.done = true;
    return this.rows(startedBatch(this.batch), out);
  }
}

/** A table this thread does not format: no rows. */
export const NO_ROWS: UserRowWriter = { start() {}, write: () => 0, done: true };

/** A user's name: `User {uid:03d}` (written byte by byte by `writeUserRow`). */
export function userName(userId: number): string {
  return `User ${String(userId).padStart(3, '0')}`;
}

/** `user_id,User {uid:03d}`. */
export function writeUserRow(batch: UserBatch, out: CsvBuffer): void {
  out.reserve(48);
  out.uint(batch.userId);
  out.ascii(',User ');
  out.uint(batch.userId, 3);
  out.eol();
}

/**
 * `user_id,from_datetime,until_datetime,tier`. With `openEnded` (config `openEndedTiers`) the
 * user's last interval, which ends at the window's end, gets an empty until_datetime: "still in
 * effect", as KumoRFM's end-time columns read it. Only the text changes, not the values.
 */
export function writeTierRows(batch: UserBatch, out: CsvBuffer, openEnded = false): void {
  out.reserve(MAX_TIER_ROW * batch.tierCount);
  const last = batch.tierCount - 1;
  for (let t = 0; t <= last; t++) {
    out.uint(batch.userId);
    out.comma();
    out.timestamp(batch.tierFrom[t]);
    out.comma();
    if (!(openEnded && t === last)) out.timestamp(batch.tierUntil[t]);
    out.comma();
    out.ascii(tierName(batch.tierIsPremium[t]));
    out.eol();
  }
}

/**
 * The upload rows `from`.. of a batch (txn ids numbered already), stopping once `out` holds
 * `limit` bytes; returns the index of the next row to write (`uploadCount` when all are written).
 */
export function writeUploadRows(batch: UserBatch, out: CsvBuffer, from = 0, limit = Infinity): number {
  const end = batch.uploadCount;
  // Stopping at `limit`, a call writes less than (limit - length) + one row.
  out.reserve(Math.min(MAX_UPLOAD_ROW * (end - from), Math.max(0, limit - out.length) + MAX_UPLOAD_ROW));
  // `,<user_id>,` is the same in every row of the batch: write it once per call, then copy it.
  let userStart = 0;
  let userLength = 0;
  let j = from;
  for (; j < end && out.length < limit; j++) {
    out.uint(batch.uploadTxnId[j]);
    if (j === from) {
      userStart = out.length;
      out.comma();
      out.uint(batch.userId);
      out.comma();
      userLength = out.length - userStart;
    } else out.repeat(userStart, userLength);
    out.uint(batch.uploadItemId[j]);
    out.comma();
    out.timestamp(batch.uploadAt[j]);
    out.eol();
  }
  return j;
}

/** uploads.csv, resumable within a user (a user may have millions of uploads). */
export class UploadRowWriter implements UserRowWriter {
  done = true;
  private batch: UserBatch | undefined;
  private next = 0;

  start(batch: UserBatch): void {
    this.batch = batch;
    this.next = 0;
    this.done = batch.uploadCount === 0;
  }

  write(out: CsvBuffer, limit: number): number {
    const batch = startedBatch(this.batch);
    const from = this.next;
    this.next = writeUploadRows(batch, out, from, limit);
    this.done = this.next === batch.uploadCount;
    return this.next - from;
  }
}
