import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GenerationConfig, GenerationConfigInput } from '../lambda/config/schema.js';
import { parseConfig } from '../lambda/validation/validate.js';
import {
  buildDatasetSchema,
  type ColumnType,
  type SchemaColumn,
  type SchemaTable,
} from '../lambda/dataset/dataset-schema.js';
import type { Manifest } from '../lambda/dataset/manifest.js';
import { parquetPartUsers, ROW_GROUP_ROWS } from '../lambda/dataset/parquet-table.js';
import { taskDatasetOf } from '../lambda/evaluation/task-dataset.js';
import { estimateOutput } from '../lambda/catalog/output-estimate.js';
import { runFanoutLocally } from '../lambda/fanout/fanout-steps.js';
import { planShards } from '../lambda/fanout/plan-shards.js';
import { fetchDataset } from '../lambda/publish/fetch-dataset.js';
import { publishDataset, type PublishOutcome } from '../lambda/publish/publish-dataset.js';
import { verifyDataset } from '../lambda/publish/verify-dataset.js';
import { MANIFEST_FILE } from '../lambda/layout/tables.js';
import { LocalFolderStorage } from '../lambda/storage/local-folder-storage.js';
import { bundleEngineWorker } from './support/engine-worker-bundle.js';
import { runCli } from './support/run-cli.js';
import { startLocalS3, type LocalS3 } from './support/local-s3.js';
import { createHarness, apiEvent, withRequest } from './support/handler-harness.js';

const tmp = mkdtempSync(join(tmpdir(), 'tierdrift-parquet-'));
let db: DuckDBInstance;
let duck: DuckDBConnection;
let workerUrl: URL;
beforeAll(async () => {
  db = await DuckDBInstance.create(':memory:');
  duck = await db.connect();
  workerUrl = await bundleEngineWorker(join(tmp, 'bundle'));
}, 120_000);
afterAll(() => {
  duck.closeSync();
  db.closeSync();
  rmSync(tmp, { recursive: true, force: true });
});

/** Two days on a 90-second task grid: ~1,900 rows a user, so 900 users make two Parquet parts. */
const MULTI_PART: GenerationConfigInput = {
  engine: 'seedrandom',
  seed: 3,
  users: 900,
  end: '2025-03-03T00:00:00Z',
  minTierGapHours: 6,
  tasks: { gridHours: 0.025 },
  formats: ['csv', 'parquet'],
};
/** The reference engine, open-ended tiers (a nullable timestamp), one part. */
const REFERENCE: GenerationConfigInput = { seed: 11, users: 300, openEndedTiers: true, formats: ['csv', 'parquet'] };

const rows = async (sql: string): Promise<Array<Record<string, unknown>>> =>
  (await duck.runAndReadAll(sql)).getRowObjectsJson();

const DUCKDB_TYPES: Record<ColumnType, string> = {
  int: 'BIGINT',
  float: 'DOUBLE',
  string: 'VARCHAR',
  category: 'VARCHAR',
  timestamp: 'TIMESTAMP',
};

const parquetFiles = (manifest: Manifest, table: SchemaTable): string[] =>
  manifest.files.filter((f) => f.name.startsWith(`parquet/${table.name}/`)).map((f) => f.name);

async function publish(
  raw: GenerationConfigInput,
  name: string,
  options: { workers?: number; blockUsers?: number } = {},
): Promise<{ config: GenerationConfig; outcome: PublishOutcome; root: string }> {
  const config = parseConfig(raw);
  const folder = join(tmp, name);
  const outcome = await publishDataset(config, {
    storage: new LocalFolderStorage(folder),
    // With threads, the Parquet parts are encoded on the bundled Parquet worker too.
    ...(options.workers
      ? { engineWorker: workerUrl, parquetWorker: new URL('parquet-worker.mjs', workerUrl), ...options }
      : {}),
  });
  return { config, outcome, root: join(folder, outcome.prefix) };
}

/**
 * Reads every Parquet part back with DuckDB and holds it against the schema and the CSV: declared
 * types, row counts, sums of ids and of epoch seconds (and of floats), nulls; RelBench's metadata,
 * ZSTD, dictionary-encoded categories; each part holds only its users.
 */
