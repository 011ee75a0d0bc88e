#!/usr/bin/env node
// Runs the CLI from an esbuild bundle of lambda/, rebuilt only when a source file changed:
// starting from one bundle is much faster than transpiling module by module, and never stale.
// The bundle folder also holds the engine worker, which lets `generate` use a second thread.
// Node 24 (package.json `engines`): `npm run cli` / `npm run generate` run on the Node 24 that the
// `node` dev dependency puts in node_modules/.bin; run directly, this file gets the `node` on PATH.
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// V8's compiled code of the bundle, kept between runs: start-up skips most of parsing and compiling.
module.enableCompileCache?.(`${root}node_modules/.cache/node-compile-cache`);
const sources = ['package.json', 'bin/build-bundle.mjs', ...readdirSync(`${root}lambda`, { recursive: true }).map((f) => `lambda/${f}`)];
const fingerprint = createHash('sha256');
for (const file of sources.sort()) {
  const { mtimeMs, size } = statSync(`${root}${file}`);
  fingerprint.update(`${file}\0${mtimeMs}\0${size}\n`);
}
const dir = `${root}node_modules/.cache/tierdrift/${fingerprint.digest('hex').slice(0, 16)}`;
if (!existsSync(`${dir}/cli.mjs`)) {
  const { buildBundle } = await import('./build-bundle.mjs');
  await buildBundle(dir);
}
process.setSourceMapsEnabled(true);
await import(pathToFileURL(`${dir}/cli.mjs`).href);
