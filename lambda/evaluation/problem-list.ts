import { problemsListed, type Problem } from '../errors/problem.js';

/** Examples kept per kind of problem; the rest are counted. */
export const EXAMPLES_PER_KIND = 10;

/**
 * Problems grouped by kind, at most EXAMPLES_PER_KIND of each kept, so that a file with a million
 * bad rows gives a readable answer that still says how many there were.
 */
export class ProblemList {
  private readonly kinds = new Map<string, { examples: Problem[]; count: number }>();

  add(kind: string, problem: Problem): void {
    let entry = this.kinds.get(kind);
    if (!entry) this.kinds.set(kind, (entry = { examples: [], count: 0 }));
    entry.count++;
    if (entry.examples.length < EXAMPLES_PER_KIND) entry.examples.push(problem);
  }

  get empty(): boolean {
    return this.kinds.size === 0;
  }

  /** The kept examples in the order their kinds first occurred, each kind closed by its overflow count. */
  list(): Problem[] {
    const out: Problem[] = [];
    for (const [kind, { examples, count }] of this.kinds) {
      out.push(...examples);
      if (count > examples.length)
        out.push({ field: '(more)', rule: `${count - examples.length} more ${kind} not listed (${count} in all)` });
    }
    return out;
  }
}

/** Bad input, with every problem found (capped per kind). */
export class InputProblemsError extends Error {
  constructor(
    message: string,
    readonly problems: Problem[],
  ) {
    super(`${message}:\n${problemsListed(problems)}`);
    this.name = 'InputProblemsError';
  }
}
