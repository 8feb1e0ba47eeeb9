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

/** Node's own errors for a missing path, an unreadable file, ... made into one user-facing line. */
export function describeFsError(error: unknown, path: string): UserError | unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return new UserError(`${path}: no such file or directory`);
    case 'EACCES':
    case 'EPERM':
      return new UserError(`${path}: permission denied`);
    case 'EISDIR':
      return new UserError(`${path}: is a directory, expected a file`);
    default:
      return error;
  }
}
