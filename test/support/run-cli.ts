import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real CLI as `npm run cli` does (`node bin/tierdrift.mjs ...`), from the repo root unless told. */
export function runCli(args: string[], env: Record<string, string | undefined> = {}, cwd = REPO): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`${REPO}bin/tierdrift.mjs`, ...args],
      { cwd, env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0', ...env }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
