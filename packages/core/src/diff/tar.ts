import { isUserError } from '../errors';
import { tarEntries, type StreamedTarEntry } from '../archive/tar-reader';
import type { DiffContext } from './types';

/** Compares the contents of two files found inside containers, descending into their formats. */
export type DiffContents = (where: string[], a: Buffer, b: Buffer, name: string, depth: number) => void;

export interface ReadTar {
  entries: StreamedTarEntry[];
  byPath: Map<string, StreamedTarEntry>;
}

/** A tar archive in memory; its entries' contents are views into the buffer, read when compared. */
export function readTar(bytes: Buffer, what: string): ReadTar {
  const entries = [...tarEntries(bytes, what)];
  return { entries, byPath: new Map(entries.map((entry) => [entry.path, entry])) };
}

/** A tar archive's header block 0 checksum holds: the test GNU tar and bsdtar use to recognise one. */
export function isTar(bytes: Uint8Array): boolean {
  if (bytes.length < 1024) return false;
  if (Buffer.from(bytes.subarray(257, 262)).toString('latin1') === 'ustar') return true;
  const stored = parseInt(Buffer.from(bytes.subarray(148, 156)).toString('latin1').replace(/\0.*$/, '').trim(), 8);
  if (!Number.isInteger(stored)) return false;
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : bytes[i];
  return sum === stored && bytes[0] !== 0;
}

const TYPE_NAMES: Record<StreamedTarEntry['type'], string> = { file: 'file', directory: 'directory', symlink: 'symlink', hardlink: 'hard link', other: 'special file' };

function octal(mode: number): string {
  return '0' + mode.toString(8).padStart(3, '0');
}

function iso(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : `${seconds} (${date.toISOString().replace('.000Z', 'Z')})`;
}

/**
 * Entry by entry: present in one only, type, mode, owner (ids and names), mtime, size, link
 * target, PAX records, content (compared by descending into it); then the order of the entries,
 * which a reproducible archive must also keep.
 */
export function diffTarEntries(context: DiffContext, where: string[], a: ReadTar, b: ReadTar, recurse: DiffContents, depth: number): void {
  // An archive of `.` has a root entry whose name is empty once `./` is stripped.
  const named = (path: string) => [...where, path === '' ? '.' : path];
  for (const entry of a.entries) {
    const other = b.byPath.get(entry.path);
    const at = named(entry.path);
    if (!other) {
      context.add(at, `only in A (${TYPE_NAMES[entry.type]}, ${entry.size} bytes)`);
      continue;
    }
    if (entry.type !== other.type) {
      context.add(at, `type ${TYPE_NAMES[entry.type]} -> ${TYPE_NAMES[other.type]}`);
      continue;
    }
    if (entry.mode !== other.mode) context.add(at, `mode ${octal(entry.mode)} -> ${octal(other.mode)}`);
    if (entry.uid !== other.uid || entry.gid !== other.gid) context.add(at, `owner ${entry.uid}:${entry.gid} -> ${other.uid}:${other.gid}`);
    if (entry.uname !== other.uname || entry.gname !== other.gname) context.add(at, `owner names ${entry.uname || '""'}:${entry.gname || '""'} -> ${other.uname || '""'}:${other.gname || '""'}`);
    if (entry.mtime !== other.mtime) context.add(at, `mtime ${iso(entry.mtime)} -> ${iso(other.mtime)}`);
    if (entry.link !== other.link) context.add(at, `link target ${entry.link} -> ${other.link}`);
    const paxA = entry.pax ?? {};
    const paxB = other.pax ?? {};
    for (const key of new Set([...Object.keys(paxA), ...Object.keys(paxB)])) {
      if (paxA[key] !== paxB[key]) context.add(at, `PAX ${key} ${paxA[key] ?? '(none)'} -> ${paxB[key] ?? '(none)'}`);
    }
    if (entry.type !== 'file') continue;
    if (entry.size !== other.size) context.add(at, `size ${entry.size} -> ${other.size}`);
    const contentA = entry.content();
    const contentB = other.content();
    if (!contentA.equals(contentB)) recurse(at, contentA, contentB, entry.path, depth + 1);
  }
  const inA = new Set(a.entries.map((entry) => entry.path));
  for (const entry of b.entries) {
    if (!inA.has(entry.path)) context.add(named(entry.path), `only in B (${TYPE_NAMES[entry.type]}, ${entry.size} bytes)`);
  }
  const common = (list: ReadTar, other: ReadTar) => list.entries.map((entry) => entry.path).filter((path) => other.byPath.has(path));
  const orderA = common(a, b);
  const orderB = common(b, a);
  const i = orderA.findIndex((path, n) => path !== orderB[n]);
  if (i >= 0) context.add([...where, '(entry order)'], `entry ${i + 1} is ${orderA[i]} in A but ${orderB[i]} in B`);
}

/** Both archives read, then compared; an archive that does not read (truncated, corrupt) is reported as such. */
export function diffTar(context: DiffContext, where: string[], a: Buffer, b: Buffer, recurse: DiffContents, depth: number): boolean {
  let tarA: ReadTar;
  let tarB: ReadTar;
  try {
    tarA = readTar(a, 'A');
    tarB = readTar(b, 'B');
  } catch (error) {
    if (!isUserError(error)) throw error;
    context.add(where, `cannot read as tar: ${error.message}`);
    return false;
  }
  diffTarEntries(context, where, tarA, tarB, recurse, depth);
  return true;
}
