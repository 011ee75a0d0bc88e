import { fileURLToPath } from 'node:url';

/** The repository's root folder (with a trailing separator): the function's sources, the lock file, events/. */
export const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
