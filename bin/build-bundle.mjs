// The CLI and its worker threads (the engine worker generates and formats rows, the Parquet worker encodes
// Parquet parts) as one esbuild bundle folder (cli.mjs, engine-worker.mjs, parquet-worker.mjs).
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

const BUNDLED_PACKAGES = ['seedrandom', 'hyparquet-writer', 'hyparquet'];
/** The Node major of `engines` and .nvmrc, which `npm run cli` runs on (test/node-version.test.ts holds them together). */
export const BUNDLE_TARGET = 'node24';

function externalPackagesExcept(bundled) {
  return {
    name: 'external-packages',
    setup(b) {
      b.onResolve({ filter: /^[^./]/ }, (args) => {
        const name = args.path.startsWith('@') ? args.path.split('/').slice(0, 2).join('/') : args.path.split('/')[0];
        return bundled.includes(name) ? undefined : { path: args.path, external: true };
      });
    },
  };
}

/** Builds into `dir`; written to a private folder first, so no one ever sees half a bundle. */
export async function buildBundle(dir) {
  const { outputFiles } = await build({
    entryPoints: {
      cli: `${root}lambda/cli/main.ts`,
      'engine-worker': `${root}lambda/threads/engine-worker.ts`,
      'parquet-worker': `${root}lambda/threads/parquet-worker.ts`,
    },
    outdir: dir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    splitting: true, // modules loaded with import() (the AWS SDK's users) stay out of the start-up path
    target: BUNDLE_TARGET,
    // Packages stay external (resolved from node_modules at run time), except the few the worker
    // threads need: bundled in, so a bundle written anywhere (tests write theirs to a temp folder) runs.
    plugins: [externalPackagesExcept(BUNDLED_PACKAGES)],
    sourcemap: 'inline',
    write: false,
    logLevel: 'error',
  });
  const temp = `${dir}.${process.pid}.tmp`;
  mkdirSync(temp, { recursive: true });
  for (const file of outputFiles) writeFileSync(`${temp}/${basename(file.path)}`, file.contents);
  try {
    renameSync(temp, dir);
  } catch {
    rmSync(temp, { recursive: true, force: true }); // a concurrent run got there first
  }
}
