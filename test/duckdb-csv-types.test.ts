import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationConfigInput } from '../lambda/config/schema.js';
import { parseConfig } from '../lambda/validation/validate.js';
import {
  CSV_DIALECT,
  SCHEMA_FILE,
  type ColumnType,
  type DatasetSchema,
  type SchemaTable,
} from '../lambda/dataset/dataset-schema.js';
import { runFanoutLocally } from '../lambda/fanout/fanout-steps.js';
import { publishDataset } from '../lambda/publish/publish-dataset.js';
import { parseUtcTimestamp } from '../lambda/time/utc-timestamp.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';

/**
 * DuckDB, an independent reader, types the CSVs of generated datasets by its own detection: the
 * types must be schema.json's. Read with the timestamp format schema.json states (without it,
 * DuckDB reads `…Z` as TIMESTAMP WITH TIME ZONE: the same instants, another type), and with
 * `hive_partitioning = false` (the dataset folder's `seed=<n>` would add a column).
 */

const DUCKDB_TYPE: Record<ColumnType, string> = {
  int: 'BIGINT',
  float: 'DOUBLE',
  string: 'VARCHAR',
  category: 'VARCHAR',
  timestamp: 'TIMESTAMP',
};
const sql = (text: string) => `'${text.replaceAll("'", "''")}'`;

let root: string;
let db: DuckDBConnection;
beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'tierdrift-duckdb-csv-'));
  db = await (await DuckDBInstance.create(':memory:')).connect();
});
afterAll(() => {
  db.closeSync();
  rmSync(root, { recursive: true, force: true });
});

async function publish(input: GenerationConfigInput): Promise<{ dir: string; schema: DatasetSchema }> {
  const config = parseConfig(input);
  const storage = new LocalFolderStorage(root);
  const outcome = await publishDataset(config, { storage });
  const dir = join(root, outcome.prefix);
  return { dir, schema: JSON.parse(readFileSync(join(dir, SCHEMA_FILE), 'utf8')) as DatasetSchema };
}

async function rows(query: string): Promise<Record<string, unknown>[]> {
  return (await db.runAndReadAll(query)).getRowObjectsJS();
}

/** `read_csv(<file>, <options>)` of a table, as DuckDB's SQL. */
const readCsv = (dir: string, table: SchemaTable, options: string) =>
  `read_csv(${sql(join(dir, table.file))}, hive_partitioning = false${options})`;

/** Column name → DuckDB type, as DuckDB reads the table with these options. */
async function typesRead(dir: string, table: SchemaTable, options: string): Promise<Record<string, string>> {
  const described = await rows(`DESCRIBE SELECT * FROM ${readCsv(dir, table, options)}`);
  return Object.fromEntries(described.map((r) => [r.column_name as string, r.column_type as string]));
}

const declared = (table: SchemaTable) => Object.fromEntries(table.columns.map((c) => [c.name, DUCKDB_TYPE[c.type]]));
const timestampFormat = (schema: DatasetSchema) => `, timestampformat = ${sql(schema.timestampFormat)}`;

/** The rows every nullable column may start with: the types read from schema.json for those columns. */
const nullableTypes = (table: SchemaTable) => {
  const nullable = table.columns.filter((c) => c.nullable);
  return nullable.length === 0
    ? ''
    : `, types = {${nullable.map((c) => `${sql(c.name)}: ${sql(DUCKDB_TYPE[c.type])}`).join(', ')}}`;
};

