import { prefixOfDatasetId } from '../config/dataset-id.js';
import type { Manifest } from '../dataset/manifest.js';
import { manifestKey as manifestKeyOf, rootedKey } from '../layout/key-layout.js';
import { readManifest, type PublishOutcome } from '../publish/publish-dataset.js';
import type { DatasetStorage } from '../storage/storage.js';

/** Where the datasets live: a storage and the key prefix (e.g. `tierdrift`) they are published under. */
export interface DatasetStore {
  storage: DatasetStorage;
  root: string;
}

/** Key of a dataset's folder, or undefined when the id is malformed. */
export function prefixOf(store: DatasetStore, datasetId: string): string | undefined {
  const relative = prefixOfDatasetId(datasetId);
  return relative === undefined ? undefined : rootedKey(store.root, relative);
}

/** A published dataset as found in storage. */
export interface PublishedDataset {
  datasetId: string;
  prefix: string;
  manifestKey: string;
  manifest: Manifest;
}

/** The published dataset under a prefix, or undefined when it has no manifest (yet). */
export async function findPublished(store: DatasetStore, prefix: string): Promise<PublishedDataset | undefined> {
  const manifestKey = manifestKeyOf(prefix);
  const manifest = await readManifest(store.storage, manifestKey);
  return manifest && { datasetId: manifest.datasetId, prefix, manifestKey, manifest };
}

export function publishedOf(outcome: PublishOutcome): PublishedDataset {
  return {
    datasetId: outcome.address.datasetId,
    prefix: outcome.prefix,
    manifestKey: outcome.manifestKey,
    manifest: outcome.manifest,
  };
}
