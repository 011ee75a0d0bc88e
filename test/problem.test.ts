import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { issueProblems, problemsInline, problemsListed } from '../lambda/errors/problem.js';

const schema = z.strictObject({ a: z.int().min(1), inner: z.strictObject({ b: z.string() }) });
const issuesOf = (value: unknown) => schema.safeParse(value).error!.issues;

describe('zod issues as problems', () => {
  it('names each field by its dotted path, the whole input by its placeholder', () => {
    expect(issueProblems(issuesOf({ a: 0, inner: { b: 1 } }), { whole: '(x)' })).toEqual([
      { field: 'a', rule: expect.stringContaining('>=1') },
      { field: 'inner.b', rule: expect.stringContaining('string') },
    ]);
    expect(issueProblems(z.int().safeParse('no').error!.issues, { whole: '(x)' })).toEqual([
      { field: '(x)', rule: expect.any(String) },
    ]);
  });

  it('makes each unknown key a problem of its own, naming the allowed keys when told them', () => {
    const issues = issuesOf({ a: 1, inner: { b: 's', c: 1, d: 2 } });
    expect(issueProblems(issues, { whole: '(x)' })).toEqual([
      { field: 'inner.c', rule: 'unknown key' },
      { field: 'inner.d', rule: 'unknown key' },
    ]);
    expect(
      issueProblems(issues, { whole: '(x)', allowedKeys: (path) => (path.join('.') === 'inner' ? ['b'] : []) })[0],
    ).toEqual({
      field: 'inner.c',
      rule: 'unknown key (allowed: b)',
    });
  });

  it('prints problems inline or listed', () => {
    const problems = [
      { field: 'a', rule: 'must be 1' },
      { field: 'b', rule: 'must be 2' },
    ];
    expect(problemsInline(problems)).toBe('a: must be 1; b: must be 2');
    expect(problemsListed(problems)).toBe('  - a: must be 1\n  - b: must be 2');
  });
});
