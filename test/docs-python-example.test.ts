import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** docs/benchmark-task.md shows docs/load_dataset.py as copyable Python; the two must not drift apart. */
describe('docs/benchmark-task.md python example', () => {
  it('is docs/load_dataset.py, verbatim', () => {
    const page = readFileSync(new URL('../docs/benchmark-task.md', import.meta.url), 'utf8');
    const script = readFileSync(new URL('../docs/load_dataset.py', import.meta.url), 'utf8');
    const blocks = [...page.matchAll(/```python\n([\s\S]*?)```\n/g)].map((m) => m[1]);
    expect(blocks).toContain(script);
  });
});
