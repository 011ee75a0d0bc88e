import { OperationError } from '../errors/operation-error.js';

// Node's own texts ("ENOSPC: no space left on device, write") name the system call, not the file.
const CAUSES: Record<string, string> = {
  ENOSPC: 'disk full',
  EDQUOT: 'disk quota exceeded',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EROFS: 'read-only file system',
  EIO: 'I/O error',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files',
  ENOENT: 'not found',
  ENOTDIR: 'a parent is not a folder',
  EISDIR: 'is a folder',
  EFBIG: 'file too large',
  ENAMETOOLONG: 'name too long',
};

/** A failed file-system call in one line: `disk full writing /data/…/uploads.csv`, the original as `cause`. */
export function fsFailure(operation: string, path: string, error: unknown): OperationError {
  return new OperationError(`${fsCause(error)} ${operation} ${path}`, { cause: error });
}

/** The cause of a failed file-system call in words: `disk full`, `not found`, `resource busy or locked (EBUSY)`. */
export function fsCause(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code } = error as NodeJS.ErrnoException;
  if (code && CAUSES[code]) return CAUSES[code];
  // e.g. "EBUSY: resource busy or locked, rename 'a' -> 'b'" → "resource busy or locked (EBUSY)"
  const described = code && /^[A-Z]+: ([^,]+)/.exec(error.message)?.[1];
  if (described) return `${described} (${code})`;
  return error.message;
}
