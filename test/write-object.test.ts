import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { writeObject, writeObjects, type StagedWriter } from '../lambda/storage/storage.js';

let folder: string | undefined;
afterEach(async () => {
  if (folder) await rm(folder, { recursive: true, force: true });
});

/** Everything under the folder, temp files included: what a failed write must not leave. */
async function filesIn(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => e.name);
}

describe('writeObject / writeObjects', () => {
  it('commits what fill wrote and returns what fill returned', async () => {
    folder = await mkdtemp(join(tmpdir(), 'tierdrift-write-'));
    const storage = new LocalFolderStorage(folder);
    expect(await writeObject(storage, 'a/x.txt', async (w) => (await w.write(Buffer.from('x')), 7))).toBe(7);
    await writeObjects(storage, ['a/y.txt', 'a/z.txt'], async ([y, z]) => {
      await y.write(Buffer.from('y'));
      await z.write(Buffer.from('z'));
    });
    expect((await storage.read('a/x.txt'))?.toString()).toBe('x');
    expect((await storage.read('a/z.txt'))?.toString()).toBe('z');
  });

  it('on an error in fill, aborts every writer (nothing left, not even temp files) and throws that error', async () => {
    folder = await mkdtemp(join(tmpdir(), 'tierdrift-write-'));
    const storage = new LocalFolderStorage(folder);
    const failing = writeObjects(storage, ['b/y.txt', 'b/z.txt'], async ([y, z]) => {
      await y.write(Buffer.from('y'));
      await z.write(Buffer.from('z'));
      throw new Error('fill failed');
    });
    await expect(failing).rejects.toThrow('fill failed');
    expect(await filesIn(folder)).toEqual([]);
  });

  it('a failing commit aborts every writer, and an abort failing too does not hide the cause', async () => {
    const log: string[] = [];
    const writer = (key: string): StagedWriter => ({
      write: async () => void log.push(`write ${key}`),
      commit: async () => {
        log.push(`commit ${key}`);
        if (key === 'second') throw new Error('commit failed');
      },
      abort: async () => {
        log.push(`abort ${key}`);
        throw new Error('abort failed');
      },
    });
    await expect(
      writeObjects({ createWriter: writer }, ['first', 'second'], async (ws) => ws[0].write(new Uint8Array())),
    ).rejects.toThrow('commit failed');
    expect(log).toEqual(['write first', 'commit first', 'commit second', 'abort first', 'abort second']);
  });
});
