import type { DatasetStorage } from '../storage/storage.js';
import { MANIFEST_FILE } from '../layout/tables.js';
import { fileKey, manifestKey } from '../layout/key-layout.js';
import type { Manifest } from '../dataset/manifest.js';
import { unsafeFileName } from './fetch-dataset.js';
import { ContentDigest, sameDigest, type FileDigest } from './file-digest.js';
import { readManifest } from './publish-dataset.js';

export type FileVerification = { name: string; expected: FileDigest } & (
  { status: 'ok' | 'mismatch'; actual: FileDigest } | { status: 'missing' }
);

export type DatasetVerification =
  { complete: false; reason: string } | { complete: true; ok: boolean; manifest: Manifest; files: FileVerification[] };

/** Re-hashes every file a dataset's manifest lists and compares size and SHA-256. */
export async function verifyDataset(storage: DatasetStorage, prefix: string): Promise<DatasetVerification> {
  const manifest = await readManifest(storage, manifestKey(prefix));
  if (!manifest)
    return { complete: false, reason: `no ${MANIFEST_FILE} at ${storage.describe(prefix)}: not a published dataset` };
  // Files may be in subfolders (truth/, tasks/); names that would leave the dataset are refused.
  const unsafe = unsafeFileName(manifest);
  if (unsafe !== undefined) return { complete: false, reason: unsafe };
  const files: FileVerification[] = [];
  for (const file of manifest.files) {
    const expected = { bytes: file.bytes, sha256: file.sha256 };
    const stream = await storage.readStream(fileKey(prefix, file.name));
    if (!stream) {
      files.push({ name: file.name, status: 'missing', expected });
      continue;
    }
    const content = new ContentDigest();
    for await (const chunk of stream) content.update(chunk);
    const actual = content.digest();
    files.push({ name: file.name, status: sameDigest(actual, expected) ? 'ok' : 'mismatch', expected, actual });
  }
  return { complete: true, ok: files.every((f) => f.status === 'ok'), manifest, files };
}
