import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * README.md and docs/*.md link to each other and to source files; a page moved or a heading
 * renamed must not leave a dead link behind. Checks every relative link's file, and its #anchor
 * against the target page's headings (GitHub's slugs).
 */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const PAGES = [
  'README.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
];

/** The text outside fenced code blocks, where links and headings are markdown. */
const prose = (text: string): string => text.replace(/^```[\s\S]*?^```/gm, '');

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchorsOf(page: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const [, heading] of prose(readFileSync(join(ROOT, page), 'utf8')).matchAll(/^#{1,6} +(.+?) *#*$/gm)) {
    const base = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/ /g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Relative links of a page: `[text](target)`, without external URLs. */
function linksOf(page: string): string[] {
  const text = prose(readFileSync(join(ROOT, page), 'utf8')).replace(/`[^`\n]*`/g, '');
  return [...text.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1])
    .filter((target) => !/^[a-z][a-z0-9+.-]*:/i.test(target));
}

describe('links in README.md and docs/', () => {
  it('finds the pages and their links', () => {
    expect(PAGES).toContain('docs/architecture.md');
    expect(linksOf('README.md').length).toBeGreaterThan(10);
  });

  it.each(PAGES)('every relative link of %s resolves to a file and heading', (page) => {
    const broken: string[] = [];
    for (const link of linksOf(page)) {
      const [path, anchor] = link.split('#', 2) as [string, string?];
      const file = path === '' ? join(ROOT, page) : join(ROOT, dirname(page), decodeURIComponent(path));
      const target = relative(ROOT, file);
      if (!existsSync(file)) broken.push(`${link}: no file ${target}`);
      else if (
        anchor !== undefined &&
        !(statSync(file).isFile() && target.endsWith('.md') && anchorsOf(target).has(anchor))
      ) {
        broken.push(`${link}: no heading #${anchor} in ${target}`);
      }
    }
    expect(broken).toEqual([]);
  });
});

describe('README.md', () => {
  it('names the test command that CI runs', () => {
    const ci = readFileSync(join(ROOT, '.ci/run'), 'utf8');
    const command = 'npm ci && npm test';
    expect(ci.split('\n')).toContain(command);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(command);
  });
});
