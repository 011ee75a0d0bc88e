import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../lambda/validation/validate.js';
import { OperationError } from '../lambda/errors/operation-error.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { verifyDataset } from '../lambda/publish/verify-dataset.js';
import { LocalFolderStorage, nodeFolderCalls, type FolderCalls } from '../lambda/storage/local-folder-storage.js';

/** One file-system call LocalFolderStorage made: the operation and the path it acted on (the target of a rename or link). */
interface Call {
  op: keyof FolderCalls;
  path: string;
}

/** The real calls, each recorded; the one `fail` picks throws ENOSPC as the kernel would, without being made. */
function recordingCalls(fail: (call: Call, index: number) => boolean = () => false): {
  calls: FolderCalls;
  log: Call[];
} {
  const log: Call[] = [];
  const calls = {} as Record<keyof FolderCalls, unknown>;
  for (const op of Object.keys(nodeFolderCalls) as Array<keyof FolderCalls>) {
    const real = (...args: unknown[]): unknown => (nodeFolderCalls[op] as (...a: unknown[]) => unknown)(...args);
    calls[op] = (...args: unknown[]) => {
      const call = { op, path: String(op === 'rename' || op === 'link' ? args[1] : args[0]) };
      log.push(call);
      if (!fail(call, log.length - 1)) return real(...args);
      const error = Object.assign(new Error(`ENOSPC: no space left on device, ${op}`), {
        code: 'ENOSPC',
        errno: -28,
        syscall: op,
      });
      if (op === 'write') throw error; // the one synchronous call
      return Promise.reject(error);
    };
  }
  return { calls: calls as unknown as FolderCalls, log };
}

/** Index of the last call that matches, or -1. */
function lastIndex(log: Call[], match: (call: Call, index: number) => boolean): number {
  for (let i = log.length - 1; i >= 0; i--) if (match(log[i], i)) return i;
  return -1;
}

const isTemp = (path: string, target: string): boolean => path.startsWith(`${target}.tmp-`);

/** Every path under `dir` (relative), sorted. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).sort();
}
const temps = (dir: string): string[] => tree(dir).filter((p) => p.includes('.tmp-'));

/** The error `promise` rejects with. */
async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

async function drain(stream: AsyncIterable<Buffer>): Promise<void> {
  for await (const chunk of stream) expect(chunk).toBeInstanceOf(Buffer);
}

/** One line naming the path, the injected ENOSPC kept as the cause. */
function expectDiskFull(error: Error, message: string): void {
  expect(error).toBeInstanceOf(OperationError);
  expect(error.message).toBe(message);
  expect((error.cause as NodeJS.ErrnoException).code).toBe('ENOSPC');
}

