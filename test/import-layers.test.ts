// The rules `npm test` runs (.dependency-cruiser.cjs) catch what they exist for: run on small trees
// laid out like this one, with the project's own config.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const depcruise = join(root, 'node_modules/dependency-cruiser/bin/dependency-cruiser.mjs');
const config = join(root, '.dependency-cruiser.cjs');

let dir = '';
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Cruises a tree of `path → source` with the project's rules; the names of the rules broken. */
function brokenRules(files: Record<string, string>): string[] {
  dir = mkdtempSync(join(tmpdir(), 'tierdrift-layers-'));
  const tree: Record<string, string> = {
    'tsconfig.json': '{"compilerOptions":{"module":"NodeNext","moduleResolution":"NodeNext"}}',
    ...files,
  };
  for (const [path, text] of Object.entries(tree)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), text);
  }
  for (const top of ['infra', 'bin']) mkdirSync(join(dir, top), { recursive: true });
  // The command `npm run lint:deps` runs, reporting as it does: one `error <rule>:` line per violation.
  const run = spawnSync(process.execPath, [depcruise, 'lambda', 'infra', 'bin', '--config', config], {
    cwd: dir,
    encoding: 'utf8',
  });
  const violations = [...run.stdout.matchAll(/^ {2}error ([\w-]+):/gm)].map((m) => m[1]);
  expect(run.status, run.stderr).toBe(violations.length); // npm test stops on a non-zero status
  const rules = [...new Set(violations)].sort();
  return rules;
}

describe('the import rules', () => {
  it('let imports run down the layers', () => {
    expect(
      brokenRules({
        'lambda/engine/engine.ts': 'export const generate = 1;\n',
        'lambda/rows/rows.ts': "import { generate } from '../engine/engine.js';\nexport const rows = generate;\n",
        'lambda/publish/publish.ts': "import { rows } from '../rows/rows.js';\nexport const publish = rows;\n",
        'infra/stack.ts':
          "import { generationConfigSchema } from '../lambda/config/schema.js';\nexport const stack = generationConfigSchema;\n",
        'lambda/config/schema.ts': 'export const generationConfigSchema = 1;\n',
      }),
    ).toEqual([]);
  });

  it('refuse a cycle between files and folders, and an engine importing rows', () => {
    expect(
      brokenRules({
        'lambda/engine/engine.ts': "import { rows } from '../rows/rows.js';\nexport const generate = () => rows;\n",
        'lambda/rows/rows.ts': "import { generate } from '../engine/engine.js';\nexport const rows = generate;\n",
      }),
    ).toEqual(['layer-engine', 'no-circular', 'no-circular-folders']);
  });

  it('refuse a cycle between folders made of separate files', () => {
    expect(
      brokenRules({
        'lambda/catalog/a.ts': "import { b } from '../evaluation/b.js';\nexport const a = b;\n",
        'lambda/evaluation/b.ts': 'export const b = 1;\n',
        'lambda/evaluation/c.ts': "import { a } from '../catalog/a.js';\nexport const c = a;\n",
      }),
    ).toEqual(['no-circular-folders']);
  });

  it('keep lambda/ off the stack, the stack on lambda/ contracts, and every folder in a layer', () => {
    expect(
      brokenRules({
        'lambda/config/schema.ts': "import { stack } from '../../infra/stack.js';\nexport const schema = stack;\n",
        'infra/stack.ts': "import { publish } from '../lambda/publish/publish.js';\nexport const stack = publish;\n",
        'lambda/publish/publish.ts': 'export const publish = 1;\n',
        'lambda/helpers/helper.ts':
          "import { publish } from '../publish/publish.js';\nexport const helper = publish;\n",
      }),
    ).toEqual(['infra-pure-lambda-only', 'lambda-not-infra', 'no-unlisted-lambda-folder']);
  });
});
