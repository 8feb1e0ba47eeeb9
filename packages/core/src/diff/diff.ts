import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, realpathSync, statSync, type Stats } from 'node:fs';
import { notRegularFile } from '../fs/regular-file';
import { basename, join } from 'node:path';
import { describeFsError, isUserError, UserError } from '../errors';
import { compareStrings } from '../manifest/manifest';
import { decompressBounded, gzipHeader, isGzip, isZstd, zstdHeader } from './compressed';
import { diffElf, isElf } from './elf';
import { describeBytes } from './hex';
import { diffImages, imageKindOfTar, isOciLayoutDir, readImageTar, readOciLayoutDir } from './image';
import { isTar, readTar, diffTarEntries, type DiffContents, type ReadTar } from './tar';
import { diffJson, diffKeyValues, diffText, isText, parseJsonText } from './text';
import { DiffContext, type DiffLimits, type DiffResult } from './types';

export type { Difference, DiffResult } from './types';

type Format = 'elf' | 'gzip' | 'zstd' | 'tar' | 'pacman-metadata' | 'json' | 'text' | 'binary' | 'empty';

/** What bytes are, by their magic numbers first (a name only decides between text formats). */
export function sniffFormat(bytes: Buffer, name: string): Format {
  if (bytes.length === 0) return 'empty';
  if (isElf(bytes)) return 'elf';
  if (isGzip(bytes)) return 'gzip';
  if (isZstd(bytes)) return 'zstd';
  if (isTar(bytes)) return 'tar';
  if (isText(bytes)) {
    const base = basename(name);
    if (base === '.PKGINFO' || base === '.BUILDINFO' || base === 'desc' || base === 'depends') return 'pacman-metadata';
    return parseJsonText(bytes) !== undefined ? 'json' : 'text';
  }
  return 'binary';
}

function withoutCompressionSuffix(name: string): string {
  return name.replace(/\.(gz|tgz|zst)$/, (suffix) => (suffix === '.tgz' ? '.tar' : ''));
}

/** Compares two byte strings, descending into the formats reprokit knows. */
export function diffBuffers(context: DiffContext, where: string[], a: Buffer, b: Buffer, name: string, depth = 0): void {
  if (a.equals(b)) return;
  const fallback = () => {
    const bytes = describeBytes(a, b);
    if (bytes) context.add(where, bytes.what, bytes.detail);
  };
  if (depth > context.limits.maxDepth) return fallback();
  const formatA = sniffFormat(a, name);
  const formatB = sniffFormat(b, name);
  if (formatA !== formatB) {
    context.add(where, `format ${formatA} -> ${formatB}`);
    return fallback();
  }
  const recurse: DiffContents = (at, x, y, inner, d) => diffBuffers(context, at, x, y, inner, d);
  try {
    switch (formatA) {
      case 'elf':
        return diffElf(context, where, a, b, ['A', 'B']);
      case 'gzip':
      case 'zstd': {
        const header = formatA === 'gzip' ? gzipHeader : zstdHeader;
        const ha = header(a);
        const hb = header(b);
        for (const key of new Set([...Object.keys(ha), ...Object.keys(hb)])) {
          if (ha[key] !== hb[key]) context.add([...where, `${formatA} header`, key], `${ha[key] ?? '(none)'} -> ${hb[key] ?? '(none)'}`);
        }
        const inner = withoutCompressionSuffix(name);
        const contentA = decompressBounded(a, formatA, context.limits.maxBytes, 'A');
        const contentB = decompressBounded(b, formatA, context.limits.maxBytes, 'B');
        if (contentA.equals(contentB)) {
          // Headers already reported; otherwise only the compressed stream differs (level, zlib build).
          if (JSON.stringify(ha) === JSON.stringify(hb)) context.add(where, `same ${formatA} content, compressed differently`);
          return;
        }
        return diffBuffers(context, where, contentA, contentB, inner, depth + 1);
      }
      case 'tar': {
        const tarA = readTar(a, 'A');
        const tarB = readTar(b, 'B');
        return diffTarOrImage(context, where, tarA, tarB, recurse, depth);
      }
      case 'pacman-metadata':
        return diffKeyValues(context, where, a.toString('utf8'), b.toString('utf8'));
      case 'json':
        return diffJson(context, where, parseJsonText(a), parseJsonText(b), a.toString('utf8'), b.toString('utf8'));
      case 'text':
        return diffText(context, where, a.toString('utf8'), b.toString('utf8'));
      default:
        return fallback();
    }
  } catch (error) {
    if (!isUserError(error)) throw error;
    // A side that does not read (a truncated archive, a corrupt ELF) is itself the explanation.
    context.add(where, `cannot read as ${formatA}: ${error.message}`);
    return fallback();
  }
}

