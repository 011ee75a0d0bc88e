import { generationConfigSchema } from '../config/schema.js';
import { buildDatasetSchema, type ColumnType, type SchemaColumn } from './dataset-schema.js';

/**
 * A dataset's tables as a query engine's catalog sees them: the Glue tables the stack declares for
 * Athena, and the views the tests build in DuckDB. Columns and types come from schema.json's
 * source (dataset-schema.ts) through one mapping, so the catalog cannot drift from the files.
 */

/** The Hive/Glue type of each schema.json column type; DuckDB takes the same names. */
export const HIVE_TYPES = {
  int: 'bigint',
  float: 'double',
  string: 'string',
  category: 'string',
  timestamp: 'timestamp',
} as const satisfies Record<ColumnType, string>;

export type HiveType = (typeof HIVE_TYPES)[ColumnType];

export interface CatalogColumn {
  name: string;
  type: HiveType;
  comment: string;
}

export interface CatalogTable {
  /** The table's name in the catalog: schema.json's table name, which also names its Parquet folder. */
  name: string;
  /** Its CSV file, relative to the dataset's folder. */
  file: string;
  description: string;
  columns: CatalogColumn[];
}

/**
 * Which dataset a row is from: every catalog table spans all datasets under the root, and a query
 * names one by its folder `seed=<seed>/<hash>` (Athena's partition projection injects both).
 */
export const PARTITION_COLUMNS: readonly CatalogColumn[] = [
  { name: 'seed', type: 'string', comment: 'the dataset folder seed=<seed>: its config seed' },
  {
    name: 'hash',
    type: 'string',
    comment: 'the dataset folder <hash>: its config hash (the dataset id seed-<seed>-<hash>)',
  },
];

/**
 * The tables of every dataset. One catalog serves all configs: the types do not depend on the
 * config, and a description that does (open-ended tiers) says both.
 */
export function catalogTables(): CatalogTable[] {
  const closed = buildDatasetSchema(generationConfigSchema.parse({}));
  const open = buildDatasetSchema(generationConfigSchema.parse({ openEndedTiers: true }));
  const comment = (column: SchemaColumn, other: SchemaColumn | undefined): string =>
    other === undefined || other.description === column.description
      ? column.description
      : `${column.description} (with openEndedTiers: ${other.description})`;
  return closed.tables.map((table) => {
    const openTable = open.tables.find((t) => t.name === table.name);
    return {
      name: table.name,
      file: table.file,
      description: table.description,
      columns: table.columns.map((column) => ({
        name: column.name,
        type: HIVE_TYPES[column.type],
        comment: comment(
          column,
          openTable?.columns.find((c) => c.name === column.name),
        ),
      })),
    };
  });
}
