import type { Cohort } from '../engine/cohorts.js';
import { tierName, type UserBatch } from '../engine/user-batch.js';
import { writeTierRows, writeUploadRows, writeUserRow } from '../dataset/csv-format.js';
import type { IntegrityChecker } from '../dataset/integrity-checks.js';
import type { DigestingFileWriter } from './file-digest.js';

export type RowTables = Record<'users' | 'tiers' | 'uploads', DigestingFileWriter>;

/**
 * Writes one user's rows and feeds them to the integrity checker, numbering the user's uploads
 * from `nextTxnId`: txn ids are assigned here, by the consumer, over batches in user order, so
 * they form one gap-free sequence whatever produced the batches (one engine call, blocks on
 * worker threads, or shards with a known offset). Returns the next txn id.
 */
export function writeBatch(
  batch: UserBatch,
  out: RowTables,
  checker: IntegrityChecker,
  usersPerCohort: Record<`${Cohort}`, number>,
  nextTxnId: number,
): number {
  const txnIds = batch.uploadTxnId;
  for (let j = 0; j < batch.uploadCount; j++) txnIds[j] = nextTxnId + j;
  usersPerCohort[batch.cohort]++;
  checker.addUser(batch.userId);
  for (let t = 0; t < batch.tierCount; t++) {
    checker.addTier(batch.userId, batch.tierFrom[t], batch.tierUntil[t], tierName(batch.tierIsPremium[t]));
  }
  for (let j = 0; j < batch.uploadCount; j++) {
    checker.addUpload(txnIds[j], batch.userId, batch.uploadItemId[j], batch.uploadAt[j]);
  }
  writeUserRow(batch, out.users.buffer);
  out.users.rows += 1;
  writeTierRows(batch, out.tiers.buffer);
  out.tiers.rows += batch.tierCount;
  writeUploadRows(batch, out.uploads.buffer);
  out.uploads.rows += batch.uploadCount;
  return nextTxnId + batch.uploadCount;
}

/** Flushes the full buffers (back-pressure from the writers). */
export async function flushFull(out: RowTables): Promise<void> {
  for (const table of ['users', 'tiers', 'uploads'] as const) if (out[table].full) await out[table].flush();
}
