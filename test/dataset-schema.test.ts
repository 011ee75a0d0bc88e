import { describe, expect, it } from 'vitest';
import { parseConfig } from '../lambda/validation/validate.js';
import {
  buildDatasetSchema,
  schemaJsonText,
  type DatasetSchema,
  type SchemaTable,
} from '../lambda/dataset/dataset-schema.js';

const tableOf = (schema: DatasetSchema, name: string): SchemaTable => {
  const table = schema.tables.find((t) => t.name === name);
  if (!table) throw new Error(`no table ${name}`);
  return table;
};
const columnNames = (t: SchemaTable) => t.columns.map((c) => c.name);

describe('schema.json builder', () => {
  const schema = buildDatasetSchema(parseConfig({}));

  it('the six files, each with its key, links and time columns', () => {
    expect(schema.tables.map((t) => [t.name, t.file])).toEqual([
      ['users', 'users.csv'],
      ['tiers', 'tiers.csv'],
      ['items', 'items.csv'],
      ['uploads', 'uploads.csv'],
      ['truth_users', 'truth/users.csv'],
      ['upload_50gb_next_hour', 'tasks/upload_50gb_next_hour.csv'],
    ]);
    const keys = Object.fromEntries(
      schema.tables.map((t) => [t.name, [t.primaryKey, t.timeColumn, t.endTimeColumn?.column ?? null]]),
    );
    expect(keys).toEqual({
      users: [['user_id'], null, null],
      tiers: [['user_id', 'from_datetime'], 'from_datetime', 'until_datetime'],
      items: [['item_id'], null, null],
      uploads: [['txn_id'], 'datetime', null],
      truth_users: [['user_id'], null, null],
      upload_50gb_next_hour: [['user_id', 'anchor_time'], 'anchor_time', null],
    });
    const links = schema.tables.flatMap((t) =>
      t.foreignKeys.map((fk) => `${t.name}.${fk.column} -> ${fk.references.table}.${fk.references.column}`),
    );
    expect(links).toEqual([
      'tiers.user_id -> users.user_id',
      'uploads.user_id -> users.user_id',
      'uploads.item_id -> items.item_id',
      'truth_users.user_id -> users.user_id',
      'upload_50gb_next_hour.user_id -> users.user_id',
    ]);
  });

  it('is self-consistent: keys and time columns are columns, every link ends at a single-column primary key', () => {
    for (const t of schema.tables) {
      const names = columnNames(t);
      expect(new Set(names).size, t.name).toBe(names.length);
      for (const c of [
        ...t.primaryKey,
        ...t.foreignKeys.map((fk) => fk.column),
        t.timeColumn,
        t.endTimeColumn?.column,
      ]) {
        if (c != null) expect(names, `${t.name}.${c}`).toContain(c);
      }
      if (t.timeColumn) expect(t.columns.find((c) => c.name === t.timeColumn)!.type).toBe('timestamp');
      for (const fk of t.foreignKeys)
        expect(tableOf(schema, fk.references.table).primaryKey).toEqual([fk.references.column]);
      for (const c of t.columns)
        if (c.type === 'category') expect(c.values?.length, `${t.name}.${c.name}`).toBeGreaterThan(0);
    }
  });

  it('the task: PQL over names that exist, item 2 = 50 GB, one-hour horizon', () => {
    const [task] = schema.tasks;
    expect(task.pql).toBe(
      'PREDICT COUNT(uploads.* WHERE uploads.item_id = 2, 0, 1, hours) > 0 FOR users.user_id = {user_id}',
    );
    for (const [, table, column] of task.pql.matchAll(/\b([a-z_]+)\.([a-z_]+)\b/g))
      expect(columnNames(tableOf(schema, table))).toContain(column);
    expect(task.item).toEqual({ itemId: 2, sizeGb: 50 });
    expect(task.horizonHours).toBe(1);
    const table = tableOf(schema, task.table);
    for (const c of [task.anchorColumn, task.labelColumn, task.oracleColumn, task.entity.column])
      expect(columnNames(table)).toContain(c);
    expect(table.foreignKeys).toContainEqual({
      column: task.entity.column,
      references: { table: task.entity.table, column: 'user_id' },
    });
  });

  it('splits: default boundaries at 70% / 85% of the window, or the configured ones, contiguous over the window', () => {
    expect(schema.tasks[0].splits).toEqual([
      { name: 'train', from: '2025-03-01T00:00:00Z', until: '2025-03-08T00:00:00Z' },
      { name: 'val', from: '2025-03-08T00:00:00Z', until: '2025-03-09T12:00:00Z' },
      { name: 'test', from: '2025-03-09T12:00:00Z', until: '2025-03-11T00:00:00Z' },
    ]);
    const given = buildDatasetSchema(
      parseConfig({ tasks: { gridHours: 6, valFrom: '2025-03-05T00:00:00Z', testFrom: '2025-03-05T00:00:00Z' } }),
    );
    expect(given.tasks[0].splits.map((s) => [s.from, s.until])).toEqual([
      ['2025-03-01T00:00:00Z', '2025-03-05T00:00:00Z'],
      ['2025-03-05T00:00:00Z', '2025-03-05T00:00:00Z'],
      ['2025-03-05T00:00:00Z', '2025-03-11T00:00:00Z'],
    ]);
    expect(given.tasks[0].anchors.gridHours).toBe(6);
  });

  it('openEndedTiers: until_datetime nullable and the end-time column open-ended; nothing else changes', () => {
    const open = buildDatasetSchema(parseConfig({ openEndedTiers: true }));
    const until = (s: DatasetSchema) => tableOf(s, 'tiers').columns.find((c) => c.name === 'until_datetime')!;
    expect(until(schema).nullable).toBeUndefined();
    expect(until(open).nullable).toBe(true);
    expect(tableOf(schema, 'tiers').endTimeColumn).toEqual({
      column: 'until_datetime',
      exclusive: true,
      openEnded: false,
    });
    expect(tableOf(open, 'tiers').endTimeColumn).toEqual({
      column: 'until_datetime',
      exclusive: true,
      openEnded: true,
    });
    const withoutTiers = (s: DatasetSchema) => ({ ...s, tables: s.tables.filter((t) => t.name !== 'tiers') });
    expect(withoutTiers(open)).toEqual(withoutTiers(schema));
  });

  it('text: pretty JSON with one trailing newline, ASCII only, the same for the same config', () => {
    const text = schemaJsonText(parseConfig({ seed: 9, openEndedTiers: true }));
    expect(text).toBe(schemaJsonText(parseConfig({ seed: 9, openEndedTiers: true })));
    expect(text.endsWith('}\n')).toBe(true);
    expect(/^[\x20-\x7e\n]*$/.test(text)).toBe(true);
    expect(JSON.parse(text)).toEqual(buildDatasetSchema(parseConfig({ seed: 9, openEndedTiers: true })));
  });
});