async function checkParquet(config: GenerationConfig, manifest: Manifest, root: string): Promise<void> {
  const per = parquetPartUsers(config);
  for (const table of buildDatasetSchema(config).tables) {
    const files = parquetFiles(manifest, table);
    expect(files.length, table.name).toBe(table.name === 'items' ? 1 : Math.ceil(config.users / per));
    for (const name of files) expect(existsSync(join(root, name)), name).toBe(true);
    const parquet = `read_parquet('${root}/parquet/${table.name}/*.parquet', hive_partitioning = false)`;
    const described = await rows(`DESCRIBE SELECT * FROM ${parquet}`);
    expect(
      described.map((d) => [d.column_name, d.column_type]),
      table.name,
    ).toEqual(table.columns.map((c) => [c.name, DUCKDB_TYPES[c.type]]));

    // The CSV read as text and cast, so that the comparison does not rest on DuckDB's type detection.
    const csv = `read_csv('${root}/${table.file}', header = true, all_varchar = true)`;
    const aggregate = (source: string, fromText: boolean): string =>
      [
        'count(*)::VARCHAR AS n',
        ...table.columns.map((c) => {
          const value =
            c.type === 'timestamp'
              ? fromText
                ? `epoch(strptime(nullif(${c.name}, ''), '%Y-%m-%dT%H:%M:%SZ'))`
                : `epoch(${c.name})`
              : c.type === 'int'
                ? `${c.name}::BIGINT`
                : c.type === 'float'
                  ? `${c.name}::DOUBLE`
                  : `length(${c.name})`;
          return `sum(${value})::VARCHAR AS ${c.name}, count(nullif(${c.name}::VARCHAR, ''))::VARCHAR AS ${c.name}_present`;
        }),
      ].join(', ') + ` FROM ${source}`;
    const [fromParquet] = await rows(`SELECT ${aggregate(parquet, false)}`);
    const [fromCsv] = await rows(`SELECT ${aggregate(csv, true)}`);
    // Float sums are compared apart: DuckDB may add in another order.
    const floats = new Set(table.columns.filter((c) => c.type === 'float').map((c) => c.name));
    const exact = (r: Record<string, unknown>) => Object.entries(r).filter(([k]) => !floats.has(k));
    for (const name of floats) {
      const [a, b] = [Number(fromParquet[name]), Number(fromCsv[name])];
      expect(Math.abs(a - b), name).toBeLessThanOrEqual(1e-12 * Math.abs(b));
    }
    expect(exact(fromParquet), table.name).toEqual(exact(fromCsv));
    expect(Number(fromParquet.n)).toBe(manifest.files.find((f) => f.name === table.file)?.rows);

    // Row by row, every value the very value of the CSV's text (floats to the bit), in file order.
    const typed = (c: SchemaColumn) =>
      c.type === 'timestamp'
        ? `strptime(nullif(${c.name}, ''), '%Y-%m-%dT%H:%M:%SZ')`
        : c.type === 'int'
          ? `${c.name}::BIGINT`
          : c.type === 'float'
            ? `${c.name}::DOUBLE`
            : c.name;
    const [{ differing }] = await rows(
      `SELECT count(*)::INT AS differing FROM (SELECT * FROM ${parquet}) POSITIONAL JOIN ` +
        `(SELECT ${table.columns.map((c) => `${typed(c)} AS csv_${c.name}`).join(', ')} FROM ${csv}) ` +
        `WHERE ${table.columns.map((c) => `${c.name} IS DISTINCT FROM csv_${c.name}`).join(' OR ')}`,
    );
    expect(differing, table.name).toBe(0);

    // Row groups of ROW_GROUP_ROWS rows (the last of a part shorter); each one's statistics are its values' own.
    for (const name of files) {
      const file = `${root}/${name}`;
      for (const c of table.columns) {
        // Parquet's rule: a zero minimum is written -0.0.
        const zero = (value: string) => (c.type === 'float' ? `(${value} + 0)` : value);
        const stated = await rows(
          `SELECT row_group_id::INT AS rg, ${zero(`TRY_CAST(stats_min_value AS ${DUCKDB_TYPES[c.type]})`)}::VARCHAR AS lo, ` +
            `TRY_CAST(stats_max_value AS ${DUCKDB_TYPES[c.type]})::VARCHAR AS hi, stats_null_count::INT AS nulls ` +
            `FROM parquet_metadata('${file}') WHERE path_in_schema = '${c.name}' ORDER BY rg`,
        );
        const actual = await rows(
          `SELECT (file_row_number // ${ROW_GROUP_ROWS})::INT AS rg, min(${c.name})::VARCHAR AS lo, max(${c.name})::VARCHAR AS hi, ` +
            `count(*) FILTER (WHERE ${c.name} IS NULL)::INT AS nulls ` +
            `FROM read_parquet('${file}', file_row_number = true) GROUP BY rg ORDER BY rg`,
        );
        expect(stated, `${name} ${c.name}`).toEqual(actual);
      }
    }
    for (const name of files) {
      const file = `${root}/${name}`;
      const metadata = await rows(
        `SELECT decode(key) AS key, decode(value) AS value FROM parquet_kv_metadata('${file}') ORDER BY 1`,
      );
      expect(Object.fromEntries(metadata.map((m) => [m.key, JSON.parse(String(m.value))]))).toEqual({
        fkey_col_to_pkey_table: Object.fromEntries(table.foreignKeys.map((f) => [f.column, f.references.table])),
        pkey_col: table.primaryKey.length === 1 ? table.primaryKey[0] : null,
        time_col: table.timeColumn,
      });
      const chunks = await rows(
        `SELECT path_in_schema AS col, compression, encodings FROM parquet_metadata('${file}')`,
      );
      for (const chunk of chunks) {
        expect(chunk.compression).toBe('ZSTD');
        const type = table.columns.find((c) => c.name === chunk.col)?.type;
        expect(String(chunk.encodings).includes('DICTIONARY'), `${name} ${String(chunk.col)}`).toBe(
          type === 'category',
        );
      }
      const [{ n, lo, hi }] = await rows(
        `SELECT count(*)::INT AS n, min(${table.columns[0].name === 'txn_id' ? 'user_id' : table.columns[0].name})::INT AS lo, max(${table.columns[0].name === 'txn_id' ? 'user_id' : table.columns[0].name})::INT AS hi FROM read_parquet('${file}')`,
      );
      expect(n).toBe(manifest.files.find((f) => f.name === name)?.rows);
      if (table.name !== 'items' && Number(n) > 0) {
        const part = Number(/part-(\d+)/.exec(name)?.[1]);
        expect(Number(lo)).toBeGreaterThanOrEqual(part * per + 1);
        expect(Number(hi)).toBeLessThanOrEqual((part + 1) * per);
      }
    }
  }
}

