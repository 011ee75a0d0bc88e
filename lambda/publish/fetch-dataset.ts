import { parseManifest, type Manifest, type ManifestFile } from '../dataset/manifest.js';
import { MANIFEST_FILE } from '../layout/tables.js';
import { fileKey, manifestKey } from '../layout/key-layout.js';
import { writeObject, type DatasetStorage } from '../storage/storage.js';
import { ContentDigest, sameDigest } from './file-digest.js';

/** The dataset cannot be fetched as published: no manifest, or a file missing or not as the manifest says. */
export class DatasetFetchError extends Error {
  constructor(
    message: string,
    /** The file at fault, when there is one. */
    readonly file?: string,
  ) {
    super(message);
    this.name = 'DatasetFetchError';
  }
}

// Names come from the manifest, which is data: keep them inside the destination. A name is a
// relative path of plain segments (`tasks/upload_50gb_next_hour.csv`): no `.` or `..` segment, no
// empty one (so no leading `/`), no backslash.
const PLAIN_SEGMENT = /^[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
const isPlainRelativePath = (name: unknown): boolean =>
  typeof name === 'string' && name.split('/').every((s) => PLAIN_SEGMENT.test(s));

/** Why the manifest's file names cannot be trusted as keys under the dataset, or undefined when they can. */
export function unsafeFileName(manifest: Manifest): string | undefined {
  const unsafe = manifest.files.find((f) => !isPlainRelativePath(f.name));
  return unsafe && `the manifest lists a file name that is not a plain relative path: ${JSON.stringify(unsafe.name)}`;
}

/**
 * Copies a published dataset from `source` (its `prefix`) to the root of `destination`: every file
 * its manifest lists (subfolders too, e.g. `truth/users.csv`), each checked against the manifest's
 * size and SHA-256 while it streams and committed only when it matches, then the manifest itself, last, so the destination is a dataset
 * only once every file arrived intact. Throws DatasetFetchError, having committed nothing of the
 * file at fault, when there is no manifest (an incomplete dataset) or a file is missing or differs.
 */
export async function fetchDataset(
  source: DatasetStorage,
  prefix: string,
  destination: DatasetStorage,
): Promise<Manifest> {
  const manifestBytes = await source.read(manifestKey(prefix));
  if (!manifestBytes) {
    throw new DatasetFetchError(
      `no ${MANIFEST_FILE} at ${source.describe(prefix)}: not a published dataset (or not a complete one)`,
    );
  }
  const manifest = parseManifest(manifestBytes);
  const unsafe = unsafeFileName(manifest);
  if (unsafe !== undefined) throw new DatasetFetchError(unsafe);

  for (const file of manifest.files) await copyVerified(source, fileKey(prefix, file.name), destination, file);
  await writeObject(destination, MANIFEST_FILE, (writer) => writer.write(manifestBytes));
  return manifest;
}

async function copyVerified(
  source: DatasetStorage,
  key: string,
  destination: DatasetStorage,
  expected: ManifestFile,
): Promise<void> {
  const stream = await source.readStream(key);
  if (!stream)
    throw new DatasetFetchError(
      `${expected.name}: listed in the manifest but missing at ${source.describe(key)}`,
      expected.name,
    );
  await writeObject(destination, expected.name, async (writer) => {
    const content = new ContentDigest();
    for await (const chunk of stream) {
      content.update(chunk);
      // Stop as soon as the object is longer than it should be, rather than download it all.
      if (content.bytes > expected.bytes) break;
      await writer.write(chunk);
    }
    const actual = content.digest();
    if (!sameDigest(actual, expected)) {
      throw new DatasetFetchError(
        `${expected.name}: does not match the manifest (expected ${expected.bytes} bytes, sha256 ${expected.sha256}; ` +
          `got ${content.bytes > expected.bytes ? `more than ${expected.bytes} bytes` : `${actual.bytes} bytes, sha256 ${actual.sha256}`})`,
        expected.name,
      );
    }
  });
}
