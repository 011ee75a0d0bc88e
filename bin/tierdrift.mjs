#!/usr/bin/env node
// Runs the CLI from an esbuild bundle of lambda/, rebuilt only when a source file changed:
// starting from one bundle is much faster than transpiling module by module, and never stale.
// The bundle folder also holds the engine worker, which lets `generate` use a second thread.
// Node 24 (package.json `engines`): `npm run cli` / `npm run generate` run on the Node 24 that the
// `node` dev dependency puts in node_modules/.bin; run directly, this file gets the `node` on PATH.
import { existsSync } from 'node:fs';
import module from 'node:module';
import { pathToFileURL } from 'node:url';
import { PROJECT_ROOT as root, sourceFingerprint } from './source-fingerprint.mjs';

// V8's compiled code of the bundle, kept between runs: start-up skips most of parsing and compiling.
module.enableCompileCache?.(`${root}node_modules/.cache/node-compile-cache`);
const dir = `${root}node_modules/.cache/tierdrift/${sourceFingerprint(['package.json', 'bin/build-bundle.mjs', 'lambda'])}`;
if (!existsSync(`${dir}/cli.mjs`)) {
  const { buildBundle } = await import('./build-bundle.mjs');
  await buildBundle(dir);
}
process.setSourceMapsEnabled(true);
await import(pathToFileURL(`${dir}/cli.mjs`).href);
