import { describe, expect, it } from 'vitest';
import { datasetAddress } from '../lambda/config/dataset-id.js';
import { parseConfig } from '../lambda/validation/validate.js';
import { DATASET_FILES } from '../lambda/rows/user-tables.js';
import {
  datasetKeys,
  fanoutPartsPattern,
  fileKey,
  latestPointerKey,
  partKey,
  reportKey,
  rollingExpiryPrefix,
  rollingRoot,
  rootObjectsPattern,
  runMarkerKey,
  runPrefixOf,
  seedPrefix,
} from '../lambda/layout/key-layout.js';

/** IAM's object-ARN wildcard: `*` matches any run of characters, `/` included. */
const grants = (pattern: string, key: string): boolean =>
  new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  ).test(key);

const address = datasetAddress(parseConfig({ seed: 42, users: 10 }));

describe('key layout', () => {
  it('places a dataset, its manifest, run marker and fan-out parts under its folder', () => {
    const { prefix, manifestKey } = datasetKeys(address, 'data/td');
    expect(prefix).toBe(`data/td/seed=42/${address.configHash}`);
    expect(manifestKey).toBe(`${prefix}/manifest.json`);
    expect(runMarkerKey(prefix)).toBe(`${prefix}/_run.json`);
    const run = runPrefixOf(prefix, 'r-1');
    expect(run).toBe(`${prefix}/_parts/r-1`);
    expect(partKey(run, 'uploads', 3)).toBe(`${run}/uploads/00003.csv`);
    expect(reportKey(run, 3)).toBe(`${run}/reports/00003.json`);
    expect(latestPointerKey('data/td', 'daily')).toBe('data/td/latest/daily.json');
    expect(seedPrefix('data/td', 42)).toBe('data/td/seed=42/');
    expect(rollingRoot('data/td')).toBe('data/td/rolling');
    // No root (a local folder): keys are relative; a trailing slash on the root is not doubled.
    expect(datasetKeys(address).prefix).toBe(`seed=42/${address.configHash}`);
    expect(datasetKeys(address, 'data/').prefix).toBe(`data/seed=42/${address.configHash}`);
    expect(() => runPrefixOf(prefix, '../x')).toThrow('invalid run id');
  });

  it("the stack's patterns grant exactly: every key under the root; deletion of fan-out parts only; expiry of rolling fixtures only", () => {
    const root = 'data/td';
    const kept = datasetKeys(address, root);
    const rolling = datasetKeys(address, rollingRoot(root));
    const run = runPrefixOf(kept.prefix, 'r-1');
    const published = [kept, rolling].flatMap(({ prefix, manifestKey }) => [
      manifestKey,
      runMarkerKey(prefix),
      ...DATASET_FILES.map((f) => fileKey(prefix, f.file)),
    ]);
    const parts = [partKey(run, 'users', 0), reportKey(run, 0)];
    const pointer = latestPointerKey(root, 'daily');

    for (const key of [...published, ...parts, pointer]) expect(grants(rootObjectsPattern(root), key), key).toBe(true);
    for (const key of [...published, pointer]) expect(grants(fanoutPartsPattern(root), key), key).toBe(false);
    for (const key of parts) expect(grants(fanoutPartsPattern(root), key), key).toBe(true);
    expect(grants(rootObjectsPattern(root), datasetKeys(address, 'elsewhere').manifestKey)).toBe(false);

    expect(rolling.prefix.startsWith(rollingExpiryPrefix(root))).toBe(true);
    for (const key of [kept.manifestKey, pointer]) expect(key.startsWith(rollingExpiryPrefix(root)), key).toBe(false);
  });
});
