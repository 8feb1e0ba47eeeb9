import { createHash, randomBytes } from 'node:crypto';
import { closeSync, constants, existsSync, fstatSync, fsyncSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, utimesSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { hashFile } from '../hash';

/** Where kept copies go instead of the default (a directory of its own: everything in it is reprokit's). */
export const KEEP_DIR_ENV = 'REPROKIT_KEEP_DIR';
/** How many bytes the kept copies may take together; the least recently used go first. */
export const KEEP_MAX_BYTES_ENV = 'REPROKIT_KEEP_MAX_BYTES';
export const DEFAULT_KEEP_MAX_BYTES = 2 * 1024 ** 3;

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The default store of a workspace: `node_modules/.cache/reprokit/kept` at its root (the directory
 * with nx.json, or .git), where tools keep caches that are never committed and that Nx does not hash;
 * outside any workspace, `~/.cache/reprokit/kept`.
 */
export function defaultKeepDir(from: string): string {
  if (process.env[KEEP_DIR_ENV]) return resolve(process.env[KEEP_DIR_ENV]!);
  for (let dir = resolve(from); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json')) || existsSync(join(dir, '.git'))) return join(dir, 'node_modules', '.cache', 'reprokit', 'kept');
    if (dirname(dir) === dir) break;
  }
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'reprokit', 'kept');
}

function maxBytesFromEnv(): number {
  const value = Number(process.env[KEEP_MAX_BYTES_ENV]);
  return Number.isSafeInteger(value) && value >= 0 ? value : DEFAULT_KEEP_MAX_BYTES;
}

/**
 * Copies of artifacts that matched their manifest, by sha256: the expected bytes a later MISMATCH
 * is explained against. Content-addressed (a file's name is its sha256), bounded (least recently
 * used first out), written atomically (temp file, hashed while copied, fsync, rename), and checked
 * again when read: a copy that no longer hashes to its name is removed, never used.
 */
export class KeepStore {
  constructor(
    readonly dir: string,
    readonly maxBytes = maxBytesFromEnv(),
  ) {}

  private pathOf(sha256: string): string {
    if (!HEX64.test(sha256)) throw new Error(`not a sha256: ${sha256}`);
    return join(this.dir, sha256);
  }

  /**
   * Keeps `file`, whose sha256 is `sha256` (as just checked by the caller). An existing copy only
   * gets its time refreshed; a file that changed while copied, or is larger than the whole store,
   * is not kept. Returns whether a copy is there now.
   */
  keep(file: string, sha256: string, size: number): boolean {
    if (size > this.maxBytes) return false;
    const target = this.pathOf(sha256);
    const now = new Date();
    try {
      if (lstatSync(target).size === size) {
        utimesSync(target, now, now);
        return true;
      }
    } catch {
      // Not kept yet.
    }
    mkdirSync(this.dir, { recursive: true });
    const temp = join(this.dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
    try {
      const copied = copyHashing(file, temp);
      if (copied.sha256 !== sha256 || copied.size !== size) return false;
      renameSync(temp, target);
    } finally {
      rmSync(temp, { force: true });
    }
    this.evict(target);
    return true;
  }

  /** The kept copy of these bytes, re-hashed; undefined when there is none (or it was altered). */
  async find(sha256: string, size: number): Promise<string | undefined> {
    const path = this.pathOf(sha256);
    let stats;
    try {
      stats = lstatSync(path);
    } catch {
      return undefined;
    }
    if (!stats.isFile() || stats.size !== size) return undefined;
    const { digests } = await hashFile(path, ['sha256'], { noFollow: true });
    if (digests.sha256 !== sha256) {
      rmSync(path, { force: true });
      return undefined;
    }
    return path;
  }

  /** Removes the least recently used copies until the store fits (never `keep`, the one just written). */
  private evict(keep: string): void {
    const copies = readdirSync(this.dir)
      .filter((name) => HEX64.test(name))
      .flatMap((name) => {
        try {
          const stats = lstatSync(join(this.dir, name));
          return stats.isFile() ? [{ path: join(this.dir, name), size: stats.size, used: stats.mtimeMs }] : [];
        } catch {
          return [];
        }
      })
      .sort((a, b) => a.used - b.used);
    let total = copies.reduce((sum, copy) => sum + copy.size, 0);
    for (const copy of copies) {
      if (total <= this.maxBytes) break;
      if (copy.path === keep) continue;
      rmSync(copy.path, { force: true });
      total -= copy.size;
    }
  }
}

/** Copies a regular file (not through a symlink) to a new file, hashing what was written; fsynced. */
function copyHashing(from: string, to: string): { sha256: string; size: number } {
  const hash = createHash('sha256');
  const source = openSync(from, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  let target: number | undefined;
  try {
    if (!fstatSync(source).isFile()) return { sha256: '', size: -1 };
    target = openSync(to, 'wx', 0o644);
    const buffer = Buffer.allocUnsafe(1 << 20);
    let size = 0;
    for (let read; (read = readSync(source, buffer, 0, buffer.length, null)) > 0; size += read) {
      hash.update(buffer.subarray(0, read));
      writeSync(target, buffer, 0, read);
    }
    fsyncSync(target);
    return { sha256: hash.digest('hex'), size };
  } finally {
    closeSync(source);
    if (target !== undefined) closeSync(target);
  }
}
