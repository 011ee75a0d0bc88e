import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { catalogTables, type CatalogTable } from '../../lambda/dataset/query-catalog.js';

/** The timestamp format of the dataset CSVs, as DuckDB's strftime takes it. */
const CSV_TIMESTAMP_FORMAT = '%Y-%m-%dT%H:%M:%SZ';

const sqlString = (text: string): string => `'${text.replaceAll("'", "''")}'`;

// DuckDB's scan of one table in every dataset under `root` (the hive-style layout
// `<root>/seed=<seed>/<hash>/…`), with each file's path in `filename`. The switch to Parquet is
// this one line (with `parquetTableFolder` imported from lambda/layout/key-layout.ts):
// const tableScan = (root: string, table: CatalogTable): string =>
//   `read_parquet(${sqlString(`${root}/seed=*/*/${parquetTableFolder(table.name)}/*.parquet`)}, filename = true)`;
const tableScan = (root: string, table: CatalogTable): string => csvScan(root, table);

/** A table's CSV files, read with the catalog's (schema.json's) types, never DuckDB's guesses. */
function csvScan(root: string, table: CatalogTable): string {
  const columns = table.columns.map((c) => `${sqlString(c.name)}: ${sqlString(c.type)}`).join(', ');
  return `read_csv(${sqlString(`${root}/seed=*/*/${table.file}`)}, header = true, auto_detect = false, columns = {${columns}}, timestampformat = ${sqlString(CSV_TIMESTAMP_FORMAT)}, filename = true)`;
}

/**
 * An in-memory DuckDB with one view per catalog table, named like the Glue tables, over every
 * dataset under `root`: the columns, then `seed` and `hash` from each file's folder, as Athena's
 * partition projection injects them.
 */
export async function openDuckdbCatalog(root: string): Promise<{ connection: DuckDBConnection; close: () => void }> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  for (const table of catalogTables()) {
    await connection.run(
      `CREATE VIEW ${table.name} AS SELECT ${table.columns.map((c) => c.name).join(', ')},
        regexp_extract(filename, '/seed=([^/]+)/', 1) AS seed,
        regexp_extract(filename, '/seed=[^/]+/([^/]+)/', 1) AS hash
      FROM ${tableScan(root, table)}`,
    );
  }
  return {
    connection,
    close: () => {
      connection.closeSync();
      instance.closeSync();
    },
  };
}
