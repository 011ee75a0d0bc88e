/** Builds the CLI and engine-worker bundle into `dir` (cli.mjs, engine-worker.mjs). */
export function buildBundle(dir: string): Promise<void>;
