import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configHash } from '../lambda/config/dataset-id.js';
import { parseConfig } from '../lambda/validation/validate.js';
import type { GenerationConfig } from '../lambda/config/schema.js';
import { FORMAT_VERSION } from '../lambda/layout/format.js';
import { publishDataset, type PublishOutcome } from '../lambda/publish/publish-dataset.js';
import { verifyDataset } from '../lambda/publish/verify-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import type { DatasetStorage, StagedWriter } from '../lambda/storage/storage.js';
import { EXPECTED_CSVS, EXPECTED_FILES, EXPECTED_FOLDERS } from './support/expected-files.js';

const PKG = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  name: string;
  version: string;
};
const COLUMNS: Record<string, string[]> = {
  'users.csv': ['user_id', 'name'],
  'tiers.csv': ['user_id', 'from_datetime', 'until_datetime', 'tier'],
  'items.csv': ['item_id', 'size_gb'],
  'uploads.csv': ['txn_id', 'user_id', 'item_id', 'datetime'],
  'truth/users.csv': ['user_id', 'cohort', 'free_rate_per_hour', 'premium_rate_per_hour'],
  'tasks/upload_50gb_next_hour.csv': [
    'user_id',
    'anchor_time',
    'scenario',
    'tier_at_anchor',
    'hours_in_tier',
    'label',
    'oracle_probability',
    'split',
  ],
};
/** A storage key's path inside its dataset (`seed=…/<hash>/truth/users.csv` → `truth/users.csv`). */
const inDataset = (key: string): string => key.split('/').slice(2).join('/');

let root: string;
let counter = 0;
const freshDir = (): string => join(root, `case-${++counter}`);

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-publish-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return (readdirSync(dir, { recursive: true }) as string[]).map((p) => p.split('\\').join('/')).sort();
}

type Event =
  | { op: 'write' | 'commit' | 'abort'; key: string; bytes?: number }
  | { op: 'putIfAbsent'; key: string; result?: boolean };

/** LocalFolderStorage that records every call, and can fail the k-th write (counted across files). */
class RecordingStorage implements DatasetStorage {
  readonly events: Event[] = [];
  private writes = 0;
  constructor(
    readonly inner: LocalFolderStorage,
    private readonly failOnWrite = 0,
  ) {}
  describe(key: string) {
    return this.inner.describe(key);
  }
  read(key: string) {
    return this.inner.read(key);
  }
  readStream(key: string) {
    return this.inner.readStream(key);
  }
  createWriter(key: string): StagedWriter {
    const writer = this.inner.createWriter(key);
    return {
      write: async (chunk: Uint8Array) => {
        this.writes++;
        if (this.writes === this.failOnWrite) throw new Error(`injected failure on write ${this.writes} (${key})`);
        this.events.push({ op: 'write', key, bytes: chunk.length });
        return writer.write(chunk);
      },
      commit: async () => {
        await writer.commit();
        this.events.push({ op: 'commit', key });
      },
      abort: async () => {
        this.events.push({ op: 'abort', key });
        return writer.abort();
      },
    };
  }
  async putIfAbsent(key: string, body: string) {
    const result = await this.inner.putIfAbsent(key, body);
    this.events.push({ op: 'putIfAbsent', key, result });
    return result;
  }
  list(prefix: string, options?: Parameters<DatasetStorage['list']>[1]) {
    return this.inner.list(prefix, options);
  }
  removeStale(prefix: string, olderThanSeconds: number) {
    return this.inner.removeStale(prefix, olderThanSeconds);
  }
}

