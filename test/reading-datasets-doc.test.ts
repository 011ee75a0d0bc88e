import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConfig } from '../lambda/validation/validate.js';
import { SCHEMA_FILE, type ColumnType, type DatasetSchema } from '../lambda/dataset/dataset-schema.js';
import type { Manifest } from '../lambda/dataset/manifest.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';

/**
 * docs/reading-datasets.md's DuckDB blocks, run as written against a generated dataset: the CSV
 * and the Parquet views must have schema.json's types and the manifest's rows, and the queries
 * must give the same answers over both.
 */

const page = readFileSync(new URL('../docs/reading-datasets.md', import.meta.url), 'utf8');
/** The page's ```sql blocks by their first line (`-- CSV`, `-- Parquet`, `-- queries`, `-- S3`). */
const blocks = new Map(
  [...page.matchAll(/```sql\n([\s\S]*?)```\n/g)].map((m) => [m[1].split('\n', 1)[0].replace(/^-- /, ''), m[1]]),
);
const statements = (block: string) =>
  block
    .split(/;\s*$/m)
    .map((s) => s.trim())
    .filter((s) => s.replace(/^--.*$/gm, '').trim() !== '');

const DUCKDB_TYPE: Record<ColumnType, RegExp> = {
  int: /^BIGINT$/,
  float: /^DOUBLE$/,
  string: /^VARCHAR$/,
  category: /^VARCHAR$/,
  timestamp: /^TIMESTAMP$/,
};
// Parquet may hold ids in narrower integer types; everything else is the same.
const PARQUET_TYPE: Record<ColumnType, RegExp> = { ...DUCKDB_TYPE, int: /^U?(TINY|SMALL|BIG)?INT(EGER)?$/ };

let root: string;
let dir: string;
let schema: DatasetSchema;
let manifest: Manifest;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-reading-doc-'));
  const outcome = await publishDataset(parseConfig({ users: 300, openEndedTiers: true, formats: ['csv', 'parquet'] }), {
    storage: new LocalFolderStorage(root),
  });
  dir = join(root, outcome.prefix);
  manifest = outcome.manifest;
  schema = JSON.parse(readFileSync(join(dir, SCHEMA_FILE), 'utf8')) as DatasetSchema;
}, 60_000);
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

async function connect(): Promise<DuckDBConnection> {
  const db = await (await DuckDBInstance.create(':memory:')).connect();
  await db.run(`SET file_search_path = '${dir.replaceAll("'", "''")}'`);
  return db;
}

async function run(db: DuckDBConnection, block: string): Promise<Record<string, unknown>[][]> {
  const results: Record<string, unknown>[][] = [];
  for (const sql of statements(block)) results.push((await db.runAndReadAll(sql)).getRowObjectsJS());
  return results;
}

describe('docs/reading-datasets.md: the DuckDB blocks', () => {
  it('are the CSV and Parquet views, the queries, and the S3 example (not run: it downloads httpfs)', () => {
    expect([...blocks.keys()].sort()).toEqual(['CSV', 'Parquet', 'S3', 'queries']);
    // The CSV block uses schema.json's format and the nullable columns' types it states.
    expect(blocks.get('CSV')).toContain(`timestampformat = '${schema.timestampFormat}'`);
    for (const table of schema.tables)
      for (const column of table.columns.filter((c) => c.nullable))
        expect(blocks.get('CSV')).toContain(`'${column.name}': 'TIMESTAMP'`);
  });

  const answers: Record<string, unknown[][]> = {};
  for (const [format, types] of [
    ['CSV', DUCKDB_TYPE],
    ['Parquet', PARQUET_TYPE],
  ] as const) {
    it(`${format}: every table a view with schema.json's types and the manifest's rows; the queries answer`, async () => {
      const db = await connect();
      await run(db, blocks.get(format)!);
      for (const table of schema.tables) {
        const described = (await db.runAndReadAll(`DESCRIBE ${table.name}`)).getRowObjectsJS();
        expect(described.map((r) => r.column_name)).toEqual(table.columns.map((c) => c.name));
        table.columns.forEach((c, i) => {
          expect(described[i].column_type, `${table.name}.${c.name}`).toMatch(types[c.type]);
        });
        const [{ n }] = (await db.runAndReadAll(`SELECT count(*) AS n FROM ${table.name}`)).getRowObjectsJS();
        expect(Number(n), table.name).toBe(manifest.files.find((f) => f.name === table.file)!.rows);
      }
      const [byScenario, byTier] = await run(db, blocks.get('queries')!);
      const rowsOf = (name: string) => manifest.files.find((f) => f.name === name)!.rows;
      expect(byScenario.reduce((sum, r) => sum + Number(r.task_rows), 0)).toBe(
        rowsOf('tasks/upload_50gb_next_hour.csv'),
      );
      expect(byScenario.find((r) => r.scenario === 'just_upgraded')!.oracle as number).toBeGreaterThan(0.5);
      // Each upload falls in exactly one interval of its user, and no 50 GB upload while free.
      expect(byTier.reduce((sum, r) => sum + Number(r.uploads), 0)).toBe(rowsOf('uploads.csv'));
      expect(byTier.filter((r) => r.tier === 'free' && Number(r.item_id) === 2)).toEqual([]);
      expect(byTier.some((r) => r.tier === 'premium' && Number(r.item_id) === 2)).toBe(true);
      answers[format] = [byScenario, byTier].map((rows) =>
        rows.map((r) => Object.values(r).map((v) => (typeof v === 'number' ? v.toFixed(9) : String(v)))),
      );
      db.closeSync();
    }, 60_000);
  }

  it('CSV and Parquet give the same answers', () => {
    expect(Object.keys(answers).sort()).toEqual(['CSV', 'Parquet']);
    expect(answers.Parquet).toEqual(answers.CSV);
  });
});
