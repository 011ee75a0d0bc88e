import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseUnambiguousJson } from '../lambda/config/unambiguous-json.js';
import { runCli } from './support/run-cli.js';

describe('parseUnambiguousJson', () => {
  it.each([
    ['{"seed": 1, "seed": 2}', 'seed'],
    ['{"a": {"b": 1, "b": 2}}', 'a.b'],
    ['{"a": [{"b": 1}, {"c": 1, "c": 2}]}', 'a.1.c'],
    ['[{"x": 1, "y": {"z": 1, "z": 1}}]', '0.y.z'],
    ['{"se\\u0065d": 1, "seed": 2}', 'seed'],
    ['{"\\u00e9": 1, "é": 2}', 'é'],
    ['{"a.b": 1, "a.b": 2}', 'a.b'],
    ['{"": 1, "": 2}', ''],
    ['{"__proto__": 1, "__proto__": 2}', '__proto__'],
    ['{"a": 1, "b": {"a": 1, "a": 1}, "a": 2}', 'b.a'], // the first repeat in text order
  ])('%s: refuses the repeated key %j', (text, path) => {
    expect(parseUnambiguousJson(text)).toEqual({ ok: false, duplicateKey: path });
  });

  it.each([
    '{"a": 1, "b": {"a": 1}, "c": [{"a": 1}, {"a": 2}]}',
    '{"seed": 1e3, "x": -0.0, "y": 12345678901234567890, "s": "\\ud83d\\ude00 \\n"}',
    '[1, "a", null, true, {"k": {}}]',
    '"just a string"',
    '  {"padded": 1}\n',
  ])('accepts %s exactly as JSON.parse reads it', (text) => {
    expect(parseUnambiguousJson(text)).toEqual({ ok: true, value: JSON.parse(text) });
  });

  it('reads a text nested a million levels deep without running out of stack, and finds a repeat at the bottom', () => {
    const n = 1_000_000;
    expect(parseUnambiguousJson(`${'['.repeat(n)}${']'.repeat(n)}`).ok).toBe(true);
    const deep = `${'{"a": ['.repeat(n)}{"x": 1, "x": 2}${']}'.repeat(n)}`;
    const found = parseUnambiguousJson(deep);
    expect(found.ok).toBe(false);
    expect((found as { duplicateKey: string }).duplicateKey).toBe(`${'a.0.'.repeat(n)}x`);
  });

  it.each(['{"seed": 7,', '{"a": 1,}', '// c\n{}', "{'a': 1}", '{"a": 01}', '', 'NaN'])(
    "refuses %j with JSON.parse's own message",
    (text) => {
      let message = '';
      try {
        JSON.parse(text);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).not.toBe('');
      expect(parseUnambiguousJson(text)).toEqual({ ok: false, syntaxError: message });
    },
  );
});

describe('the CLI refuses a config file that repeats a key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tierdrift-dupkey-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('exit 2 naming the key path, nothing written', async () => {
    const file = join(dir, 'config.json');
    writeFileSync(file, '{"users": 10, "tasks": {"gridHours": 1, "gridHours": 2}}');
    const dest = join(dir, 'out');
    const run = await runCli(['generate', '--config', file, '--dest', dest]);
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain(`config file ${file} is ambiguous: tasks.gridHours is given more than once`);
    expect(run.stdout).toBe('');
    expect(existsSync(dest) ? readdirSync(dest) : []).toEqual([]);
  }, 120_000);
});