/** Counts computed from the CSVs alone, to cross-check the manifest summary. */
function summaryFromCsvs(dir: string, config: GenerationConfig) {
  const rows = (f: string) =>
    readFileSync(join(dir, f), 'latin1')
      .split('\r\n')
      .slice(1, -1)
      .map((l) => l.split(','));
  const start = Date.parse(config.start) / 1000;
  const t = (s: string) => Date.parse(s) / 1000;
  const tiers = new Map<number, { from: number; until: number; tier: string }[]>();
  for (const [u, from, until, tier] of rows('tiers.csv')) {
    const list = tiers.get(Number(u)) ?? [];
    list.push({ from: t(from), until: t(until), tier });
    tiers.set(Number(u), list);
  }
  const size = new Map(rows('items.csv').map(([id, gb]) => [Number(id), gb]));
  const uploadsByTierAndSize = { free: { '5': 0, '50': 0 }, premium: { '5': 0, '50': 0 } };
  const large: { user: number; at: number }[] = [];
  for (const [, u, item, at] of rows('uploads.csv')) {
    const tier = tiers.get(Number(u))!.find((x) => x.from <= t(at) && t(at) < x.until)!;
    const gb = size.get(Number(item)) as '5' | '50';
    uploadsByTierAndSize[tier.tier as 'free' | 'premium'][gb]++;
    if (gb === '50') large.push({ user: Number(u), at: t(at) });
  }
  let upgrades = 0;
  let upgradesWithSpikeWithinHour = 0;
  for (const [u, list] of tiers) {
    for (let i = 1; i < list.length; i++) {
      if (list[i].tier !== 'premium' || list[i - 1].tier !== 'free' || list[i].from <= start) continue;
      upgrades++;
      if (large.some((l) => l.user === u && l.at >= list[i].from && l.at < list[i].from + 3600))
        upgradesWithSpikeWithinHour++;
    }
  }
  return { uploadsByTierAndSize, upgrades, upgradesWithSpikeWithinHour };
}