const root = mkdtempSync(join(tmpdir(), 'tierdrift-disk-'));
let counter = 0;
const freshDir = (): string => join(root, `case-${++counter}`);

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('LocalFolderStorage on a full disk (injected ENOSPC)', () => {
  const chunk = Buffer.alloc(64 * 1024, 0x61);

  it("(a) a data file's write: `disk full writing <path>`, its temp file removed", async () => {
    const dir = freshDir();
    let writes = 0;
    const { calls } = recordingCalls(
      (c) => c.op === 'write' && isTemp(c.path, join(dir, 'd', 'uploads.csv')) && ++writes === 3,
    );
    const storage = new LocalFolderStorage(dir, { calls });
    const writer = storage.createWriter('d/uploads.csv');
    await writer.write(chunk);
    await writer.write(chunk);
    expect(temps(dir)).toHaveLength(1);
    const error = await failure(writer.write(chunk));
    expectDiskFull(error, `disk full writing ${join(dir, 'd', 'uploads.csv')}`);
    expect(temps(dir)).toEqual([]);
    await writer.abort(); // what callers do next: harmless
  });

  it.each([
    ['sync', 'syncing'],
    ['rename', 'committing'],
    ['syncFolder', 'syncing the folder of'],
  ] as const)('(b) commit, at %s: `disk full %s <path>`, no temp file left', async (op, words) => {
    const dir = freshDir();
    const target = join(dir, 'd', 'tiers.csv');
    // The folder sync that fails is the one after the rename (not those of the folders created).
    let renamed = false;
    const { calls } = recordingCalls((c) => {
      if (c.op === 'rename') renamed = true;
      return c.op === op && (op !== 'syncFolder' || renamed);
    });
    const writer = new LocalFolderStorage(dir, { calls }).createWriter('d/tiers.csv');
    await writer.write(chunk);
    const error = await failure(writer.commit());
    expectDiskFull(error, `disk full ${words} ${target}`);
    expect(temps(dir)).toEqual([]);
  });

  it("(c) the manifest's temp write (the leak of issue 11): `disk full writing <manifest>`, no temp, no manifest", async () => {
    const dir = freshDir();
    const { calls } = recordingCalls((c) => c.op === 'write');
    const error = await failure(new LocalFolderStorage(dir, { calls }).putIfAbsent('d/manifest.json', '{}\n'));
    expectDiskFull(error, `disk full writing ${join(dir, 'd', 'manifest.json')}`);
    expect(tree(dir)).toEqual(['d']);
  });

  it.each([
    ['sync', 'syncing'],
    ['link', 'publishing'],
  ] as const)('(d) the manifest at %s: `disk full %s <manifest>`, no temp, no manifest', async (op, words) => {
    const dir = freshDir();
    const { calls } = recordingCalls((c) => c.op === op);
    const error = await failure(new LocalFolderStorage(dir, { calls }).putIfAbsent('d/manifest.json', '{}\n'));
    expectDiskFull(error, `disk full ${words} ${join(dir, 'd', 'manifest.json')}`);
    expect(tree(dir)).toEqual(['d']);
  });

  it('creating a folder: `disk full creating <folder>`', async () => {
    const dir = freshDir();
    const { calls } = recordingCalls((c) => c.op === 'mkdir');
    const writer = new LocalFolderStorage(dir, { calls }).createWriter('d/e/users.csv');
    expectDiskFull(await failure(writer.write(chunk)), `disk full creating ${join(dir, 'd', 'e')}`);
    await writer.abort();
    expect(tree(dir)).toEqual([]);
  });

  it('a lost race for the manifest still removes the temp file', async () => {
    const dir = freshDir();
    const storage = new LocalFolderStorage(dir);
    expect(await storage.putIfAbsent('d/manifest.json', 'first')).toBe(true);
    expect(await storage.putIfAbsent('d/manifest.json', 'second')).toBe(false);
    expect(tree(dir)).toEqual(['d', join('d', 'manifest.json')]);
  });
});

describe('LocalFolderStorage reading', () => {
  it('a failed read is one line naming the path (a folder where a file should be)', async () => {
    const dir = freshDir();
    mkdirSync(join(dir, 'd', 'users.csv'), { recursive: true });
    const storage = new LocalFolderStorage(dir);
    const path = join(dir, 'd', 'users.csv');
    const read = await failure(storage.read('d/users.csv'));
    expect([read instanceof OperationError, read.message]).toEqual([true, `is a folder reading ${path}`]);
    const streamed = await failure(drain((await storage.readStream('d/users.csv'))!));
    expect([streamed instanceof OperationError, streamed.message]).toEqual([true, `is a folder reading ${path}`]);
  });
});

