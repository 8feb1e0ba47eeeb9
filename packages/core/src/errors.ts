/**
 * An error caused by the user's input or environment (a bad manifest, a missing file, a wrong
 * toolchain). Front ends print its message as one line and exit non-zero; anything else is a bug
 * and keeps its stack trace.
 */
export class UserError extends Error {
  override name = 'UserError';
}

export function isUserError(error: unknown): error is UserError {
  return error instanceof UserError;
}

const FS_ERRORS: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory, expected a file',
  ENOTDIR: 'a component of the path is not a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
  EIO: 'input/output error',
  ENXIO: 'no such device or address',
  ENODEV: 'no such device',
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'read-only file system',
  EFBIG: 'file too large',
  EMFILE: 'too many open files',
  ENFILE: 'too many open files in the system',
  EEXIST: 'already exists',
  ENOTEMPTY: 'directory not empty',
  EBUSY: 'device or resource busy',
  ETXTBSY: 'text file busy',
  EXDEV: 'cannot move across file systems',
};

/** True for Node's errors from a system call on a path (they carry an errno code such as ELOOP). */
export function isFsError(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && code in FS_ERRORS && typeof (error as NodeJS.ErrnoException).syscall === 'string';
}

/**
 * Node's own errors for a missing path, an unreadable file, a symlink loop, ... made into one
 * user-facing line naming `path`. Anything else (a UserError included) is returned as it is.
 */
export function describeFsError(error: unknown, path: string): UserError | unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (error instanceof UserError || typeof code !== 'string' || !(code in FS_ERRORS)) return error;
  return new FsError(`${path}: ${FS_ERRORS[code]}`, code);
}

/** A filesystem error made into one line; `code` keeps what it was (ENOENT, ELOOP, ...). */
export class FsError extends UserError {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}
