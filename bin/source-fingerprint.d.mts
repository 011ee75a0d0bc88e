/** The project's root folder (with a trailing slash). */
export const PROJECT_ROOT: string;
/** A short hash of the path, modification time and size of every file under `entries` (relative to the root). */
export function sourceFingerprint(entries: string[]): string;
