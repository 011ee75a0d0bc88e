import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildBundle } from '../../bin/build-bundle.mjs';

/** Bundles the CLI and the engine worker into `dir` (as bin/tierdrift.mjs does) and returns the worker script's URL. */
export async function bundleEngineWorker(dir: string): Promise<URL> {
  await buildBundle(dir);
  return pathToFileURL(join(dir, 'engine-worker.mjs'));
}
