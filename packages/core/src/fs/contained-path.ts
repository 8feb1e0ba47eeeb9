import { lstatSync, realpathSync, type Stats } from 'node:fs';
import { dirname, isAbsolute, resolve, sep } from 'node:path';
import { describeFsError, UserError } from '../errors';

/**
 * Paths that come from inputs (a manifest's artifact paths, a lock's links, a layout's blobs) are
 * written by strangers: `../x`, `/etc/x`, or a symlink on the way out must never make reprokit read,
 * vouch for, or write anything outside the root the input belongs to.
 */

/** True when `path` is `root` or lies below it (both absolute and normalized, as resolve and realpath give them). */
export function isInside(root: string, path: string): boolean {
  return path === root || path.startsWith(root.endsWith(sep) ? root : root + sep);
}

/**
 * The lexical check, before anything touches the disk: a relative path, no NUL byte, and no
 * `..` climbing above its root. `what` names the input and field (`m.json: $.artifacts[2].path`).
 */
export function checkRelativePath(path: string, what: string): void {
  if (path.includes('\0')) throw new UserError(`${what}: the path holds a NUL byte`);
  if (path === '') throw new UserError(`${what}: the path is empty`);
  if (isAbsolute(path) || path.startsWith('/')) throw new UserError(`${what}: ${JSON.stringify(path)} is absolute; it must be relative to its root`);
  if (path.includes('..') && !isInside('/r', resolve('/r', path))) throw new UserError(`${what}: ${JSON.stringify(path)} leads out of its root with ..`);
}

/** realpath of the deepest existing ancestor of `path`, itself included. */
function realAncestor(path: string, what: string, cache?: Map<string, string>): string {
  const cached = cache?.get(path);
  if (cached !== undefined) return cached;
  for (let dir = path; ; dir = dirname(dir)) {
    try {
      const real = realpathSync(dir);
      cache?.set(path, real);
      return real;
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
  /**
   * realpaths already resolved during one operation (verify of 10,000 artifacts in 100 directories
   * resolves each directory once). Only for a single pass: the filesystem may change afterwards.
   */
  realpaths?: Map<string, string>;
  /** The caller checks the final component itself (from a directory listing): no lstat here. */
  callerChecksFinal?: boolean;
}

export interface ResolvedPath {
  path: string;
  /** lstat of the final component; undefined when nothing is there yet. */
  stats: Stats | undefined;
}

/**
 * Resolves `path` from an input inside `root` and returns the absolute path. Refused, with one line
 * naming `what`: an absolute path, `..` out of the root, a directory on the way that is a symlink
 * leading out of the root (the parent's realpath must be inside the root's realpath), and a final
 * symlink unless allowed (and then not followed). A path that does not exist yet is fine: its existing ancestors are checked.
 */
export function resolveInside(root: string, path: string, what: string, options: ResolveInsideOptions = {}): string {
  return resolveInsideWithStats(root, path, what, options).path;
}

/** resolveInside, also giving the final component's lstat (callers that check its type need no second call). */
export function resolveInsideWithStats(root: string, path: string, what: string, options: ResolveInsideOptions = {}): ResolvedPath {
  checkRelativePath(path, what);
  const rootPath = resolve(root);
  const absolute = resolve(rootPath, path);
  const realRoot = realAncestor(rootPath, what, options.realpaths);
  if (absolute !== rootPath) {
    const realParent = realAncestor(dirname(absolute), what, options.realpaths);
    if (!isInside(realRoot, realParent)) {
      throw new UserError(`${what}: ${JSON.stringify(path)} leads out of ${root} through a symlink (to ${realParent})`);
    }
  }
  let stats: Stats | undefined;
  if (options.callerChecksFinal) return { path: absolute, stats };
  try {
    stats = lstatSync(absolute);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'ENOTDIR') throw describeFsError(error, `${what}: ${absolute}`);
  }
  if (stats?.isSymbolicLink() && !options.allowFinalSymlink) throw new UserError(`${what}: ${JSON.stringify(path)} is a symlink; it must be a regular file inside ${root}`);
  return { path: absolute, stats };
}
