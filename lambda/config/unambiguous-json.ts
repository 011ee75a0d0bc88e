import { visit } from 'jsonc-parser';

/** A parsed JSON text, or why not: JSON.parse's message, or the repeated key dotted from the top (`tasks.gridHours`; array items by index, `a.0.b`). */
export type JsonText = { ok: true; value: unknown } | { ok: false; syntaxError: string } | { ok: false; duplicateKey: string };

/**
 * JSON.parse, except that an object giving a key twice is refused: JSON.parse would silently keep
 * the last value, so `{"seed": 1, "seed": 2}` is ambiguous. Keys are compared decoded (`"se\u0065d"`
 * is `seed`). The text is parsed by JSON.parse itself (its numbers, escapes and error messages);
 * jsonc-parser's visitor then only reports each object's keys.
 */
export function parseUnambiguousJson(text: string): JsonText {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, syntaxError: (error as Error).message };
  }
  const duplicateKey = firstDuplicateKey(text);
  return duplicateKey === undefined ? { ok: true, value } : { ok: false, duplicateKey };
}

/** The dotted path of the first key an object repeats, in a text JSON.parse accepted. */
function firstDuplicateKey(text: string): string | undefined {
  const open: Set<string>[] = [];
  let found: string | undefined;
  visit(text, {
    onObjectBegin: () => void open.push(new Set()),
    onObjectEnd: () => void open.pop(),
    onObjectProperty: (key, _offset, _length, _line, _column, path) => {
      const keys = open[open.length - 1];
      if (found === undefined && keys.has(key)) found = [...path(), key].join('.');
      keys.add(key);
    },
  });
  return found;
}
