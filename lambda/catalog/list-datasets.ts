import { seedPrefix as seedPrefixOf } from '../layout/key-layout.js';
import { findPublished, type DatasetStore } from './dataset-store.js';

export interface DatasetSummary {
  datasetId: string;
  prefix: string;
  configHash: string;
  users: number;
  checksPassed: boolean;
  publishedAt: string;
}

export interface DatasetPage {
  datasets: DatasetSummary[];
  /** Pass back as `nextToken` for the next page; absent on the last one. */
  nextToken?: string;
}

/**
 * One page of the datasets published for a seed: the config-hash folders under `<root>/seed=N/`.
 * Folders without a manifest (a run in progress, or one that died) are left out, so a page may
 * hold fewer than `limit` datasets while `nextToken` still leads further. The token is the config
 * hash of the page's last folder (`CONFIG_HASH`, so a caller can check it); the next page starts
 * after every key in that folder: `<hash>0` sorts after `<hash>/…` ('0' follows '/') and before
 * any later hash.
 */
export async function listDatasets(
  store: DatasetStore,
  seed: number,
  limit: number,
  after?: string,
): Promise<DatasetPage> {
  const seedPrefix = seedPrefixOf(store.root, seed);
  const startAfter = after === undefined ? undefined : `${seedPrefix}${after}0`;
  const page = await store.storage.list(seedPrefix, { delimiter: '/', limit, startAfter });
  const folders = page.prefixes.map((folder) => folder.replace(/\/$/, ''));
  const found = await Promise.all(folders.map((folder) => findPublished(store, folder)));
  const datasets = found.flatMap((d) =>
    d
      ? [
          {
            datasetId: d.datasetId,
            prefix: d.prefix,
            configHash: d.manifest.configHash,
            users: d.manifest.config.users,
            checksPassed: d.manifest.checksPassed,
            publishedAt: publishedAt(d.manifest.generation),
          },
        ]
      : [],
  );
  const last = folders.at(-1);
  return page.nextToken === undefined || last === undefined
    ? { datasets }
    : { datasets, nextToken: last.slice(seedPrefix.length) };
}

/** When a copy was committed: its generation's start plus its duration. */
export function publishedAt(generation: { startedAt: string; durationMs: number }): string {
  return new Date(Date.parse(generation.startedAt) + generation.durationMs).toISOString();
}
