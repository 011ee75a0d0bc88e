import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** The README shows docs/load_dataset.py as copyable Python; the two must not drift apart. */
describe('README python example', () => {
  it('is docs/load_dataset.py, verbatim', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const script = readFileSync(new URL('../docs/load_dataset.py', import.meta.url), 'utf8');
    const blocks = [...readme.matchAll(/```python\n([\s\S]*?)```\n/g)].map((m) => m[1]);
    expect(blocks).toContain(script);
  });
});
