import { createScanner } from 'jsonc-parser';

/** A parsed JSON text, or why not: JSON.parse's message, or the repeated key dotted from the top (`tasks.gridHours`; array items by index, `a.0.b`). */
export type JsonText =
  { ok: true; value: unknown } | { ok: false; syntaxError: string } | { ok: false; duplicateKey: string };

/**
 * JSON.parse, except that an object giving a key twice is refused: JSON.parse would silently keep
 * the last value, so `{"seed": 1, "seed": 2}` is ambiguous. Keys are compared decoded (`"se\u0065d"`
 * is `seed`). The text is parsed by JSON.parse itself (its numbers, escapes and error messages);
 * jsonc-parser's scanner then only reads each object's keys.
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

/** Per open object its keys so far and the current one; per open array the current item's index. */
type Open = { keys: Set<string>; key?: string } | { index: number };

/**
 * The dotted path of the first key an object repeats, in a text JSON.parse accepted. A loop over
 * jsonc-parser's scanner (which decodes the keys' escapes) with its own stack: the library's
 * visitor recurses, so a deeply nested body would overflow the call stack.
 */
function firstDuplicateKey(text: string): string | undefined {
  const scanner = createScanner(text, true);
  const open: Open[] = [];
  let keyNext = false; // in an object, after "{" or ","
  for (scanner.scan(); scanner.getTokenOffset() < text.length; scanner.scan()) {
    const top = open[open.length - 1];
    switch (text[scanner.getTokenOffset()]) {
      case '{':
        open.push({ keys: new Set() });
        keyNext = true;
        break;
      case '[':
        open.push({ index: 0 });
        break;
      case '}':
      case ']':
        open.pop();
        keyNext = false;
        break;
      case ',':
        if ('index' in top) top.index++;
        else keyNext = true;
        break;
      case ':':
        keyNext = false;
        break;
      case '"':
        if (keyNext && 'keys' in top) {
          const key = scanner.getTokenValue();
          if (top.keys.has(key))
            return [...open.slice(0, -1).map((o) => ('keys' in o ? o.key : String(o.index))), key].join('.');
          top.keys.add(key);
          top.key = key;
        }
        break;
    }
  }
  return undefined;
}
