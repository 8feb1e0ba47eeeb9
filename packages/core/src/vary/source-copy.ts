import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';

/**
 * How the source reaches a varied build: the container copies it, entry by entry, into a fresh
 * tmpfs at the build path, in the order of a list reprokit writes. On tmpfs, readdir returns a
 * directory's entries by creation order (measured on Linux 6.18: newest first), so creating them
 * in name order or in reverse name order is what varies the order a build lists its files in,
 * without disorderfs and FUSE, which containers do not have.
 */

/** Bounds on what is copied: a project is not a disk image. */
const MAX_ENTRIES = 200_000;
const MAX_DEPTH = 64;

export interface CopyListOptions {
  /** Top-level entries left out: build outputs, reprokit's own work directories. */
  exclude: readonly string[];
  order: 'name' | 'reverse';
}

/**
 * The copy list: one line per entry, parents before children, each directory's entries in the
 * given order. `d MODE path` makes a directory, `f path` copies a file with its mode and mtime,
 * `l path` copies a symlink as it is. Names with a newline are refused (they would end the line),
 * and so are special files (a FIFO or device is not source).
 */
export function sourceCopyList(root: string, options: CopyListOptions): string {
  const lines: string[] = [];
  const walk = (dir: string, rel: string, depth: number) => {
    if (depth > MAX_DEPTH) throw new UserError(`${join(root, rel)}: directories nested deeper than ${MAX_DEPTH} levels`);
    // Sorted by code unit, like a C locale, so the order does not depend on the host's locale.
    const names = readdirSync(dir).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (options.order === 'reverse') names.reverse();
    for (const name of names) {
      if (depth === 0 && options.exclude.includes(name)) continue;
      const path = rel ? `${rel}/${name}` : name;
      if (name.includes('\n')) throw new UserError(`${join(root, path)}: a file name with a newline cannot be copied into a varied build`);
      if (lines.length >= MAX_ENTRIES) throw new UserError(`${root}: more than ${MAX_ENTRIES} entries to copy into a varied build`);
      const stat = lstatSync(join(dir, name));
      if (stat.isDirectory()) {
        lines.push(`d ${(stat.mode & 0o7777).toString(8)} ${path}`);
        walk(join(dir, name), path, depth + 1);
      } else if (stat.isFile()) {
        lines.push(`f ${path}`);
      } else if (stat.isSymbolicLink()) {
        lines.push(`l ${path}`);
      } else {
        throw new UserError(`${join(root, path)}: a special file (not a file, directory or symlink) cannot be copied into a varied build`);
      }
    }
  };
  walk(root, '', 0);
  return lines.map((line) => line + '\n').join('');
}

/**
 * The shell run first in the container: copy the source as the list says, make a HOME that lives
 * in /tmp, set the umask, then run the build (argv: source path, umask, command…). Directories get
 * their recorded modes (mkdir -m, not the umask); files keep mode and mtime (make compares mtimes).
 */
export const COPY_AND_BUILD_SCRIPT = [
  'set -e',
  'src=$1; mask=$2; shift 2',
  'while IFS= read -r entry; do',
  '  kind=${entry%% *}; rest=${entry#* }',
  '  case $kind in',
  '    d) mode=${rest%% *}; path=${rest#* }; mkdir -m "$mode" "$src/$path" ;;',
  '    f) cp --preserve=mode,timestamps "/reprokit/in/$rest" "$src/$rest" ;;',
  '    l) cp -P "/reprokit/in/$rest" "$src/$rest" ;;',
  '  esac',
  'done < /reprokit/copy-list',
  'case $HOME in /tmp/*) mkdir -p "$HOME" ;; esac',
  'cd "$src"',
  'umask "$mask"',
  'exec "$@"',
].join('\n');