describe('publishDataset with LocalFolderStorage (default config)', () => {
  const config = parseConfig({});
  let dir: string;
  let storage: RecordingStorage;
  let outcome: PublishOutcome;
  const progress: [number, number][] = [];

  beforeAll(async () => {
    dir = freshDir();
    storage = new RecordingStorage(new LocalFolderStorage(dir));
    outcome = await publishDataset(config, { storage, onProgress: (done, total) => progress.push([done, total]) });
  });

  it('creates seed=<seed>/<configHash>/ with the CSVs, schema.json and the manifest, nothing else', () => {
    const hash = configHash(config);
    expect(outcome.status).toBe('created');
    expect(outcome.prefix).toBe(`seed=42/${hash}`);
    expect(outcome.manifestKey).toBe(`seed=42/${hash}/manifest.json`);
    expect(tree(dir)).toEqual(
      [
        'seed=42',
        `seed=42/${hash}`,
        ...[...EXPECTED_FOLDERS, ...EXPECTED_FILES, 'manifest.json'].map((f) => `seed=42/${hash}/${f}`),
      ].sort(),
    );
  });

  it('writes the manifest last, after every CSV is committed, and aborts nothing', () => {
    const ops = storage.events.map((e) => `${e.op} ${inDataset(e.key)}`);
    expect(ops.at(-1)).toBe('putIfAbsent manifest.json');
    expect(ops.filter((o) => o.startsWith('putIfAbsent'))).toHaveLength(1);
    const lastPut = ops.lastIndexOf('putIfAbsent manifest.json');
    for (const f of EXPECTED_FILES) {
      const commit = ops.indexOf(`commit ${f}`);
      expect(commit, f).toBeGreaterThanOrEqual(0);
      expect(commit).toBeLessThan(lastPut);
      // No write to a file after its commit.
      expect(ops.lastIndexOf(`write ${f}`)).toBeLessThan(commit);
    }
    expect(ops.some((o) => o.startsWith('abort'))).toBe(false);
  });

  it('manifest: format version, generator, dataset id, normalized config', () => {
    const m = JSON.parse(readFileSync(join(dir, outcome.manifestKey), 'utf8'));
    expect(m).toEqual(JSON.parse(JSON.stringify(outcome.manifest)));
    expect(m.formatVersion).toBe(FORMAT_VERSION);
    expect(m.formatVersion).toBe(3);
    expect(m.generator).toEqual({ name: PKG.name, version: PKG.version, engine: 'reference' });
    expect(m.datasetId).toBe(`seed-42-${configHash(config)}`);
    expect(m.configHash).toBe(configHash(config));
    expect(m.config).toEqual(config);
    expect(Date.parse(m.generation.startedAt)).not.toBeNaN();
    expect(m.generation.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('manifest: files with columns, rows, bytes and sha256 matching the files on disk', () => {
    const m = outcome.manifest;
    expect(m.files.map((f) => f.name)).toEqual(EXPECTED_FILES);
    for (const file of m.files.filter((f) => f.name.endsWith('.csv'))) {
      const bytes = readFileSync(join(dir, outcome.prefix, file.name));
      const lines = bytes.toString('latin1').split('\r\n');
      expect(lines.at(-1)).toBe('');
      expect(file.columns).toEqual(COLUMNS[file.name]);
      expect(lines[0]).toBe(file.columns.join(','));
      expect(file.rows, file.name).toBe(lines.length - 2);
      expect(file.bytes, file.name).toBe(bytes.length);
      expect(file.sha256, file.name).toBe(createHash('sha256').update(bytes).digest('hex'));
    }
    expect(m.files.find((f) => f.name === 'users.csv')!.rows).toBe(100);
    expect(m.files.find((f) => f.name === 'items.csv')!.rows).toBe(2);
  });

  it('manifest: every check passed for the default config', () => {
    const m = outcome.manifest;
    expect(m.checks.length).toBe(11);
    expect(m.checks.filter((c) => !c.passed)).toEqual([]);
    expect(m.checksPassed).toBe(true);
  });

  it('manifest: summary matches counts recomputed from the CSVs', () => {
    const m = outcome.manifest;
    expect(m.summary.usersPerCohort).toEqual({ 1: 20, 2: 20, 3: 20, 4: 20, 5: 20 });
    const fromCsvs = summaryFromCsvs(join(dir, outcome.prefix), config);
    expect({
      uploadsByTierAndSize: m.summary.uploadsByTierAndSize,
      upgrades: m.summary.upgrades,
      upgradesWithSpikeWithinHour: m.summary.upgradesWithSpikeWithinHour,
    }).toEqual(fromCsvs);
    // Cohorts 4 and 5 upgrade once each.
    expect(m.summary.upgrades).toBe(40);
    expect(m.summary.uploadsByTierAndSize.free['50']).toBe(0);
    const total = Object.values(m.summary.uploadsByTierAndSize).reduce((a, s) => a + s['5'] + s['50'], 0);
    expect(total).toBe(m.files.find((f) => f.name === 'uploads.csv')!.rows);
  });

  it('reports progress up to the last user', () => {
    expect(progress.length).toBeGreaterThan(0);
    expect(progress.at(-1)).toEqual([100, 100]);
  });

  it('verifyDataset accepts it', async () => {
    const result = await verifyDataset(new LocalFolderStorage(dir), outcome.prefix);
    expect(result.complete && result.ok).toBe(true);
  });

  it('publishing again returns the existing manifest and writes nothing', async () => {
    const again = new RecordingStorage(new LocalFolderStorage(dir));
    const second = await publishDataset(config, { storage: again });
    expect(second.status).toBe('existing');
    expect(second.manifest).toEqual(JSON.parse(JSON.stringify(outcome.manifest)));
    expect(again.events).toEqual([]);
  });
});

describe('publishDataset under a root prefix', () => {
  it('puts the dataset under <root>/seed=<seed>/<hash>', async () => {
    const dir = freshDir();
    const config = parseConfig({ users: 5, seed: 3 });
    const outcome = await publishDataset(config, { storage: new LocalFolderStorage(dir), root: 'datasets/v1/' });
    expect(outcome.prefix).toBe(`datasets/v1/seed=3/${configHash(config)}`);
    expect(existsSync(join(dir, outcome.manifestKey))).toBe(true);
  });
});

describe('a failing storage write', () => {
  // Enough users that uploads.csv is flushed several times during generation (> 1 MiB).
  const config = parseConfig({
    users: 1500,
    seed: 9,
    premiumUploadsPerDay: { mean: 12, std: 3 },
    freeUploadsPerDay: { mean: 4, std: 1 },
  });
  let totalWrites = 0;

  beforeAll(async () => {
    const probe = new RecordingStorage(new LocalFolderStorage(freshDir()));
    await publishDataset(config, { storage: probe });
    totalWrites = probe.events.filter((e) => e.op === 'write').length;
  });

  it('the probe run writes several chunks (so every position below is exercised)', () => {
    expect(totalWrites).toBeGreaterThanOrEqual(6);
  });

  it('whichever write fails: the error propagates, no manifest, no final CSV names, no temp files', async () => {
    const leftovers: Record<number, string[]> = {};
    for (let k = 1; k <= totalWrites; k++) {
      const dir = freshDir();
      const storage = new RecordingStorage(new LocalFolderStorage(dir), k);
      await expect(publishDataset(config, { storage }), `k=${k}`).rejects.toThrow(/injected failure/);
      const files = tree(dir).filter((p) => /\.(csv|json)$|\.tmp-/.test(p));
      if (files.length) leftovers[k] = files;
    }
    expect(leftovers).toEqual({});
  });

  it('the first write failing aborts every writer', async () => {
    const storage = new RecordingStorage(new LocalFolderStorage(freshDir()), 1);
    await expect(publishDataset(config, { storage })).rejects.toThrow(/injected failure/);
    expect(
      storage.events
        .filter((e) => e.op === 'abort')
        .map((e) => inDataset(e.key))
        .sort(),
    ).toEqual([...EXPECTED_CSVS, 'report-data.json', 'report.html'].sort());
    expect(storage.events.some((e) => e.op === 'putIfAbsent')).toBe(false);
  });
});

describe('two concurrent publishes of the same config', () => {
  it('end with one manifest, one "created" and one "existing", and a dataset that verifies', async () => {
    const dir = freshDir();
    const config = parseConfig({ users: 300, seed: 77 });
    const [a, b] = await Promise.all([
      publishDataset(config, { storage: new LocalFolderStorage(dir) }),
      publishDataset(config, { storage: new LocalFolderStorage(dir) }),
    ]);
    expect([a.status, b.status].sort()).toEqual(['created', 'existing']);
    const hash = configHash(config);
    expect(tree(dir)).toEqual(
      [
        'seed=77',
        `seed=77/${hash}`,
        ...[...EXPECTED_FOLDERS, ...EXPECTED_FILES, 'manifest.json'].map((f) => `seed=77/${hash}/${f}`),
      ].sort(),
    );
    const onDisk = JSON.parse(readFileSync(join(dir, a.manifestKey), 'utf8'));
    const created = a.status === 'created' ? a : b;
    const existing = a.status === 'created' ? b : a;
    expect(onDisk).toEqual(JSON.parse(JSON.stringify(created.manifest)));
    expect(existing.manifest).toEqual(onDisk);
    const result = await verifyDataset(new LocalFolderStorage(dir), created.prefix);
    expect(result.complete && result.ok).toBe(true);
  });

  it('many racing publishers: exactly one creates', async () => {
    const dir = freshDir();
    const config = parseConfig({ users: 50, seed: 78 });
    const outcomes = await Promise.all(
      Array.from({ length: 5 }, () => publishDataset(config, { storage: new LocalFolderStorage(dir) })),
    );
    expect(outcomes.filter((o) => o.status === 'created')).toHaveLength(1);
    expect(tree(dir).filter((p) => p.includes('.tmp-'))).toEqual([]);
  });
});

describe('LocalFolderStorage writer: released()', () => {
  it('resolves once the chunks written before it are on disk: reusing their memory afterwards changes nothing', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tierdrift-released-'));
    try {
      const writer = new LocalFolderStorage(dir).createWriter('a/b.csv');
      const chunks = Array.from({ length: 20 }, (_, i) => Buffer.alloc(256 * 1024, 0x41 + i));
      for (const chunk of chunks) await writer.write(chunk);
      await writer.released!();
      for (const chunk of chunks) chunk.fill(0x7a); // as if reused for the next rows
      await writer.write(Buffer.from('end'));
      await writer.released!();
      await writer.commit();
      const bytes = readFileSync(join(dir, 'a', 'b.csv'));
      expect(bytes.length).toBe(20 * 256 * 1024 + 3);
      for (let i = 0; i < 20; i++) expect(bytes[i * 256 * 1024 + 1000]).toBe(0x41 + i);
      expect(bytes.subarray(-3).toString()).toBe('end');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
