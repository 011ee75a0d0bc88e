// Which sources a cached build was made from: each file's path, modification time and size under
// the given entries (files or folders, relative to the project root), as a short hash.
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

export function sourceFingerprint(entries) {
  const files = entries.flatMap((entry) =>
    statSync(`${PROJECT_ROOT}${entry}`).isDirectory()
      ? readdirSync(`${PROJECT_ROOT}${entry}`, { recursive: true }).map((f) => `${entry}/${f}`)
      : [entry],
  );
  const fingerprint = createHash('sha256');
  for (const file of files.sort()) {
    const { mtimeMs, size } = statSync(`${PROJECT_ROOT}${file}`);
    fingerprint.update(`${file}\0${mtimeMs}\0${size}\n`);
  }
  return fingerprint.digest('hex').slice(0, 16);
}