describe('schema.json states the dialect the files are written in', () => {
  it('comma, header, CRLF, no quoting, empty = null, strftime timestamps', async () => {
    const { dir, schema } = await publish({ users: 50, openEndedTiers: true });
    expect(schema.csv).toEqual(CSV_DIALECT);
    expect(schema.timestampFormat).toBe('%Y-%m-%dT%H:%M:%SZ');
    expect(schema.csv.timestampFormat).toBe(schema.timestampFormat);
    for (const table of schema.tables) {
      const text = readFileSync(join(dir, table.file), 'latin1');
      const lines = text.split(schema.csv.lineTerminator);
      expect(lines.pop(), `${table.file} ends with the line terminator`).toBe('');
      expect(lines[0]).toBe(table.columns.map((c) => c.name).join(schema.csv.delimiter));
      expect(text.includes(schema.csv.quoteChar), `${table.file} quotes nothing`).toBe(false);
      expect(/\r(?!\n)|(?<!\r)\n/.test(text), `${table.file}: no lone CR or LF`).toBe(false);
    }
    // DuckDB told the dialect reads the same values it sniffs, and an empty field as NULL.
    const tiers = schema.tables.find((t) => t.name === 'tiers')!;
    const options = `, delim = ${sql(schema.csv.delimiter)}, header = ${schema.csv.header}, quote = ${sql(schema.csv.quoteChar)}, nullstr = ${sql(schema.csv.nullValue)}${timestampFormat(schema)}`;
    const [{ open, all }] = await rows(
      `SELECT count(*) FILTER (WHERE until_datetime IS NULL) AS open, count(*) AS all FROM ${readCsv(dir, tiers, options)}`,
    );
    expect(Number(open)).toBe(50);
    expect(Number(all)).toBe(readFileSync(join(dir, tiers.file), 'latin1').split('\r\n').length - 2);
  });
});

describe("DuckDB's detection gives schema.json's types", () => {
  const configs: [string, GenerationConfigInput][] = [
    ['reference engine, default config', { users: 300 }],
    ['seedrandom engine, open-ended tiers', { engine: 'seedrandom', seed: 3, users: 300, openEndedTiers: true }],
  ];
  for (const [name, input] of configs) {
    it(`${name}: every table, with schema.json's timestamp format`, async () => {
      const { dir, schema } = await publish(input);
      expect(schema.tables.map((t) => t.name)).toContain('upload_50gb_next_hour');
      for (const table of schema.tables)
        expect(await typesRead(dir, table, timestampFormat(schema)), table.file).toEqual(declared(table));
    }, 60_000);
  }

  it('without the format, timestamps are TIMESTAMP WITH TIME ZONE at the same instants', async () => {
    const { dir, schema } = await publish({ users: 300 });
    const uploads = schema.tables.find((t) => t.name === 'uploads')!;
    expect((await typesRead(dir, uploads, '')).datetime).toBe('TIMESTAMP WITH TIME ZONE');
    const epochs = async (options: string) =>
      (await rows(`SELECT sum(epoch(datetime))::BIGINT AS s FROM ${readCsv(dir, uploads, options)}`))[0].s;
    expect(await epochs('')).toBe(await epochs(timestampFormat(schema)));
  });

  it('a task file whose first 20,000+ rows have probability 0 reads as DOUBLE, with the true sum', async () => {
    // The issue's repro: cohort 2 (free all along, probability 0) fills the first 2000 users' rows.
    const { dir, schema } = await publish({ seed: 21, users: 3000, cohortSizes: [0, 2000, 0, 0, 1000] });
    const task = schema.tables.find((t) => t.name === 'upload_50gb_next_hour')!;
    const text = readFileSync(join(dir, task.file), 'latin1').split('\r\n').slice(1, -1);
    const probability = task.columns.findIndex((c) => c.name === 'oracle_probability');
    const values = text.map((line) => line.split(',')[probability]);
    expect(values.findIndex((v) => Number(v) !== 0)).toBeGreaterThan(20_480); // past DuckDB's sample
    const trueSum = values.reduce((sum, v) => sum + Number(v), 0);
    expect(trueSum).toBeGreaterThan(1000);

    expect(await typesRead(dir, task, timestampFormat(schema))).toEqual(declared(task));
    // Plain auto-detection, no options at all: DOUBLE too, and the sum is right.
    const [{ sum, type }] = await rows(
      `SELECT sum(oracle_probability) AS sum, any_value(typeof(oracle_probability)) AS type FROM ${readCsv(dir, task, '')}`,
    );
    expect(type).toBe('DOUBLE');
    expect(sum as number).toBeCloseTo(trueSum, 6);
  }, 60_000);

  it('tiers that start open-ended: VARCHAR by detection; TIMESTAMP given the nullable columns from schema.json', async () => {
    // 21,000 premium-only users first: each has one interval, open-ended, so the first 21,000
    // until_datetime fields are empty and DuckDB's sample (20,480 rows) holds no value to type.
    const { dir, schema } = await publish({
      engine: 'seedrandom',
      users: 22_000,
      cohortSizes: [21_000, 0, 0, 1000, 0],
      end: '2025-03-02T00:00:00Z',
      minTierGapHours: 1,
      openEndedTiers: true,
      tasks: { enabled: false },
    });
    const tiers = schema.tables.find((t) => t.name === 'tiers')!;
    const detected = await typesRead(dir, tiers, timestampFormat(schema));
    expect(detected.until_datetime).toBe('VARCHAR');
    // The exact options the docs give: the format, and the types of schema.json's nullable columns.
    const options = timestampFormat(schema) + nullableTypes(tiers);
    expect(options).toContain(`'until_datetime': 'TIMESTAMP'`);
    expect(await typesRead(dir, tiers, options)).toEqual(declared(tiers));
    const [{ open, closed }] = await rows(
      `SELECT count(*) FILTER (WHERE until_datetime IS NULL) AS open,
              count(*) FILTER (WHERE until_datetime = TIMESTAMP '2025-03-02 00:00:00') AS closed
       FROM ${readCsv(dir, tiers, options)}`,
    );
    expect(Number(open)).toBe(22_000);
    expect(Number(closed)).toBe(0);
    // Sampling the whole file finds the later values: TIMESTAMP by detection alone.
    expect((await typesRead(dir, tiers, `${timestampFormat(schema)}, sample_size = -1`)).until_datetime).toBe(
      'TIMESTAMP',
    );
  }, 120_000);
});

