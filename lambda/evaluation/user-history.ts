import { ITEMS, TABLES } from '../layout/tables.js';
import type { DatasetStorage } from '../storage/storage.js';
import { DatasetFileError, readDatasetCsv, UserBlockReader } from '../dataset/dataset-csv.js';
import { TimestampReader } from './timestamp-reader.js';
import type { UserHistory, Window } from '../tasks/user-history.js';

const LARGE_ITEM_ID = String(ITEMS[1].itemId);

/**
 * Every user's history, user by user: tiers.csv and uploads.csv are both sorted by user id, so
 * they are merge-joined with one user's rows in memory at a time.
 */
export async function* readUserHistories(
  storage: DatasetStorage,
  prefix: string,
  window: Window,
): AsyncGenerator<UserHistory> {
  const uploads = new UserBlockReader(
    readDatasetCsv(storage, `${prefix}/${TABLES.uploads.file}`, TABLES.uploads.columns),
    TABLES.uploads.file,
    1,
  );
  const tiers = readDatasetCsv(storage, `${prefix}/${TABLES.tiers.file}`, TABLES.tiers.columns);
  const time = new TimestampReader();
  let current: UserHistory | undefined;
  for await (const { line, fields } of tiers) {
    const [user, fromText, untilText, tier] = fields;
    const userId = Number(user);
    const from = time.read(fromText);
    const until = untilText === '' ? window.end : time.read(untilText);
    if (
      !Number.isInteger(userId) ||
      from === undefined ||
      until === undefined ||
      (tier !== 'free' && tier !== 'premium')
    ) {
      throw new DatasetFileError(`${TABLES.tiers.file} line ${line}: not a tier row: ${fields.join(',')}`);
    }
    if (current?.userId !== userId) {
      if (current) yield await withUploads(current, uploads, time);
      current = { userId, intervals: [], largeUploads: [] };
    }
    current.intervals.push({ from, until, premium: tier === 'premium' });
  }
  if (current) yield await withUploads(current, uploads, time);
}

async function withUploads(user: UserHistory, uploads: UserBlockReader, time: TimestampReader): Promise<UserHistory> {
  for (const [, , item, datetime] of await uploads.rowsOf(user.userId)) {
    if (item !== LARGE_ITEM_ID) continue;
    const at = time.read(datetime);
    if (at === undefined)
      throw new DatasetFileError(
        `${TABLES.uploads.file}: user ${user.userId} has an upload at ${JSON.stringify(datetime)}`,
      );
    user.largeUploads.push(at);
  }
  user.intervals.sort((a, b) => a.from - b.from);
  user.largeUploads.sort((a, b) => a - b);
  return user;
}
