import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatasetFetchError, fetchDataset } from '../lambda/publish/fetch-dataset.js';
import { verifyDataset } from '../lambda/publish/verify-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';

/** verify and fetch on datasets whose manifest lists files in subfolders (truth/, tasks/). */
let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-subfolders-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const FILES: Record<string, string> = {
  'users.csv': 'user_id,name\r\n1,User 001\r\n',
  'truth/users.csv': 'user_id,cohort,free_rate_per_hour,premium_rate_per_hour\r\n1,2,0.04,0.1\r\n',
  'tasks/upload_50gb_next_hour.csv': 'user_id,anchor_time\r\n1,2025-03-01T12:00:00Z\r\n',
};

/** A dataset folder with `files` and a manifest listing `names` (default: the files' own names). */
function dataset(name: string, names = Object.keys(FILES)): string {
  const dir = join(root, name, 'seed=1', 'abc');
  for (const [file, text] of Object.entries(FILES)) {
    mkdirSync(dirname(join(dir, file)), { recursive: true });
    writeFileSync(join(dir, file), text);
  }
  const files = names.map((n, i) => {
    const text = Object.values(FILES)[i] ?? '';
    return {
      name: n,
      columns: [],
      rows: 1,
      bytes: Buffer.byteLength(text),
      sha256: createHash('sha256').update(text).digest('hex'),
    };
  });
  writeFileSync(join(dir, 'manifest.json'), JSON.stringify({ datasetId: 'seed-1-abc', files }));
  return join(name, 'seed=1', 'abc');
}

describe('files in subfolders', () => {
  it('verify re-hashes them; fetch copies them into the same subfolders, manifest last', async () => {
    const prefix = dataset('plain');
    const storage = new LocalFolderStorage(root);
    const verified = await verifyDataset(storage, prefix);
    expect(verified.complete && verified.ok).toBe(true);
    expect(verified.complete && verified.files.map((f) => [f.name, f.status])).toEqual(
      Object.keys(FILES).map((n) => [n, 'ok']),
    );

    const out = join(root, 'fetched');
    await fetchDataset(storage, prefix, new LocalFolderStorage(out));
    for (const [file, text] of Object.entries(FILES)) expect(readFileSync(join(out, file), 'utf8')).toBe(text);
    expect(existsSync(join(out, 'manifest.json'))).toBe(true);
    const again = await verifyDataset(new LocalFolderStorage(out), '.');
    expect(again.complete && again.ok).toBe(true);
  });

  it('a tampered file in a subfolder fails both, named', async () => {
    const prefix = dataset('tampered');
    writeFileSync(join(root, prefix, 'truth/users.csv'), 'user_id,cohort\r\n');
    const storage = new LocalFolderStorage(root);
    const verified = await verifyDataset(storage, prefix);
    expect(verified.complete && verified.files.find((f) => f.status !== 'ok')?.name).toBe('truth/users.csv');
    const out = join(root, 'fetched-tampered');
    await expect(fetchDataset(storage, prefix, new LocalFolderStorage(out))).rejects.toThrow(
      /^truth\/users\.csv: does not match the manifest/,
    );
    expect(existsSync(join(out, 'manifest.json'))).toBe(false);
    expect(existsSync(join(out, 'truth/users.csv'))).toBe(false);
  });

  it.each([
    ['../escape.csv'],
    ['truth/../../escape.csv'],
    ['/etc/passwd'],
    ['truth//users.csv'],
    ['./users.csv'],
    ['truth\\users.csv'],
    [''],
  ])('a manifest naming %j is refused by fetch (nothing written) and verify', async (bad) => {
    const name = `bad-${createHash('sha256').update(bad).digest('hex').slice(0, 8)}`;
    const prefix = dataset(name, ['users.csv', bad]);
    const storage = new LocalFolderStorage(root);
    const out = join(root, `${name}-out`);
    const error = await fetchDataset(storage, prefix, new LocalFolderStorage(out)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetFetchError);
    expect((error as Error).message).toMatch(/not a plain relative path/);
    expect(existsSync(out)).toBe(false);
    const verified = await verifyDataset(storage, prefix);
    expect(verified).toEqual({ complete: false, reason: expect.stringMatching(/not a plain relative path/) });
  });
});
