import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../lambda/validation/validate.js';
import { buildDatasetSchema, type SchemaTable } from '../lambda/dataset/dataset-schema.js';

/**
 * docs/load_dataset.py (the KumoRFM / RelBench loading example of docs/benchmark-task.md) cannot run here (no
 * Python, no KumoRFM), so this checks what it names against schema.json: the tables, primary keys,
 * time and end-time columns and links must be the ones the dataset declares.
 */
const script = readFileSync(new URL('../docs/load_dataset.py', import.meta.url), 'utf8');
const schema = buildDatasetSchema(parseConfig({ openEndedTiers: true }));
const table = (name: string): SchemaTable => {
  const found = schema.tables.find((t) => t.name === name);
  if (!found)
    throw new Error(`docs/load_dataset.py names table ${JSON.stringify(name)}, which schema.json does not have`);
  return found;
};
/** The one primary key a single-key loader can take: the column, or None for a composite key. */
const singleKey = (t: SchemaTable): string => (t.primaryKey.length === 1 ? `"${t.primaryKey[0]}"` : 'None');
/** `key=value` arguments of a call, values as written (a string literal, None, or a dict). */
const kwargs = (args: string): Record<string, string> =>
  Object.fromEntries([...args.matchAll(/(\w+)=("[^"]*"|None|\{[^}]*\})/g)].map((m) => [m[1], m[2]]));
const dictOf = (text: string): Record<string, string> =>
  Object.fromEntries([...text.matchAll(/"(\w+)":\s*"(\w+)"/g)].map((m) => [m[1], m[2]]));
const quoted = (name: string | null | undefined) => (name == null ? undefined : `"${name}"`);
const graphTables = ['users', 'tiers', 'items', 'uploads'];
const linksAmong = (names: string[]) =>
  names
    .flatMap((n) =>
      table(n)
        .foreignKeys.filter((fk) => names.includes(fk.references.table))
        .map((fk) => `${n}.${fk.column} -> ${fk.references.table}`),
    )
    .sort();

describe('docs/load_dataset.py against schema.json', () => {
  it('every dfs["..."] is a table of schema.json', () => {
    const names = [...script.matchAll(/dfs\["(\w+)"\]/g)].map((m) => m[1]);
    expect(new Set(names)).toEqual(new Set(graphTables));
    for (const name of names) table(name);
  });

  it('KumoRFM: one LocalTable per graph table with its single primary key (or None), time and end-time columns', () => {
    const calls = [...script.matchAll(/rfm\.LocalTable\(dfs\["(\w+)"\], (.*)\)$/gm)];
    expect(calls.map((m) => m[1])).toEqual(graphTables);
    for (const [, name, args] of calls) {
      const t = table(name);
      const a = kwargs(args);
      expect(a.name, name).toBe(`"${name}"`);
      expect(a.primary_key, name).toBe(singleKey(t));
      expect(a.time_column, name).toBe(quoted(t.timeColumn));
      expect(a.end_time_column, name).toBe(quoted(t.endTimeColumn?.column));
    }
    // Today's SDK builds a Graph (LocalGraph is only its old alias).
    expect(script).toMatch(/rfm\.Graph\(tables=\[users, tiers, items, uploads\]\)/);
    expect(script).not.toContain('LocalGraph');
    expect(script).toContain('import kumoai.rfm as rfm');
  });

  it('KumoRFM: the links are exactly the foreign keys among the graph tables', () => {
    const links = [...script.matchAll(/graph\.link\(src_table="(\w+)", fkey="(\w+)", dst_table="(\w+)"\)/g)].map(
      (m) => `${m[1]}.${m[2]} -> ${m[3]}`,
    );
    expect(links.sort()).toEqual(linksAmong(graphTables));
  });

  it("KumoRFM: one batch prediction, the task's PQL FOR EACH user, at an anchor time, with a run mode", () => {
    const replaced = /query = task\["pql"\]\.replace\("([^"]+)", "([^"]+)"\)/.exec(script);
    expect(replaced).not.toBeNull();
    const [, single, each] = replaced!;
    // The text replaced is in the PQL schema.json gives; the result names no single user.
    const pql = schema.tasks[0].pql;
    expect(pql).toContain(single);
    const query = pql.replace(single, each);
    expect(query).toMatch(/ FOR EACH users\.user_id$/);
    expect(query).not.toContain('{user_id}');
    expect(script).toContain('with model.batch_mode(batch_size="max", num_retries=1):');
    expect(script).toContain(
      'model.predict(query, indices=rows["user_id"].tolist(), anchor_time=anchor_time, run_mode="fast")',
    );
    expect(script).toContain(
      'model.evaluate(query, indices=rows["user_id"].tolist(), anchor_time=anchor_time, run_mode="fast")',
    );
    // No loop of single queries.
    expect(script).not.toMatch(/for .* in .*itertuples/);
    expect(schema.tasks[0].anchorColumn).toBe('anchor_time');
  });

  it('reads every table from its Parquet folder and the timestamp format from schema.json', () => {
    expect(script).toContain('pd.read_parquet(f"{DATASET}/parquet/{name}/")');
    expect(script).toContain('dfs = {name: load(name) for name in tables}');
    expect(script).toContain('date_format=schema["timestampFormat"]');
    expect(schema.timestampFormat).toBe('%Y-%m-%dT%H:%M:%SZ');
  });

  it('RelBench: each Table with the foreign keys, single primary key and time column schema.json gives', () => {
    const calls = [
      ...script.matchAll(/^\s+"(\w+)": Table\(dfs\["(\w+)"\](?:\.drop\(columns=\["(\w+)"\]\))?, (.*)\),$/gm),
    ];
    expect(calls.map((m) => m[1])).toEqual(graphTables);
    for (const [, key, name, dropped, args] of calls) {
      expect(key).toBe(name);
      const t = table(name);
      const a = kwargs(args);
      const fks = Object.fromEntries(t.foreignKeys.map((fk) => [fk.column, fk.references.table]));
      expect(dictOf(a.fkey_col_to_pkey_table), name).toEqual(fks);
      expect(a.pkey_col, name).toBe(singleKey(t));
      expect(a.time_col, name).toBe(quoted(t.timeColumn));
      // The only column dropped is the end-time column RelBench cannot express.
      expect(dropped, name).toBe(t.endTimeColumn?.column);
    }
  });

  it('RelBench: the task tables keep columns of the task file and use its anchor column as time', () => {
    const task = schema.tasks[0];
    const columns = table(task.table).columns.map((c) => c.name);
    const kept = /\[\["(\w+)", "(\w+)", "(\w+)"\]\]\.reset_index/.exec(script)!.slice(1);
    expect(kept).toEqual([task.entity.column, task.anchorColumn, task.labelColumn]);
    for (const c of kept) expect(columns).toContain(c);
    expect(script).toMatch(
      new RegExp(`time_col="${task.anchorColumn}",\\n\\s+\\)\\n\\s+for split in task\\["splits"\\]`),
    );
  });
});