describe.each([
  [
    'CSV',
    {
      users: 1500,
      seed: 9,
      premiumUploadsPerDay: { mean: 12, std: 3 },
      freeUploadsPerDay: { mean: 4, std: 1 },
    },
  ],
  [
    // A part a table, committed as soon as it is whole: failures before, during and after its commit.
    'CSV + Parquet',
    {
      users: 1000,
      seed: 9,
      openEndedTiers: true,
      premiumUploadsPerDay: { mean: 12, std: 3 },
      freeUploadsPerDay: { mean: 4, std: 1 },
      formats: ['csv', 'parquet'],
    },
  ],
] as const)('publishDataset (%s) on a full disk, whichever call fails', (_, raw) => {
  const config = parseConfig(raw);
  let probeDir: string;
  let probe: Call[] = [];
  let linkAt = -1;

  beforeAll(async () => {
    probeDir = freshDir();
    const { calls, log } = recordingCalls();
    await publishDataset(config, { storage: new LocalFolderStorage(probeDir, { calls }) });
    probe = log;
    linkAt = log.findIndex((c) => c.op === 'link');
  });

  it('the probe run makes every kind of call, several writes to each data file', () => {
    expect(new Set(probe.map((c) => c.op))).toEqual(new Set(Object.keys(nodeFolderCalls)));
    expect(probe.filter((c) => c.op === 'write' && c.path.includes('uploads.csv.tmp-')).length).toBeGreaterThanOrEqual(
      3,
    );
  });

  it('up to the manifest link: a one-line OperationError naming the file, no temp file anywhere, no manifest', async () => {
    const wrong: Record<string, string> = {};
    for (let k = 0; k <= linkAt; k++) {
      if (probe[k].op === 'remove') continue; // cleanup itself (removing needs no space)
      const dir = freshDir();
      const { calls } = recordingCalls((_, i) => i === k);
      const error = await failure(publishDataset(config, { storage: new LocalFolderStorage(dir, { calls }) }));
      const what = `${k} ${probe[k].op} ${probe[k].path}`;
      const line = new RegExp(
        `^disk full (creating|writing|syncing|committing|publishing|syncing the folder of) (${dir}/[^\\s]+)$`,
      ).exec(error.message);
      // The file the call was for (its temp file's target), or for a folder sync, a file or folder in it.
      const named = join(dir, relative(probeDir, probe[k].path)).replace(/\.tmp-.*$/, '');
      if (!(error instanceof OperationError)) wrong[what] = `not an OperationError: ${error.stack}`;
      else if (!line || (probe[k].op === 'syncFolder' ? !line[2].startsWith(`${named}/`) : line[2] !== named))
        wrong[what] = `message: ${error.message}`;
      else if (temps(dir).length) wrong[what] = `left ${temps(dir).join(', ')}`;
      else if (tree(dir).some((p) => p.endsWith('manifest.json'))) wrong[what] = 'a manifest';
    }
    expect(wrong).toEqual({});
  });

  it('after the link (the folder sync): the error names the manifest, nothing is left over, the dataset verifies', async () => {
    const at = probe.findIndex((c, i) => i > linkAt && c.op === 'syncFolder');
    const dir = freshDir();
    const { calls } = recordingCalls((_, i) => i === at);
    const error = await failure(publishDataset(config, { storage: new LocalFolderStorage(dir, { calls }) }));
    expect(error.message).toMatch(/^disk full syncing the folder of \/.*\/manifest\.json$/);
    expect(temps(dir)).toEqual([]);
    const prefix = dirname(tree(dir).find((p) => p.endsWith('manifest.json'))!);
    const verified = await verifyDataset(new LocalFolderStorage(dir), prefix);
    expect(verified.complete && verified.ok).toBe(true);
  });
});

describe('durability: what the manifest stands on is on disk before it is linked', () => {
  it('each file synced before its rename, each folder synced after its renames and new folders, then the manifest written, synced, linked, its folder synced', async () => {
    const dir = freshDir();
    const { calls, log } = recordingCalls();
    const outcome = await publishDataset(parseConfig({ users: 300, seed: 5 }), {
      storage: new LocalFolderStorage(dir, { calls }),
    });
    const datasetDir = join(dir, outcome.prefix);
    const manifest = join(datasetDir, 'manifest.json');
    const at = (op: Call['op'], path: string, from = 0): number =>
      log.findIndex((c, i) => i >= from && c.op === op && c.path === path);
    const link = at('link', manifest);
    expect(link).toBeGreaterThan(0);

    for (const { name } of outcome.manifest.files) {
      const target = join(datasetDir, name);
      const rename = at('rename', target);
      const sync = log.findIndex((c) => c.op === 'sync' && isTemp(c.path, target));
      const lastWrite = lastIndex(log, (c) => c.op === 'write' && isTemp(c.path, target));
      expect({ name, ordered: lastWrite < sync && sync < rename && rename < link }).toEqual({ name, ordered: true });
      const folderSync = at('syncFolder', dirname(target), rename);
      expect({ name, folderSyncedBeforeLink: folderSync > rename && folderSync < link }).toEqual({
        name,
        folderSyncedBeforeLink: true,
      });
    }
    // Every folder created on the way (the dataset's, truth/, tasks/) is synced into its parent before the link.
    for (const folder of [datasetDir, join(datasetDir, 'truth'), join(datasetDir, 'tasks')]) {
      const synced = lastIndex(log, (c, i) => i < link && c.op === 'syncFolder' && c.path === dirname(folder));
      expect({ folder, synced: synced > log.findIndex((c) => c.op === 'mkdir' && c.path.startsWith(folder)) }).toEqual({
        folder,
        synced: true,
      });
    }
    const manifestSync = log.findIndex((c) => c.op === 'sync' && isTemp(c.path, manifest));
    expect(lastIndex(log, (c) => c.op === 'write' && isTemp(c.path, manifest))).toBeLessThan(manifestSync);
    expect(manifestSync).toBeLessThan(link);
    expect(at('syncFolder', datasetDir, link)).toBeGreaterThan(link);
    expect(temps(dir)).toEqual([]);
  });
});

