import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationConfigInput } from '../lambda/config/schema.js';
import { parseConfig } from '../lambda/validation/validate.js';
import {
  SCHEMA_FILE,
  schemaJsonText,
  type DatasetSchema,
  type SchemaColumn,
  type SchemaTable,
} from '../lambda/dataset/dataset-schema.js';
import type { Manifest } from '../lambda/dataset/manifest.js';
import { runFanoutLocally } from '../lambda/fanout/fanout-steps.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { createS3Client } from '../lambda/storage/s3-client.js';
import { S3Storage } from '../lambda/storage/s3-storage.js';
import { parseUtcTimestamp, utcTimestampSeconds, TIMESTAMP_PATTERN } from '../lambda/time/utc-timestamp.js';
import { useLocalS3 } from './support/local-s3.js';

/**
 * schema.json against the files as written: whatever it declares about a table (columns, types,
 * nullability, keys, links, time and end-time columns, splits) must hold for every row of the
 * generated dataset, for both publishing paths.
 */

type Read = (name: string) => Promise<Buffer>;
type Rows = Record<string, string>[];

/** A CSV as written: CRLF after every row, no quoting (no field of these tables needs it). */
function parseCsv(bytes: Buffer, file: string): { header: string[]; rows: Rows } {
  const text = bytes.toString('utf8');
  expect(text.endsWith('\r\n'), `${file} ends in CRLF`).toBe(true);
  const [header, ...lines] = text
    .slice(0, -2)
    .split('\r\n')
    .map((line) => line.split(','));
  for (const line of lines) expect(line.length, `${file}: ${line.join(',')}`).toBe(header.length);
  return { header, rows: lines.map((line) => Object.fromEntries(header.map((c, i) => [c, line[i]]))) };
}

function typeProblem(column: SchemaColumn, value: string): string | undefined {
  if (value === '') return column.nullable ? undefined : 'empty';
  switch (column.type) {
    case 'int':
      if (!/^\d+$/.test(value)) return 'not an int';
      return column.values && !column.values.includes(Number(value)) ? 'not one of the values' : undefined;
    case 'float':
      return /^\d+(\.\d+(e-?\d+)?|e-?\d+)$/.test(value) && Number.isFinite(Number(value)) ? undefined : 'not a float';
    case 'timestamp':
      return TIMESTAMP_PATTERN.test(value) && parseUtcTimestamp(value) !== undefined ? undefined : 'not a timestamp';
    case 'category':
      return column.values!.includes(value) ? undefined : 'not one of the values';
    case 'string':
      return undefined;
  }
}

/** Checks every claim of schema.json on the dataset's files; returns the parsed tables. */
async function expectSchemaHolds(schema: DatasetSchema, read: Read): Promise<Record<string, Rows>> {
  const data: Record<string, Rows> = {};
  for (const table of schema.tables) {
    const { header, rows } = parseCsv(await read(table.file), table.file);
    expect(header, table.file).toEqual(table.columns.map((c) => c.name));
    expect(rows.length, table.file).toBeGreaterThan(0);
    for (const row of rows) {
      for (const column of table.columns) {
        const problem = typeProblem(column, row[column.name]);
        if (problem) expect.fail(`${table.file} ${column.name}=${JSON.stringify(row[column.name])}: ${problem}`);
      }
    }
    data[table.name] = rows;
  }
  const keyOf = (t: SchemaTable, row: Record<string, string>) => t.primaryKey.map((c) => row[c]).join('|');
  for (const table of schema.tables) {
    const rows = data[table.name];
    expect(new Set(rows.map((r) => keyOf(table, r))).size, `${table.name} primary key unique`).toBe(rows.length);
    for (const fk of table.foreignKeys) {
      const target = new Set(data[fk.references.table].map((r) => r[fk.references.column]));
      const dangling = rows.filter((r) => !target.has(r[fk.column]));
      expect(
        dangling.slice(0, 3),
        `${table.name}.${fk.column} -> ${fk.references.table}.${fk.references.column}`,
      ).toEqual([]);
    }
    const start = utcTimestampSeconds(schema.window.start);
    const end = utcTimestampSeconds(schema.window.end);
    if (table.timeColumn) {
      for (const r of rows) {
        const t = utcTimestampSeconds(r[table.timeColumn]);
        if (!(start <= t && t < end))
          expect.fail(`${table.name}.${table.timeColumn}=${r[table.timeColumn]} outside the window`);
      }
    }
    const endTime = table.endTimeColumn;
    if (endTime) {
      rows.forEach((r, i) => {
        // The last row of a user (rows are grouped by user) is the open-ended one, when any is.
        const lastOfUser = i + 1 === rows.length || rows[i + 1].user_id !== r.user_id;
        const until = r[endTime.column];
        expect(until === '', `${table.name} row ${i + 1}: empty ${endTime.column}`).toBe(
          endTime.openEnded && lastOfUser,
        );
        if (until !== '') expect(utcTimestampSeconds(until) > utcTimestampSeconds(r[table.timeColumn!])).toBe(true);
        if (until !== '' && lastOfUser) expect(until).toBe(schema.window.end);
      });
    }
  }
  for (const task of schema.tasks) {
    const rows = data[task.table];
    for (const r of rows) {
      const at = r[task.anchorColumn];
      const split = task.splits.find((s) => s.from <= at && at < s.until);
      if (split?.name !== r.split)
        expect.fail(`${task.table}: anchor ${at} has split ${r.split}, schema.json says ${split?.name}`);
    }
  }
  return data;
}

