import type { z } from 'zod';

/**
 * One broken rule, the shape of every input error (a config, a query, predictions, a payload, the
 * environment): the field it concerns (a dotted path, a line, or a placeholder such as `(config)`
 * for the whole input) and what that field must be. The API answers a list of them.
 */
export interface Problem {
  field: string;
  rule: string;
}

export interface IssueOptions {
  /** The field named by an issue about the whole input, e.g. `(config)`. */
  whole: string;
  /** The keys allowed where an unknown key was found, named in its rule. */
  allowedKeys?: (path: readonly PropertyKey[]) => string[];
}

/** zod's issues as problems: each at its dotted path; an unknown key is a problem of its own. */
export function issueProblems(issues: readonly z.core.$ZodIssue[], options: IssueOptions): Problem[] {
  return issues.flatMap((issue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const allowed = options.allowedKeys?.(issue.path);
      const rule = allowed ? `unknown key (allowed: ${allowed.join(', ')})` : 'unknown key';
      return issue.keys.map((key) => ({ field: [...path, key].join('.'), rule }));
    }
    return [{ field: path.length > 0 ? path.join('.') : options.whole, rule: issue.message }];
  });
}

/** Problems in one line of an error message: `field: rule; field: rule`. */
export const problemsInline = (problems: readonly Problem[]): string =>
  problems.map((p) => `${p.field}: ${p.rule}`).join('; ');

/** Problems as an indented list under a message, one a line. */
export const problemsListed = (problems: readonly Problem[]): string =>
  problems.map((p) => `  - ${p.field}: ${p.rule}`).join('\n');