describe('removeStale: the temp files of dead runs', () => {
  /** A pid no process has: a child's, once it has exited. */
  const deadPid = (): number => spawnSync(process.execPath, ['-e', '']).pid;

  function file(path: string, ageSeconds = 0): string {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, 'partial');
    if (ageSeconds)
      utimesSync(path, new Date(Date.now() - ageSeconds * 1000), new Date(Date.now() - ageSeconds * 1000));
    return path;
  }

  it("keeps a live run's fresh temp files and finished files; removes a dead pid's and old ones", async () => {
    const dir = freshDir();
    const dataset = join(dir, 'seed=1', 'abc');
    const dead = deadPid();
    const live = file(join(dataset, `uploads.csv.tmp-${process.pid}-0123abcd`));
    const liveInSubfolder = file(join(dataset, 'truth', `users.csv.tmp-${process.pid}-4567abcd`), 60);
    const finished = file(join(dataset, 'users.csv'), 7200);
    const otherDataset = file(join(dir, 'seed=1', 'abd', `tiers.csv.tmp-${dead}-00000000`));
    file(join(dataset, `tiers.csv.tmp-${dead}-89abcdef`));
    file(join(dataset, 'tasks', `upload_50gb_next_hour.csv.tmp-${dead}-fedcba98`));
    file(join(dataset, `items.csv.tmp-${process.pid}-deadbeef`), 7200);

    expect(await new LocalFolderStorage(dir).removeStale('seed=1/abc', 900)).toBe(3);
    expect(tree(join(dir, 'seed=1'))).toEqual(
      [
        live,
        liveInSubfolder,
        finished,
        otherDataset,
        dirname(live),
        join(dataset, 'truth'),
        join(dataset, 'tasks'),
        dirname(otherDataset),
      ]
        .map((p) => p.slice(join(dir, 'seed=1').length + 1))
        .sort(),
    );
  });

  it('a folder that does not exist has nothing stale', async () => {
    expect(await new LocalFolderStorage(freshDir()).removeStale('seed=1/none', 900)).toBe(0);
  });

  it('publishDataset into a folder where a run was killed: its temp files are gone, the dataset verifies', async () => {
    const dir = freshDir();
    const config = parseConfig({ users: 200, seed: 6 });
    const first = await publishDataset(config, { storage: new LocalFolderStorage(dir) });
    const datasetDir = join(dir, first.prefix);
    rmSync(datasetDir, { recursive: true });
    const dead = deadPid();
    file(join(datasetDir, `uploads.csv.tmp-${dead}-01234567`));
    file(join(datasetDir, 'truth', `users.csv.tmp-${dead}-01234567`));
    const again = await publishDataset(config, { storage: new LocalFolderStorage(dir) });
    expect(again.status).toBe('created');
    expect(temps(dir)).toEqual([]);
    const verified = await verifyDataset(new LocalFolderStorage(dir), again.prefix);
    expect(verified.complete && verified.ok).toBe(true);
  });
});
