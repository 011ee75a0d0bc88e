import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import type { DatasetStorage } from '../storage/storage.js';
import type { Tier } from '../engine/user-batch.js';
import { TABLES } from './tables.js';

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
    const last = merged[merged.length - 1];
    if (last && last.tier === span.tier && last.until === span.from) last.until = span.until;
    else merged.push({ ...span });
  }
  return merged;
}

/**
 * A user's merged tier timeline read from a published `tiers.csv`, or undefined when the dataset
 * has no such file. Rows are sorted by user, so reading stops after the user's block.
 */
export async function readUserTimeline(storage: DatasetStorage, prefix: string, userId: number): Promise<TierSpan[] | undefined> {
  const stream = await storage.readStream(`${prefix}/${TABLES.tiers.file}`);
  if (!stream) return undefined;
  const source = Readable.from(stream);
  const lines = createInterface({ input: source, crlfDelay: Infinity });
  const spans: TierSpan[] = [];
  let header = true;
  for await (const line of lines) {
    if (header) {
      header = false;
      continue;
    }
    const [user, from, until, tier] = line.split(',');
    const id = Number(user);
    if (id === userId) spans.push({ tier: tier as Tier, from, until: until === '' ? null : until });
    else if (id > userId) break;
  }
  source.destroy();
  return mergeTierTimeline(spans);
}
