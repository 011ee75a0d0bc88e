import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CliError } from './cli-error.js';

/** Refuses an output folder (`--dest`, `--out`) that is empty, a file or cannot be written, before any work. */
export async function checkOutputFolder(dir: string, flag: string): Promise<void> {
  // An empty path would resolve to the current folder: most likely an unset shell variable.
  if (dir === '') throw new CliError(`${flag} '': must not be empty (name a folder, e.g. ./out)`);
  let path = resolve(dir);
  for (;;) {
    const info = await stat(path).catch(() => undefined);
    if (info) {
      if (!info.isDirectory()) throw new CliError(`${flag} ${dir}: ${path} exists and is not a folder`);
      try {
        await access(path, constants.W_OK | constants.X_OK);
      } catch {
        throw new CliError(`${flag} ${dir}: ${path} is not writable`);
      }
      return;
    }
    const parent = dirname(path);
    if (parent === path) return;
    path = parent;
  }
}
