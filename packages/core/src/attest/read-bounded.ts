import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { describeFsError, UserError } from '../errors';

/**
 * Reads a small file whole, refusing what is not a regular file (a FIFO would hang, a device never
 * end) and anything above `max` bytes, checked on the open descriptor before reading.
 */
export function readBoundedFile(path: string, max: number, what: string): string {
  let fd: number;
  try {
    // O_NONBLOCK: opening a FIFO does not wait for a writer; fstat then refuses it.
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    throw describeFsError(error, path);
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw new UserError(`${path}: not a regular file, expected ${what}`);
    if (stat.size > max) throw new UserError(`${path}: ${stat.size} bytes, too large for ${what} (at most ${max})`);
    const buffer = Buffer.alloc(stat.size);
    let read = 0;
    while (read < buffer.length) {
      const n = readSync(fd, buffer, read, buffer.length - read, null);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read).toString('utf8');
  } finally {
    closeSync(fd);
  }
}