function diffTarOrImage(context: DiffContext, where: string[], a: ReadTar, b: ReadTar, recurse: DiffContents, depth: number): void {
  const kindA = imageKindOfTar(a);
  if (kindA && kindA === imageKindOfTar(b)) {
    return diffImages(context, [...where, kindA], readImageTar(a, 'A'), readImageTar(b, 'B'), recurse, depth);
  }
  diffTarEntries(context, where, a, b, recurse, depth);
}

function lstat(path: string): Stats {
  try {
    return lstatSync(path);
  } catch (error) {
    throw describeFsError(error, path);
  }
}

/** A regular file read whole, refused past the limit (callers compare bigger files in pieces). */
function readBounded(path: string, stat: Stats, maxBytes: number): Buffer {
  if (stat.size > maxBytes) throw new UserError(`${path}: larger than ${maxBytes} bytes`);
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(stat.size);
    let done = 0;
    while (done < stat.size) {
      const n = readSync(fd, buffer, done, stat.size - done, done);
      if (n === 0) break;
      done += n;
    }
    return buffer.subarray(0, done);
  } finally {
    closeSync(fd);
  }
}

/** Held whole for a format-aware diff: archives, ELF and compressed files up to this size each... */
const HOLD_STRUCTURED = 256 << 20;
/** ...text and JSON up to this (a line diff of more is neither fast nor readable). Anything bigger, and binary, is compared in pieces. */
const HOLD_TEXT = 16 << 20;
const PIECE = 1 << 20;

/**
 * Two files compared piece by piece, as cmp does: the first differing offset and its window, or
 * undefined when they are the same. Two 1 MiB buffers, whatever the size of the files.
 */
