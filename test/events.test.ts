import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateConfig } from '../lambda/validation/validate.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';

const EVENTS = new URL('../events/', import.meta.url);
const readEvent = (name: string): unknown => JSON.parse(readFileSync(new URL(name, EVENTS), 'utf8'));
const tmp = mkdtempSync(join(tmpdir(), 'tierdrift-events-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('events/ sample configs', () => {
  it('every sample is covered here', () => {
    expect(
      readdirSync(EVENTS)
        .filter((f) => f.startsWith('config-'))
        .sort(),
    ).toEqual(['config-custom.json', 'config-invalid.json', 'config-notebook.json']);
  });

  it('config-invalid.json is refused with every broken field named', () => {
    const result = validateConfig(readEvent('config-invalid.json'));
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.problems.map((p) => p.field).sort()).toEqual(['end', 'seed', 'upgradeSpike.maxUploads', 'user']);
  });

  it('config-custom.json publishes the same CSV bytes as the reference golden of the same parameters', async () => {
    const result = validateConfig(readEvent('config-custom.json'));
    if (!result.ok) throw new Error(JSON.stringify(result.problems));
    const outcome = await publishDataset(result.config, { storage: new LocalFolderStorage(tmp) });
    const golden = new URL('fixtures/golden/seed-2025-custom/', import.meta.url);
    for (const file of ['users.csv', 'tiers.csv', 'items.csv', 'uploads.csv']) {
      const ours = readFileSync(join(tmp, outcome.prefix, file));
      expect(ours.equals(readFileSync(new URL(file, golden))), file).toBe(true);
    }
  });

  it('config-notebook.json is the default dataset (seed 42)', () => {
    const result = validateConfig(readEvent('config-notebook.json'));
    expect(result.ok && result.config.seed === 42 && result.config.users === 100).toBe(true);
  });
});