describe('the values DuckDB reads, with the options schema.json gives', () => {
  it('a fan-out run (3 shards, open-ended tiers): rows, sums of ids and of epoch seconds as the text says', async () => {
    const config = parseConfig({ engine: 'seedrandom', seed: 12, users: 450, openEndedTiers: true });
    const outcome = (await runFanoutLocally(config, new LocalFolderStorage(root), {
      shardUsers: 150,
      minPartBytes: 0,
    }))!;
    const dir = join(root, outcome.prefix);
    const schema = JSON.parse(readFileSync(join(dir, SCHEMA_FILE), 'utf8')) as DatasetSchema;
    for (const table of schema.tables) {
      const options = timestampFormat(schema) + nullableTypes(table);
      expect(await typesRead(dir, table, options), table.file).toEqual(declared(table));
      // The same figures from the text itself: integers summed, timestamps parsed to epoch seconds.
      const lines = readFileSync(join(dir, table.file), 'latin1').split('\r\n').slice(1, -1);
      const summed = table.columns.filter((c) => c.type === 'int' || c.type === 'timestamp');
      const expected = summed.map((c) => {
        const i = table.columns.indexOf(c);
        return lines.reduce((sum, line) => {
          const field = line.split(',')[i];
          return field === '' ? sum : sum + (c.type === 'int' ? Number(field) : parseUtcTimestamp(field)!);
        }, 0);
      });
      const sums = summed.map((c) => (c.type === 'int' ? `sum(${c.name})` : `sum(epoch(${c.name}))`));
      const [figures] = await rows(
        `SELECT count(*) AS n, ${sums.map((sum, i) => `${sum}::HUGEINT AS s${i}`).join(', ')} FROM ${readCsv(dir, table, options)}`,
      );
      expect(Number(figures.n), table.file).toBe(outcome.manifest.files.find((f) => f.name === table.file)!.rows);
      expect(
        summed.map((_, i) => Number(figures[`s${i}`])),
        table.file,
      ).toEqual(expected);
    }
  }, 120_000);
});