const parquetDigests = (manifest: Manifest) =>
  manifest.files
    .filter((f) => f.name.startsWith('parquet/'))
    .map(({ name, rows, bytes, sha256 }) => ({ name, rows, bytes, sha256 }));

describe('Parquet output', () => {
  const runs: Record<string, { config: GenerationConfig; outcome: PublishOutcome; root: string }> = {};

  it('a multi-part dataset: DuckDB reads every part with the declared types, the same rows as the CSV', async () => {
    const run = (runs.single = await publish(MULTI_PART, 'single'));
    expect(parquetPartUsers(run.config)).toBeLessThan(run.config.users);
    await checkParquet(run.config, run.outcome.manifest, run.root);
    expect((await verifyDataset(new LocalFolderStorage(run.root), '')).complete).toBe(true);
  }, 120_000);

  it('the same Parquet bytes from 3 engine threads with the Parquet worker, and from the fan-out', async () => {
    const threads = await publish(MULTI_PART, 'threads', { workers: 3, blockUsers: 64 });
    const config = parseConfig(MULTI_PART);
    const storage = new LocalFolderStorage(join(tmp, 'fanout'));
    const shards = planShards(config, { shardUsers: 200, minPartBytes: 0 });
    expect(shards.length).toBeGreaterThan(1);
    const fanout = await runFanoutLocally(config, storage, { shardUsers: 200, minPartBytes: 0 });
    const single = parquetDigests(runs.single.outcome.manifest);
    expect(single.length).toBeGreaterThan(6);
    expect(parquetDigests(threads.outcome.manifest)).toEqual(single);
    expect(parquetDigests(fanout!.manifest)).toEqual(single);
    expect(fanout!.manifest.files.map((f) => f.sha256)).toEqual(
      runs.single.outcome.manifest.files.map((f) => f.sha256),
    );
  }, 180_000);

  it('shards end on Parquet part boundaries', () => {
    const config = parseConfig({ ...MULTI_PART, users: 5000 });
    const per = parquetPartUsers(config);
    for (const shardUsers of [1, 100, per + 1, 3 * per - 1]) {
      const shards = planShards(config, { shardUsers, minPartBytes: 0 });
      for (const s of shards.slice(0, -1)) expect(s.to % per, `shardUsers ${shardUsers}`).toBe(0);
      expect(shards.at(-1)?.to).toBe(config.users);
    }
  });

  it('the reference engine, open-ended tiers: null end times read back as NULL; 1 and 2 threads agree', async () => {
    const one = await publish(REFERENCE, 'reference-1');
    const two = await publish(REFERENCE, 'reference-2', { workers: 2 });
    await checkParquet(one.config, one.outcome.manifest, one.root);
    const [{ open }] = await rows(
      `SELECT count(*)::INT AS open FROM read_parquet('${one.root}/parquet/tiers/*.parquet') WHERE until_datetime IS NULL`,
    );
    expect(open).toBe(one.config.users);
    expect(parquetDigests(two.outcome.manifest)).toEqual(parquetDigests(one.outcome.manifest));
  }, 120_000);

  it('times far from 1970 (years 1000 and 9999, beyond 2^53 µs) are written exactly, statistics too', async () => {
    for (const [name, window] of [
      ['year-1000', { start: '1000-03-01T00:00:00Z', end: '1000-03-08T00:00:00Z' }],
      ['year-9999', { start: '9999-12-01T00:00:00Z', end: '9999-12-31T00:00:00Z' }],
    ] as const) {
      const run = await publish(
        { seed: 5, users: 200, openEndedTiers: true, minTierGapHours: 6, ...window, formats: ['csv', 'parquet'] },
        name,
      );
      await checkParquet(run.config, run.outcome.manifest, run.root);
    }
  }, 120_000);

  it('Parquet only: no CSV written, the same Parquet bytes (the fan-out too); verify, fetch; CSV readers refuse it naming the format', async () => {
    const run = await publish({ ...MULTI_PART, formats: ['parquet'] }, 'parquet-only');
    const { manifest } = run.outcome;
    expect(manifest.files.filter((f) => f.name.endsWith('.csv'))).toEqual([]);
    expect(parquetDigests(manifest)).toEqual(parquetDigests(runs.single.outcome.manifest));
    // The fan-out of a Parquet-only config (no text anywhere): the same files, report included.
    const fanout = await runFanoutLocally(run.config, new LocalFolderStorage(join(tmp, 'parquet-only-fanout')), {
      shardUsers: 200,
      minPartBytes: 0,
    });
    expect(fanout?.manifest.files).toEqual(manifest.files);
    expect(readdirSync(run.root).sort()).toEqual([
      'manifest.json',
      'parquet',
      'report-data.json',
      'report.html',
      'schema.json',
    ]);
    // The estimate names every file the dataset has, and leans high on the Parquet bytes (it drives caps and placement).
    const estimate = estimateOutput(run.config).files;
    expect(estimate.map((f) => f.name)).toEqual([...manifest.files.map((f) => f.name), MANIFEST_FILE]);
    const parquetBytes = (files: Array<{ name: string; bytes: number }>) =>
      files.filter((f) => f.name.endsWith('.parquet')).reduce((sum, f) => sum + f.bytes, 0);
    expect(parquetBytes(estimate)).toBeGreaterThanOrEqual(parquetBytes(manifest.files));
    // A 90-second grid repeats most task values, which zstd packs far below the per-row figure (~1.6x over at the default config).
    expect(parquetBytes(estimate)).toBeLessThanOrEqual(8 * parquetBytes(manifest.files));

    const storage = new LocalFolderStorage(run.root);
    const verified = await verifyDataset(storage, '');
    expect(verified.complete && verified.ok).toBe(true);
    const out = join(tmp, 'fetched');
    await fetchDataset(storage, '', new LocalFolderStorage(out));
    expect(existsSync(join(out, 'parquet/upload_50gb_next_hour/part-00001.parquet'))).toBe(true);
    writeFileSync(join(run.root, 'parquet/uploads/part-00000.parquet'), 'not parquet');
    const broken = await verifyDataset(storage, '');
    expect(broken.complete && broken.files.find((f) => f.status !== 'ok')?.name).toBe(
      'parquet/uploads/part-00000.parquet',
    );

    expect(() => taskDatasetOf(manifest)).toThrow(
      `${manifest.datasetId} has no CSV files (formats: parquet); evaluation reads CSV: publish the config with "formats": ["csv", "parquet"]`,
    );
  }, 120_000);
});

