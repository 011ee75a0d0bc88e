import { rootedKey, findPublished, type DatasetStore } from './dataset-store.js';

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
 * hold fewer than `limit` datasets while `nextToken` still leads further.
 */
export async function listDatasets(store: DatasetStore, seed: number, limit: number, token?: string): Promise<DatasetPage> {
  const page = await store.storage.list(rootedKey(store.root, `seed=${seed}/`), { delimiter: '/', limit, token });
  const found = await Promise.all(page.prefixes.map((folder) => findPublished(store, folder.replace(/\/$/, ''))));
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
  return page.nextToken === undefined ? { datasets } : { datasets, nextToken: page.nextToken };
}

/** When a copy was committed: its generation's start plus its duration. */
export function publishedAt(generation: { startedAt: string; durationMs: number }): string {
  return new Date(Date.parse(generation.startedAt) + generation.durationMs).toISOString();
}
