import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { CliError } from './cli-error.js';

/** Refuses a `--dest` that is a file or cannot be written, before anything is generated. */
export async function checkDestFolder(dest: string): Promise<void> {
  let path = resolve(dest);
  for (;;) {
    const info = await stat(path).catch(() => undefined);
    if (info) {
      if (!info.isDirectory()) throw new CliError(`--dest ${dest}: ${path} exists and is not a folder`);
      try {
        await access(path, constants.W_OK | constants.X_OK);
      } catch {
        throw new CliError(`--dest ${dest}: ${path} is not writable`);
      }
      return;
    }
    const parent = dirname(path);
    if (parent === path) return;
    path = parent;
  }
}
