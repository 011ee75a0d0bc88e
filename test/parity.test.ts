import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../lambda/validation/validate.js';
import { parseManifest } from '../lambda/dataset/manifest.js';
import { MANIFEST_FILE, TABLE_NAMES, TABLES } from '../lambda/layout/tables.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';

/**
 * Parity with the reference generator (reference_generator.py), the definition of the dataset:
 * every CSV must be byte-identical to what the reference writes for the same config.
 *
 * - test/fixtures/golden/<case>/: the reference's own CSVs, compared byte for byte.
 * - test/fixtures/parity/<case>/: config.json and the SHA256SUMS of the reference's CSVs
 *   (regenerate with scripts/fixtures/make_parity_fixtures.sh), compared by hash.
 */

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const CSV_FILES = TABLE_NAMES.map((t) => TABLES[t].file);

const caseNames = (kind: 'golden' | 'parity'): string[] =>
  readdirSync(join(FIXTURES, kind), { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();

/** `sha256sum` output: `<hex>  <file>` per line. */
function readSums(path: string): Map<string, string> {
  const sums = new Map<string, string>();
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const m = /^([0-9a-f]{64}) [ *](.+)$/.exec(line.trim());
    if (m) sums.set(m[2], m[1]);
  }
  return sums;
}

const sha256 = (bytes: Buffer): string => createHash('sha256').update(bytes).digest('hex');

/** Where two CSVs first differ, for a readable failure. */
function firstDifference(ours: Buffer, expected: Buffer): string {
  const a = ours.toString('latin1').split('\r\n');
  const b = expected.toString('latin1').split('\r\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      return `first difference at line ${i + 1}: ours ${JSON.stringify(a[i])}, expected ${JSON.stringify(b[i])} (ours ${ours.length} bytes, expected ${expected.length})`;
    }
  }
  return `same lines but different bytes (ours ${ours.length} bytes, expected ${expected.length})`;
}

let tempRoot: string;
beforeAll(async () => {
  tempRoot = await mkdtemp(join(tmpdir(), 'tierdrift-parity-'));
});
afterAll(async () => {
  if (tempRoot) await rm(tempRoot, { recursive: true, force: true });
});

/** Publishes a fixture's config with our generator; returns the CSVs it wrote, by file name. */
async function generate(kind: string, name: string): Promise<Map<string, Buffer>> {
  const config = parseConfig(JSON.parse(readFileSync(join(FIXTURES, kind, name, 'config.json'), 'utf8')));
  const dest = join(tempRoot, `${kind}-${name}`);
  const storage = new LocalFolderStorage(dest);
  const outcome = await publishDataset(config, { storage });
  expect(outcome.status).toBe('created');
  const dir = join(dest, ...outcome.prefix.split('/'));

  const files = new Map<string, Buffer>();
  for (const file of CSV_FILES) files.set(file, await readFile(join(dir, file)));

  // The manifest describes exactly the files on disk: the reference's four CSVs first, then the
  // files the reference does not write (truth/, tasks/, schema.json: not compared with it).
  const manifest = parseManifest(await readFile(join(dir, MANIFEST_FILE)));
  expect(manifest.files.slice(0, CSV_FILES.length).map((f) => f.name)).toEqual(CSV_FILES);
  for (const entry of manifest.files) {
    const bytes = files.get(entry.name) ?? (await readFile(join(dir, entry.name)));
    const lines = bytes.toString('latin1').split('\r\n');
    const rows = entry.columns.length > 0 ? lines.length - 2 : 0;
    if (entry.columns.length > 0) expect(lines.at(-1), `${entry.name} ends with CRLF`).toBe('');
    expect(
      { name: entry.name, bytes: entry.bytes, sha256: entry.sha256, rows: entry.rows },
      `manifest entry of ${entry.name}`,
    ).toEqual({ name: entry.name, bytes: bytes.length, sha256: sha256(bytes), rows });
  }

  await rm(dest, { recursive: true, force: true });
  return files;
}

describe('golden datasets: byte-identical to the reference CSVs', () => {
  const cases = caseNames('golden');
  it('has the golden fixtures', () => expect(cases.length).toBeGreaterThanOrEqual(4));

  it.each(cases)('%s', async (name) => {
    const dir = join(FIXTURES, 'golden', name);
    const sums = readSums(join(dir, 'SHA256SUMS'));
    const ours = await generate('golden', name);
    for (const file of CSV_FILES) {
      const expected = readFileSync(join(dir, file));
      // The fixture itself is intact.
      expect(sha256(expected), `${name}/${file} matches its SHA256SUMS`).toBe(sums.get(file));
      const actual = ours.get(file)!;
      if (!actual.equals(expected)) expect.fail(`${name}/${file}: ${firstDifference(actual, expected)}`);
    }
  });
});

describe('parity cases: same SHA-256 as the reference CSVs', () => {
  const cases = caseNames('parity');
  it('has the parity fixtures', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
    for (const name of cases) expect(existsSync(join(FIXTURES, 'parity', name, 'SHA256SUMS')), name).toBe(true);
  });

  it.each(cases)('%s', async (name) => {
    const sums = readSums(join(FIXTURES, 'parity', name, 'SHA256SUMS'));
    const ours = await generate('parity', name);
    const actual = Object.fromEntries(CSV_FILES.map((f) => [f, sha256(ours.get(f)!)]));
    const expected = Object.fromEntries(CSV_FILES.map((f) => [f, sums.get(f)]));
    expect(actual, `${name}: sha256 of our CSVs`).toEqual(expected);
  });
});