function compareInPieces(a: string, b: string, sizeA: number, sizeB: number): { what: string; detail?: string } | undefined {
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  try {
    const ba = Buffer.allocUnsafe(PIECE);
    const bb = Buffer.allocUnsafe(PIECE);
    for (let offset = 0; ; offset += PIECE) {
      const na = readFull(fa, ba, offset);
      const nb = readFull(fb, bb, offset);
      if (na === nb && (na === 0 || ba.subarray(0, na).equals(bb.subarray(0, nb)))) {
        if (na === 0) return undefined;
        continue;
      }
      const bytes = describeBytes(ba.subarray(0, na), bb.subarray(0, nb), offset)!;
      const sizes = sizeA === sizeB ? `${sizeA} bytes` : `${sizeA} vs ${sizeB} bytes`;
      return { what: bytes.what.replace(/\(.*?\)/, `(${sizes})`), detail: bytes.detail };
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/** Reads up to a piece at `offset` (a short read is not the end of a regular file). */
function readFull(fd: number, buffer: Buffer, offset: number): number {
  let done = 0;
  while (done < buffer.length) {
    const n = readSync(fd, buffer, done, buffer.length - done, offset + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/** Two regular files: in pieces first; held whole for a format-aware diff only when their format has one and they fit. */
function diffFiles(context: DiffContext, where: string[], a: string, b: string, sa: Stats, sb: Stats, depth: number): void {
  const bytes = compareInPieces(a, b, sa.size, sb.size);
  if (!bytes) return;
  const head = (path: string, size: number) => readBounded(path, { size: Math.min(size, 1024) } as Stats, 1024);
  const format = sniffFormat(head(a, sa.size), basename(a));
  const structured = format === 'elf' || format === 'tar' || format === 'gzip' || format === 'zstd';
  const textual = format === 'json' || format === 'text' || format === 'pacman-metadata';
  const hold = Math.min(context.limits.maxBytes, structured ? HOLD_STRUCTURED : textual ? HOLD_TEXT : 0);
  if (sa.size <= hold && sb.size <= hold) return diffBuffers(context, where, readBounded(a, sa, hold), readBounded(b, sb, hold), basename(a), depth);
  const why = structured || textual ? bytes.what.replace(/\)(,[^)]*)$/, `; too large to read as ${format})$1`) : bytes.what;
  context.add(where, why, bytes.detail);
}

const MAX_DIR_ENTRIES = 100_000;

function listTree(root: string, dir = '', out: string[] = []): string[] {
  for (const entry of readdirSync(join(root, dir), { withFileTypes: true }).sort((x, y) => compareStrings(x.name, y.name))) {
    const path = dir ? `${dir}/${entry.name}` : entry.name;
    if (out.length >= MAX_DIR_ENTRIES) throw new UserError(`${root}: more than ${MAX_DIR_ENTRIES} entries`);
    out.push(path);
    // Symlinks are compared as links, never followed: a tree cannot lead the diff outside itself.
    if (entry.isDirectory()) listTree(root, path, out);
  }
  return out;
}

function diffPathsInto(context: DiffContext, where: string[], a: string, b: string, depth: number): void {
  const sa = lstat(a);
  const sb = lstat(b);
  if (sa.isDirectory() && sb.isDirectory()) {
    if (isOciLayoutDir(a) && isOciLayoutDir(b)) {
      const recurse: DiffContents = (at, x, y, inner, d) => diffBuffers(context, at, x, y, inner, d);
      return diffImages(context, [...where, 'oci-layout'], readOciLayoutDir(a, context.limits.maxBytes), readOciLayoutDir(b, context.limits.maxBytes), recurse, depth);
    }
    const listA = listTree(a);
    const listB = new Set(listTree(b));
    for (const path of listA) {
      if (!listB.has(path)) context.add([...where, path], 'only in A');
      else if (!lstat(join(a, path)).isDirectory() || !lstat(join(b, path)).isDirectory()) diffPathsInto(context, [...where, path], join(a, path), join(b, path), depth + 1);
    }
    const inA = new Set(listA);
    for (const path of listB) if (!inA.has(path)) context.add([...where, path], 'only in B');
    return;
  }
  const kind = (s: Stats) => (s.isFile() ? 'file' : s.isDirectory() ? 'directory' : s.isSymbolicLink() ? 'symlink' : 'special file');
  if (kind(sa) !== kind(sb)) return context.add(where, `${kind(sa)} -> ${kind(sb)}`);
  if (sa.isSymbolicLink()) {
    const la = readlinkSync(a);
    const lb = readlinkSync(b);
    if (la !== lb) context.add(where, `link target ${la} -> ${lb}`);
    return;
  }
  if (!sa.isFile()) throw new UserError(`${a}: a special file, not compared`);
  diffFiles(context, where, a, b, sa, sb, depth);
}

/**
 * `reprokit diff A B`: two files or directories (an OCI layout, a tree), compared down to the
 * section, entry or field that differs.
 */
export function diffPaths(a: string, b: string, limits?: Partial<DiffLimits>): DiffResult {
  const context = new DiffContext({ ...new DiffContext().limits, ...limits });
  // The two paths named are followed, as diff and cmp follow them (a symlink loop is ELOOP, one
  // line); below them, symlinks are compared as links. A FIFO or a device named is refused.
  const named = (path: string): { real: string; stats: Stats } => {
    let real: string;
    let stats: Stats;
    try {
      real = realpathSync(path);
      stats = statSync(real);
    } catch (error) {
      throw describeFsError(error, path);
    }
    if (!stats.isFile() && !stats.isDirectory()) throw notRegularFile(path, stats, 'a file or directory to compare');
    return { real, stats };
  };
  const { real: realA, stats: sa } = named(a);
  const { real: realB, stats: sb } = named(b);
  let format: string;
  if (sa.isFile() && sb.isFile()) {
    const head = (path: string, size: number) => readBounded(path, { size: Math.min(size, 1024) } as Stats, 1024);
    format = sniffFormat(head(a, sa.size), basename(a));
    // The first KiB is enough for magic numbers, not to tell JSON or text apart: say what was compared.
    if (format === 'json' || format === 'text' || format === 'pacman-metadata') format = sa.size <= 1024 ? format : 'text';
  } else if (sa.isDirectory() && sb.isDirectory()) format = isOciLayoutDir(realA) && isOciLayoutDir(realB) ? 'oci-layout' : 'directory';
  else format = `${sa.isFile() ? 'file' : 'directory'} vs ${sb.isFile() ? 'file' : 'directory'}`;
  diffPathsInto(context, [], realA, realB, 0);
  return { a, b, format, same: context.count === 0, differences: context.differences, more: context.dropped };
}

/** Compares two buffers (a downloaded publication and a kept copy) the same way. */
export function diffBuffersResult(a: Buffer, b: Buffer, labels: [string, string], name: string, limits?: Partial<DiffLimits>): DiffResult {
  const context = new DiffContext({ ...new DiffContext().limits, ...limits });
  diffBuffers(context, [], a, b, name, 0);
  return { a: labels[0], b: labels[1], format: sniffFormat(a, name), same: context.count === 0, differences: context.differences, more: context.dropped };
}

/**
 * diffPaths for a report that already knows the two differ (a MISMATCH, a NOT REPRODUCIBLE): under
 * the given labels, and a file reprokit diff cannot read (truncated, past its limits) is one
 * difference saying so, not an error that would hide the verdict.
 */
export function explainDifference(expected: string, actual: string, labels: [string, string]): DiffResult {
  try {
    return { ...diffPaths(expected, actual), a: labels[0], b: labels[1] };
  } catch (error) {
    if (!isUserError(error)) throw error;
    return { a: labels[0], b: labels[1], format: 'binary', same: false, differences: [{ where: [], what: `reprokit diff cannot read them: ${error.message.split('\n')[0]}` }], more: 0 };
  }
}
