import { withCheckNotes, type Manifest } from '../dataset/manifest.js';
import { fileKey } from '../layout/key-layout.js';
import type { PublishedDataset } from './dataset-store.js';
import type { UrlSigner } from './url-signer.js';

export interface DownloadLinks {
  signer: UrlSigner;
  expiresInSeconds: number;
  now: Date;
}

/**
 * What the API answers for a published dataset: where it is, its manifest (a failed check of known
 * cause explained in its `note`), and a download URL per file.
 */
export interface DatasetDescription {
  datasetId: string;
  status: 'published';
  prefix: string;
  manifestKey: string;
  manifest: Manifest;
  files: { name: string; bytes: number; sha256: string; url: string }[];
  urlsExpireAt: string;
}

export async function describeDataset(dataset: PublishedDataset, links: DownloadLinks): Promise<DatasetDescription> {
  const files = await Promise.all(
    dataset.manifest.files.map(async (file) => ({
      name: file.name,
      bytes: file.bytes,
      sha256: file.sha256,
      url: await links.signer.signGet(fileKey(dataset.prefix, file.name), links.expiresInSeconds),
    })),
  );
  return {
    datasetId: dataset.datasetId,
    status: 'published',
    prefix: dataset.prefix,
    manifestKey: dataset.manifestKey,
    manifest: withCheckNotes(dataset.manifest),
    files,
    urlsExpireAt: new Date(links.now.getTime() + links.expiresInSeconds * 1000).toISOString(),
  };
}
