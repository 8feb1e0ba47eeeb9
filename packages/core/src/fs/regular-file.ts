import { closeSync, constants, fstatSync, lstatSync, openSync, readSync, statSync, type Stats } from 'node:fs';
import { describeFsError, UserError } from '../errors';

/**
 * Opening a FIFO blocks until someone writes to it, reading /dev/zero never ends, and opening a
 * device can have side effects: inputs are checked to be regular files before they are opened, and
 * again on the open descriptor (the path could be swapped in between).
 */

export interface OpenRegularOptions {
  /** Refuse a symlink instead of following it (paths from inputs; the `hash` CLI follows like b2sum). */
  noFollow?: boolean;
  /** The caller has just lstat'ed the path and found a regular file: skip the check before open (the one after stays). */
  checkedRegular?: boolean;
  /** What the file should be, for the one-line errors (`a key file`); default: a regular file. */
  what?: string;
}

/** What Stats and Dirent both tell of a file's type. */
export type FileType = Pick<Stats, 'isFile' | 'isDirectory' | 'isSymbolicLink' | 'isFIFO' | 'isCharacterDevice' | 'isBlockDevice' | 'isSocket'>;

function kindOf(stats: FileType): string {
  if (stats.isDirectory()) return 'a directory';
  if (stats.isSymbolicLink()) return 'a symlink';
  if (stats.isFIFO()) return 'a FIFO';
  if (stats.isCharacterDevice()) return 'a character device';
  if (stats.isBlockDevice()) return 'a block device';
  if (stats.isSocket()) return 'a socket';
  return 'not a regular file';
}

export function notRegularFile(path: string, stats: FileType, what = 'a regular file'): UserError {
  return new UserError(`${path}: is ${kindOf(stats)}, expected ${what}`);
}

/** Opens a regular file for reading; anything else is a one-line UserError naming `path`. */
export function openRegularFile(path: string, options: OpenRegularOptions = {}): { fd: number; size: number | undefined } {
  let fd: number;
  try {
    if (!options.checkedRegular) {
      const before = options.noFollow ? lstatSync(path) : statSync(path);
      if (!before.isFile()) throw notRegularFile(path, before, options.what);
    }
    // O_NONBLOCK: should a FIFO be swapped in after the check, open returns instead of waiting
    // (and a read fails instead of waiting); O_NOFOLLOW: a symlink swapped in fails with ELOOP.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | (options.noFollow ? constants.O_NOFOLLOW : 0));
  } catch (error) {
    throw describeFsError(error, path);
  }
  // A caller that has just lstat'ed the path (verify, 10,000 files) skips the second stat: the flags
  // above already keep a swapped file from hanging or leading elsewhere. The size is then unknown.
  if (options.checkedRegular) return { fd, size: undefined };
  try {
    const stats = fstatSync(fd);
    if (!stats.isFile()) throw notRegularFile(path, stats, options.what);
    return { fd, size: stats.size };
  } catch (error) {
    closeSync(fd);
    throw describeFsError(error, path);
  }
}

/** Reads a whole regular file of at most `maxBytes` (a JSON document, a manifest, a lock). */
export function readRegularFile(path: string, maxBytes: number, options: OpenRegularOptions = {}): Buffer {
  const { fd, size: statSize } = openRegularFile(path, { ...options, checkedRegular: false });
  const size = statSize!;
  try {
    if (size > maxBytes) throw new UserError(`${path}: ${size} bytes, more than the ${maxBytes} ${options.what ?? 'a file of this kind'} may have`);
    const buffer = Buffer.allocUnsafe(size);
    let done = 0;
    while (done < size) {
      const n = readSync(fd, buffer, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return buffer.subarray(0, done);
  } catch (error) {
    throw describeFsError(error, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a small text file whole (a key, a statement, a TOML or result file), bounded; `what` names
 * what the file should be in the one-line error (`fifo.key: is a FIFO, expected a key file`).
 */
export function readRegularText(path: string, maxBytes: number, what: string): string {
  return readRegularFile(path, maxBytes, { what }).toString('utf8');
}
