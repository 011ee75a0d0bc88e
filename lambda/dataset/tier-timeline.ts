import type { DatasetStorage } from '../storage/storage.js';
import type { Tier } from '../engine/user-batch.js';
import { datasetCsvRows, UserBlockReader } from './dataset-csv.js';
import { TABLES } from '../layout/tables.js';

export interface TierSpan {
  tier: Tier;
  from: string;
  /** Exclusive end; null when tiers.csv leaves it empty (`openEndedTiers`): still in effect. */
  until: string | null;
}

/** Joins adjacent intervals of the same tier (the notebook's `get_user_tier_summary`). */
export function mergeTierTimeline(intervals: readonly TierSpan[]): TierSpan[] {
  const merged: TierSpan[] = [];
  for (const span of intervals) {
    const last = merged.at(-1);
    if (last && last.tier === span.tier && last.until === span.from) last.until = span.until;
    else merged.push({ ...span });
  }
  return merged;
}

/**
 * A user's merged tier timeline read from a published `tiers.csv`, or undefined when the dataset
 * has no such file. Rows are sorted by user, so reading stops after the user's block.
 */
export async function readUserTimeline(
  storage: DatasetStorage,
  prefix: string,
  userId: number,
): Promise<TierSpan[] | undefined> {
  const key = `${prefix}/${TABLES.tiers.file}`;
  const stream = await storage.readStream(key);
  if (!stream) return undefined;
  const rows = datasetCsvRows(stream, storage.describe(key), TABLES.tiers.columns);
  let block: string[][];
  try {
    block = await new UserBlockReader(rows, storage.describe(key)).rowsOf(userId);
  } finally {
    await rows.return(undefined);
  }
  const spans = block.map(([, from, until, tier]): TierSpan => ({
    tier: tier as Tier,
    from,
    until: until === '' ? null : until,
  }));
  return mergeTierTimeline(spans);
}
