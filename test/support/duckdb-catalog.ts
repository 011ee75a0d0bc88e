import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { catalogTables, type CatalogTable } from '../../lambda/dataset/query-catalog.js';
import { parquetPartFile } from '../../lambda/layout/key-layout.js';

/** The timestamp format of the dataset CSVs, as DuckDB's strftime takes it. */
const CSV_TIMESTAMP_FORMAT = '%Y-%m-%dT%H:%M:%SZ';

const sqlString = (text: string): string => `'${text.replaceAll("'", "''")}'`;

// DuckDB's scan of one table's Parquet parts (`<dataset>/parquet/<table>/part-<n>.parquet`) in
// every dataset under `root` (the hive-style layout `<root>/seed=<seed>/<hash>/…`), as the Glue
// tables read them, with each file's path in `filename`.
const tableScan = (root: string, table: CatalogTable): string =>
  `read_parquet(${sqlString(`${root}/seed=*/*/${dirname(parquetPartFile(table.name, 0))}/*.parquet`)}, filename = true)`;

/** CSV files of a table, read with the catalog's (schema.json's) types, never DuckDB's guesses. */
function csvScan(files: string, table: CatalogTable): string {
  const columns = table.columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(', ');
  return `read_csv(${sqlString(files)}, header = true, auto_detect = false, columns = {${columns}}, timestampformat = ${sqlString(CSV_TIMESTAMP_FORMAT)}, filename = true)`;
}

export interface DuckdbCatalog {
  connection: DuckDBConnection;
  /**
   * Writes tables of a dataset into its folder `dir` in both layouts the views may read: the CSV
   * file (header and rows as given, CRLF) and, converted by DuckDB with the catalog's types, one
   * Parquet part. For datasets a test makes by hand (e.g. a tampered copy).
   */
  writeTables: (dir: string, tables: Record<string, string[][]>) => Promise<void>;
  close: () => void;
}

function catalogTable(name: string): CatalogTable {
  const table = catalogTables().find((t) => t.name === name);
  if (!table) throw new Error(`no catalog table ${name}`);
  return table;
}

/**
 * An in-memory DuckDB with one view per catalog table, named like the Glue tables, over every
 * dataset under `root`: the columns with the catalog's types, then `seed` and `hash` from each
 * file's folder, as Athena's partition projection injects them.
 */
export async function openDuckdbCatalog(root: string): Promise<DuckdbCatalog> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  // Timestamps are UTC; a reader that types them as instants (TIMESTAMPTZ) is brought back to UTC wall time.
  await connection.run(`SET TimeZone = 'UTC'`);
  for (const table of catalogTables()) {
    await connection.run(
      `CREATE VIEW ${table.name} AS SELECT ${table.columns.map((c) => `CAST(${c.name} AS ${c.type}) AS ${c.name}`).join(', ')},
        regexp_extract(filename, '/seed=([^/]+)/', 1) AS seed,
        regexp_extract(filename, '/seed=[^/]+/([^/]+)/', 1) AS hash
      FROM ${tableScan(root, table)}`,
    );
  }
  const writeTables = async (dir: string, tables: Record<string, string[][]>): Promise<void> => {
    for (const [name, rows] of Object.entries(tables)) {
      const table = catalogTable(name);
      const csv = join(dir, table.file);
      const lines = [table.columns.map((c) => c.name).join(','), ...rows.map((row) => row.join(','))];
      mkdirSync(dirname(csv), { recursive: true });
      writeFileSync(csv, `${lines.join('\r\n')}\r\n`);
      const part = join(dir, parquetPartFile(table.name, 0));
      mkdirSync(dirname(part), { recursive: true });
      await connection.run(
        `COPY (SELECT * EXCLUDE (filename) FROM ${csvScan(csv, table)}) TO ${sqlString(part)} (FORMAT parquet)`,
      );
    }
  };
  return {
    connection,
    writeTables,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