function expectListed(manifest: Manifest, bytes: Buffer): void {
  const entry = manifest.files.find((f) => f.name === SCHEMA_FILE);
  expect(entry).toEqual({
    name: SCHEMA_FILE,
    columns: [],
    rows: 0,
    bytes: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  });
}

let root: string;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-schema-files-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('schema.json holds for the files publishDataset writes', () => {
  const configs: [string, GenerationConfigInput][] = [
    ['reference engine, the notebook config, open-ended tiers', { openEndedTiers: true }],
    [
      'seedrandom, 400 users, given splits, 6-hour grid',
      {
        engine: 'seedrandom',
        seed: 5,
        users: 400,
        tasks: { gridHours: 6, valFrom: '2025-03-04T00:00:00Z', testFrom: '2025-03-07T06:00:00Z' },
      },
    ],
  ];
  configs.forEach(([name, input], k) => {
    it(
      name,
      async () => {
        const config = parseConfig(input);
        const dir = join(root, `single-${k}`);
        const outcome = await publishDataset(config, { storage: new LocalFolderStorage(dir) });
        const read: Read = async (file) => readFileSync(join(dir, outcome.prefix, file));
        const bytes = await read(SCHEMA_FILE);
        expect(bytes.toString('latin1')).toBe(schemaJsonText(config));
        expectListed(outcome.manifest, bytes);
        const data = await expectSchemaHolds(JSON.parse(bytes.toString('utf8')) as DatasetSchema, read);
        expect(data.users.length).toBe(config.users);
        // Every split the schema names has rows.
        expect(new Set(data.upload_50gb_next_hour.map((r) => r.split))).toEqual(new Set(['train', 'val', 'test']));
      },
      60_000,
    );
  });
});

describe('schema.json in a fan-out run', () => {
  const s3 = useLocalS3();

  it('written by the commit, listed in the manifest, true of the assembled files (open-ended tiers)', async () => {
    const config = parseConfig({ engine: 'seedrandom', seed: 11, users: 700, openEndedTiers: true });
    await s3.createBucket('schema-fanout');
    const storage = new S3Storage(createS3Client(), 'schema-fanout');
    const outcome = (await runFanoutLocally(config, storage, { shardUsers: 200, minPartBytes: 0, root: 'data' }))!;
    const read: Read = async (file) => (await storage.read(`${outcome.prefix}/${file}`))!;
    const bytes = await read(SCHEMA_FILE);
    expect(bytes.toString('latin1')).toBe(schemaJsonText(config));
    expectListed(outcome.manifest, bytes);
    await expectSchemaHolds(JSON.parse(bytes.toString('utf8')) as DatasetSchema, read);
  }, 120_000);
});
