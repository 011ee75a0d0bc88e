import { LocalFolderStorage } from '../storage/local-folder-storage.js';
import { isS3Uri, readS3Uri } from '../storage/s3-location.js';
import type { DatasetStorage } from '../storage/storage.js';
import { CliError } from './cli-error.js';
import { checkOutputFolder } from './output-folder.js';

/** A storage and a key prefix in it: where datasets are published, or where one dataset lies. */
export interface StorageTarget {
  storage: DatasetStorage;
  /** Key prefix under the storage root; empty for the root itself. */
  prefix: string;
}

/** `generate --dest`: an s3://bucket[/root] or a folder (refused when empty, a file or not writable). */
export async function publishTarget(dest: string): Promise<StorageTarget> {
  if (isS3Uri(dest)) return await s3Target(dest, '--dest', false);
  await checkOutputFolder(dest, '--dest');
  return { storage: new LocalFolderStorage(dest), prefix: '' };
}

/** A published dataset named by `s3://bucket/<its prefix>` or by its folder. */
export async function datasetTarget(location: string): Promise<StorageTarget> {
  if (isS3Uri(location)) return await s3Target(location, 'dataset', true);
  return { storage: new LocalFolderStorage(location), prefix: '.' };
}

async function s3Target(uri: string, what: string, needsPrefix: boolean): Promise<StorageTarget> {
  const reading = readS3Uri(uri);
  if (!reading.ok) throw new CliError(`${what} ${uri}: not a valid S3 location: ${reading.problem}`);
  const { location } = reading;
  if (needsPrefix && !location.root)
    throw new CliError(`${what} ${uri}: not a valid S3 location: expected s3://<bucket>/<dataset prefix>`);
  // Loaded on demand: the AWS SDK takes about 0.3 s to load, which folder-only runs need not pay.
  const [{ S3Storage }, { createS3Client }] = await Promise.all([
    import('../storage/s3-storage.js'),
    import('../storage/s3-client.js'),
  ]);
  return { storage: new S3Storage(createS3Client(), location.bucket), prefix: location.root };
}
