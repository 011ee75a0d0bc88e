import { tierName, type UserBatch } from '../engine/user-batch.js';
import type { CsvBuffer } from './csv-buffer.js';
import { ITEMS, TABLES, type TableName } from './tables.js';

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

export function writeUploadRows(batch: UserBatch, out: CsvBuffer): void {
  out.reserve(MAX_UPLOAD_ROW * batch.uploadCount);
  // `,<user_id>,` is the same in every row of the batch: write it once, then copy it.
  let userStart = 0;
  let userLength = 0;
  for (let j = 0; j < batch.uploadCount; j++) {
    out.uint(batch.uploadTxnId[j]);
    if (j === 0) {
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
}
