import { TimestampFormatter } from '../time/utc-timestamp.js';
import { tierName, type UserBatch } from '../engine/user-batch.js';
import { ITEMS, TABLES, type TableName } from './tables.js';

/**
 * CSV text exactly as Python's csv module (and csv-stringify with `record_delimiter: '\r\n'`)
 * writes these tables: comma-separated, every row ending in CRLF. No field of these tables can
 * contain a comma, quote or line break (integers, timestamps, tier names, "User NNN"), so no
 * field is ever quoted; test/csv-format.test.ts proves the bytes equal csv-stringify's.
 */
const EOL = '\r\n';

export function headerLine(table: TableName): string {
  return TABLES[table].columns.join(',') + EOL;
}

export function itemLines(): string {
  return ITEMS.map((i) => `${i.itemId},${i.sizeGb}${EOL}`).join('');
}

/** `User {uid:03d}`. */
export function userName(userId: number): string {
  return userId < 10 ? `User 00${userId}` : userId < 100 ? `User 0${userId}` : `User ${userId}`;
}

export class BatchFormatter {
  // Separate caches: tier bounds jump across days, a user's uploads move forward through them.
  private readonly tierTimes = new TimestampFormatter();
  private readonly uploadTimes = new TimestampFormatter();

  userLine(batch: UserBatch): string {
    return `${batch.userId},${userName(batch.userId)}${EOL}`;
  }

  tierLines(batch: UserBatch): string {
    let text = '';
    for (let t = 0; t < batch.tierCount; t++) {
      text +=
        batch.userId + ',' + this.tierTimes.format(batch.tierFrom[t]) + ',' +
        this.tierTimes.format(batch.tierUntil[t]) + ',' + tierName(batch.tierIsPremium[t]) + EOL;
    }
    return text;
  }

  uploadLines(batch: UserBatch): string {
    let text = '';
    const user = ',' + batch.userId + ',';
    for (let j = 0; j < batch.uploadCount; j++) {
      text += batch.uploadTxnId[j] + user + batch.uploadItemId[j] + ',' + this.uploadTimes.format(batch.uploadAt[j]) + EOL;
    }
    return text;
  }
}
