import { readUserTimeline, type TierSpan } from '../dataset/tier-timeline.js';
import type { DatasetStore, PublishedDataset } from './dataset-store.js';

/**
 * A user's merged tier timeline in a published dataset, or undefined when the dataset has no such
 * user. With `openEndedTiers` the last span's `until` is null (JSON `null`): still in effect.
 */
export async function userTiers(
  store: DatasetStore,
  dataset: PublishedDataset,
  userId: number,
): Promise<TierSpan[] | undefined> {
  if (userId < 1 || userId > dataset.manifest.config.users) return undefined;
  const timeline = await readUserTimeline(store.storage, dataset.prefix, userId);
  return timeline && timeline.length > 0 ? timeline : undefined;
}
