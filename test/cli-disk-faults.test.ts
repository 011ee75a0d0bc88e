import { execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO, runCli } from './support/run-cli.js';

/** Enough users for a run of a few seconds (about 70 MB), so that it can be caught at each stage. */
const USERS = 30_000;
const generate = (dest: string): string[] => ['generate', '--users', String(USERS), '--dest', dest, '--workers', '1'];

/** What a look at the folder found: each file and its size. */
type Seen = Array<{ path: string; bytes: number }>;

interface ManifestFile {
  name: string;
  bytes: number;
  rows: number;
  sha256: string;
}

/** Every file under `dir` (relative paths) with its size. */
function files(dir: string): Seen {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[])
    .map((path) => {
      try {
        const stat = statSync(join(dir, path));
        return stat.isFile() ? { path, bytes: stat.size } : undefined;
      } catch {
        return undefined; // renamed or removed while we looked
      }
    })
    .filter((f) => f !== undefined);
}
const temps = (dir: string): string[] =>
  files(dir)
    .filter((f) => f.path.includes('.tmp-'))
    .map((f) => f.path);

/** The dataset folder under `dest` (the one with manifest.json) and its manifest's files. */
function published(dest: string): { folder: string; files: ManifestFile[] } {
  const manifest = files(dest).find((f) => f.path.endsWith('manifest.json'));
  if (!manifest) throw new Error(`no manifest under ${dest}`);
  const path = join(dest, manifest.path);
  return { folder: dirname(path), files: (JSON.parse(readFileSync(path, 'utf8')) as { files: ManifestFile[] }).files };
}

/**
 * Starts `generate` into `dest`, polls the folder and SIGKILLs the process once `ready` says so.
 * Resolves with what the folder held at the kill; fails if the run ended on its own first.
 */
function killWhen(dest: string, ready: (seen: Seen) => boolean): Promise<string[]> {
  const child = spawn(process.execPath, ['bin/tierdrift.mjs', ...generate(dest)], { cwd: REPO, stdio: 'ignore' });
  return new Promise((resolve, reject) => {
    let atKill: string[] = [];
    const poll = setInterval(() => {
      const seen = files(dest);
      if (!ready(seen)) return;
      clearInterval(poll);
      atKill = seen.map((f) => f.path);
      child.kill('SIGKILL');
    }, 10);
    child.on('exit', (code, signal) => {
      clearInterval(poll);
      if (signal === 'SIGKILL') resolve(atKill);
      else reject(new Error(`the run ended before the kill (exit ${code})`));
    });
  });
}

let root: string;
let clean: ManifestFile[];
let cleanBytes: number;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-disk-cli-'));
  const run = await runCli(generate(join(root, 'clean')));
  expect(run.code, run.stderr).toBe(0);
  clean = published(join(root, 'clean')).files;
  cleanBytes = clean.reduce((sum, f) => sum + f.bytes, 0);
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

const tempBytes = (seen: Seen): number =>
  seen.filter((f) => f.path.includes('.tmp-')).reduce((sum, f) => sum + f.bytes, 0);

describe('generate killed with SIGKILL, then run again into the same folder', () => {
  it.each([
    ['early: as soon as its first temp file exists', (seen: Seen) => seen.some((f) => f.path.includes('.tmp-'))],
    ['mid-run: with about a third of the bytes written', (seen: Seen) => tempBytes(seen) >= cleanBytes / 3],
    [
      'late: with 80% of the bytes written, or committing',
      (seen: Seen) =>
        tempBytes(seen) >= cleanBytes * 0.8 ||
        seen.some((f) => f.path.endsWith('users.csv') && !f.path.includes('.tmp-')),
    ],
  ])('%s: the rerun exits 0 with the same files, verified, and no temp file left', async (moment, ready) => {
    const dest = join(root, moment.split(':')[0]);
    const left = await killWhen(dest, ready);
    expect(left.some((p) => p.includes('.tmp-'))).toBe(true); // what a killed run leaves behind
    expect(left.some((p) => p.endsWith('manifest.json'))).toBe(false);

    const rerun = await runCli(generate(dest));
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(temps(dest)).toEqual([]);
    const again = published(dest);
    expect(again.files).toEqual(clean);
    const verify = await runCli(['verify', again.folder]);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});

describe('generate over a real file-size limit (`ulimit -f`, the kernel refusing a write with EFBIG)', () => {
  it('fails with one line naming the file, and leaves no temp file and no manifest', async () => {
    const dest = join(root, 'limited');
    // 10 MiB: the task rows' file outgrows it midway. Node ignores SIGXFSZ, so the write fails instead.
    const run = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      execFile(
        'bash',
        ['-c', `ulimit -f 10240 && exec "$0" bin/tierdrift.mjs "$@"`, process.execPath, ...generate(dest)],
        { cwd: REPO },
        (error, _, stderr) => resolve({ code: error ? (error.code as number) : 0, stderr }),
      );
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      new RegExp(
        `^(\\S+: )?file too large writing ${dest.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}/seed=42/[0-9a-f]{16}/\\S+\\.csv$`,
        'm',
      ),
    );
    expect(files(dest).map((f) => f.path)).toEqual([]);
  });
});
