import { lstatSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { describeFsError, UserError } from '../errors';

/**
 * Paths that come from inputs (a manifest's artifact paths, a lock's links, a layout's blobs) are
 * written by strangers: `../x`, `/etc/x`, or a symlink on the way out must never make reprokit read,
 * vouch for, or write anything outside the root the input belongs to.
 */

/** True when `path` (absolute, normalized) is `root` or lies below it. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel));
}

/**
 * The lexical check, before anything touches the disk: a relative path, no NUL byte, and no
 * `..` climbing above its root. `what` names the input and field (`m.json: $.artifacts[2].path`).
 */
export function checkRelativePath(path: string, what: string): void {
  if (path.includes('\0')) throw new UserError(`${what}: the path holds a NUL byte`);
  if (path === '') throw new UserError(`${what}: the path is empty`);
  if (isAbsolute(path) || path.startsWith('/')) throw new UserError(`${what}: ${JSON.stringify(path)} is absolute; it must be relative to its root`);
  if (!isInside('/r', resolve('/r', path))) throw new UserError(`${what}: ${JSON.stringify(path)} leads out of its root with ..`);
}

/** realpath of the deepest existing ancestor of `path` (itself included when `includeSelf`). */
function realAncestor(path: string, what: string): string {
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      return realpathSync(dir);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT' && code !== 'ENOTDIR') throw describeFsError(error, `${what}: ${dir}`);
      if (dirname(dir) === dir) return dir;
    }
  }
}

export interface ResolveInsideOptions {
  /** Accept a final symlink: for callers that replace or list it, never follow it. Default: refused. */
  allowFinalSymlink?: boolean;
}

/**
 * Resolves `path` from an input inside `root` and returns the absolute path. Refused, with one line
 * naming `what`: an absolute path, `..` out of the root, a directory on the way that is a symlink
 * leading out of the root (the parent's realpath must be inside the root's realpath), and a final
 * symlink unless allowed (and then not followed). A path that does not exist yet is fine: its existing ancestors are checked.
 */
export function resolveInside(root: string, path: string, what: string, options: ResolveInsideOptions = {}): string {
  checkRelativePath(path, what);
  const absolute = resolve(root, path);
  const realRoot = realAncestor(resolve(root), what);
  if (absolute === resolve(root)) return absolute;
  const realParent = realAncestor(dirname(absolute), what);
  if (!isInside(realRoot, realParent)) {
    throw new UserError(`${what}: ${JSON.stringify(path)} leads out of ${root} through a symlink (to ${realParent})`);
  }
  let isLink = false;
  try {
    isLink = lstatSync(absolute).isSymbolicLink();
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw describeFsError(error, `${what}: ${absolute}`);
  }
  if (isLink && !options.allowFinalSymlink) throw new UserError(`${what}: ${JSON.stringify(path)} is a symlink; it must be a regular file inside ${root}`);
  return absolute;
}
