import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isInside } from '../fs/contained-path';
import { openRegularFile } from '../fs/regular-file';
import { RefusedLocationError } from './address-policy';

/**
 * Which local files a `file://` URL may name. A manifest is input: its file:// locations stay inside
 * the workspace (`{ root }`), symlinks resolved. A URL the user gave on the command line or in the
 * workspace's configuration (--mirror file:///srv/debs) may name any regular file (`'any'`).
 * Undefined: file:// is refused.
 */
export type FileUrlPolicy = { root: string } | 'any';

/** The kernel's pseudo-filesystems: reading them gives the process environment, memory, devices. */
const PSEUDO = ['/proc', '/sys', '/dev'];

/** Opens the regular file a file:// URL names, as the policy allows; anything else is one line. */
export function openFileUrl(url: string, policy: FileUrlPolicy | undefined): { fd: number; size: number; path: string } {
  if (!policy) throw new RefusedLocationError(`${url}: refused: a file:// location is not accepted here`);
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (error) {
    throw new RefusedLocationError(`${url}: ${(error as Error).message}`);
  }
  let real: string;
  try {
    // Followed like curl's file:// (a repository's `<repo>.db` is a symlink to `<repo>.db.tar.gz`), then judged by where it leads.
    real = realpathSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new RefusedLocationError(`${url}: ${code === 'ENOENT' || code === 'ENOTDIR' ? 'no such file' : code === 'ELOOP' ? 'too many levels of symbolic links' : `cannot be read (${code})`}`);
  }
  if (PSEUDO.some((dir) => isInside(dir, real) || isInside(dir, path))) throw new RefusedLocationError(`${url}: refused: ${real} is in ${PSEUDO.join(', ')} (the kernel's files, not a publication)`);
  if (policy !== 'any') {
    let root: string;
    try {
      root = realpathSync(policy.root);
    } catch {
      root = policy.root;
    }
    if (!isInside(root, real)) {
      throw new RefusedLocationError(`${url}: refused: ${real === path ? 'it is' : `it leads to ${real},`} outside the workspace ${policy.root}; a manifest's file:// location must stay inside it (publish the file over http(s), or copy it into the workspace)`);
    }
  }
  // Regular files only, checked before and after the open (a FIFO would block, a device never end).
  try {
    const { fd, size } = openRegularFile(real, { what: 'a published file', noFollow: true });
    return { fd, size: size!, path: real };
  } catch (error) {
    throw new RefusedLocationError(`${url}: refused: ${(error as Error).message}`);
  }
}