describe('bad formats: a clear error, nothing written', () => {
  const BAD: Array<[unknown, string, string]> = [
    [[], 'formats', 'must be a non-empty array of distinct formats from: csv, parquet'],
    [['csv', 'csv'], 'formats', 'must be a non-empty array of distinct formats from: csv, parquet'],
    ['parquet', 'formats', 'must be a non-empty array of distinct formats from: csv, parquet'],
    [['orc'], 'formats.0', 'must be one of: csv, parquet'],
  ];

  it.each(BAD)('CLI: formats %j → exit 2', async (formats, field, rule) => {
    const dir = mkdtempSync(join(tmp, 'cli-'));
    writeFileSync(join(dir, 'config.json'), JSON.stringify({ users: 10, formats }));
    const run = await runCli(['generate', '-c', join(dir, 'config.json'), '-d', join(dir, 'out')]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`${field}: ${rule}`);
    expect(existsSync(join(dir, 'out'))).toBe(false);
  });

  it('API: 400 naming the field and rule, nothing in the bucket', async () => {
    const s3: LocalS3 = await startLocalS3();
    s3.useAsSdkEndpoint();
    try {
      const h = await createHarness(s3);
      for (const [formats, field, rule] of BAD) {
        const response = await h.api(
          withRequest(apiEvent('api-post-default.json'), { body: JSON.stringify({ users: 10, formats }) }),
        );
        expect(response.statusCode).toBe(400);
        expect(response.json.errors).toEqual([{ field, rule }]);
      }
      expect(await h.keys()).toEqual([]);

      // A Parquet-only dataset: published with its parts listed (and signed); the tiers route, which reads CSV, refuses it.
      const posted = await h.api(
        withRequest(apiEvent('api-post-default.json'), { body: JSON.stringify({ users: 10, formats: ['parquet'] }) }),
      );
      expect(posted.statusCode).toBe(201);
      const files = posted.json.files as Array<{ name: string; url: string }>;
      expect(files.map((f) => f.name)).toContain('parquet/uploads/part-00000.parquet');
      const part = await fetch(files.find((f) => f.name === 'parquet/uploads/part-00000.parquet')!.url);
      expect(
        Buffer.from(await part.arrayBuffer())
          .subarray(0, 4)
          .toString(),
      ).toBe('PAR1');
      const id = String(posted.json.datasetId);
      const tiers = await h.api(withRequest(apiEvent('api-get-tiers.json'), { path: `/datasets/${id}/users/1/tiers` }));
      expect(tiers.statusCode).toBe(404);
      expect(tiers.json.errors).toEqual([
        {
          field: 'datasetId',
          rule: `${id} has no CSV files (formats: parquet); the tiers route reads CSV: publish the config with "formats": ["csv", "parquet"]`,
        },
      ]);
    } finally {
      await s3.stop();
    }
  });
});
