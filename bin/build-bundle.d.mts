/** Builds the CLI and engine-worker bundle into `dir` (cli.mjs, engine-worker.mjs). */
export function buildBundle(dir: string): Promise<void>;
/** esbuild's target for the bundle: the project's Node major. */
export const BUNDLE_TARGET: string;
