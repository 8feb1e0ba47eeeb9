import { createHash } from 'node:crypto';
import { closeSync, fstatSync, openSync, readSync, writeSync } from 'node:fs';
import { posix } from 'node:path';
import { UserError } from '../errors';
import { showBytes } from '../terminal/safe-output';

/** One entry of a tar archive: what a rebuild must reproduce of it. */
export interface TarEntry {
  /** The name (PAX `path` and GNU long names applied), without a leading `./` or trailing `/`. */
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  /** Content size of a regular file; 0 for anything else. */
  size: number;
  /** Symbolic or hard link target. */
  link?: string;
  /** sha256 of a regular file's content (readTarEntries only). */
  sha256?: string;
  /** The entry's own PAX extended header records (`x`), when it has any. */
  pax?: Record<string, string>;
}

/** An entry as the reader yields it, its content read only when asked, before the next entry is taken. */
export interface StreamedTarEntry extends TarEntry {
  content(): Buffer;
  /** Writes a regular file's content to `path` (mode 0644) in pieces of at most 1 MiB, whatever its size. */
  copyTo(path: string): void;
}

export interface TarReadOptions {
  /**
   * Refuse entries that could write outside the root they are unpacked into: a `..` component, an
   * absolute name, a symlink resolving above the root, a hard link to anything but an earlier entry.
   */
  safe?: boolean;
}

const BLOCK = 512;
const TYPES: Record<string, TarEntry['type']> = { '0': 'file', '\0': 'file', '7': 'file', '5': 'directory', '2': 'symlink', '1': 'hardlink' };

function field(block: Buffer, offset: number, length: number): string {
  const raw = block.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
}

/** PAX extended header records: `<length> key=value\n`; a length that does not fit is corrupt. */
function paxRecords(body: Buffer, fail: (message: string) => never): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < body.length) {
    if (body[offset] === 0) break;
    const space = body.indexOf(0x20, offset);
    const digits = space < 0 ? '' : body.subarray(offset, space).toString('ascii');
    const length = Number(digits);
    if (!/^[0-9]{1,12}$/.test(digits) || length <= space - offset + 1 || offset + length > body.length) {
      fail(`corrupt PAX header (record at byte ${offset} has length ${JSON.stringify(digits)})`);
    }
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    if (equals > 0) records[record.slice(0, equals)] = record.slice(equals + 1);
    offset += length;
  }
  return records;
}

/**
 * A number from a PAX record (`size`, `uid`, `mtime`): a negative, fractional or enormous size would
 * send the reader backwards or past the end (a negative size looped forever).
 */
function paxNumber(value: string, key: string, entry: string, fail: (message: string) => never, fraction = false): number {
  const pattern = fraction ? /^-?[0-9]{1,15}(\.[0-9]{1,9})?$/ : /^[0-9]{1,15}$/;
  if (!pattern.test(value)) fail(`${entry}: corrupt PAX header (${key}=${JSON.stringify(value.slice(0, 40))} is not ${fraction ? 'a number' : 'a non-negative integer'})`);
  return Number(value);
}

/** Bytes of the archive: a whole buffer, or a file read piece by piece so memory stays bounded. */
interface Source {
  size: number;
  read(offset: number, length: number): Buffer;
  close(): void;
}

function openSource(source: Buffer | string): Source {
  if (Buffer.isBuffer(source)) return { size: source.length, read: (offset, length) => source.subarray(offset, offset + length), close: () => {} };
  const fd = openSync(source, 'r');
  return {
    size: fstatSync(fd).size,
    read: (offset, length) => {
      const buffer = Buffer.alloc(length);
      let done = 0;
      while (done < length) {
        const n = readSync(fd, buffer, done, length - done, offset + done);
        if (n === 0) break;
        done += n;
      }
      return buffer.subarray(0, done);
    },
    close: () => closeSync(fd),
  };
}

const COPY_CHUNK = 1 << 20;
const MAX_EXTENDED_HEADER = 1 << 20;

function copyRange(input: Source, offset: number, size: number, target: string): void {
  const fd = openSync(target, 'w', 0o644);
  try {
    for (let done = 0; done < size; ) {
      const piece = input.read(offset + done, Math.min(COPY_CHUNK, size - done));
      writeSync(fd, piece);
      done += piece.length;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads a tar archive (ustar, PAX, GNU long names and base-256 numbers) entry by entry. Every
 * header's checksum is verified; a truncated or corrupt archive is a one-line error naming `what`
 * and the entry.
 */
export function* tarEntries(source: Buffer | string, what: string, options: TarReadOptions = {}): Generator<StreamedTarEntry> {
  const input = openSource(source);
  const fail = (message: string): never => {
    throw new UserError(`${what}: ${message}`);
  };
  const numeric = (block: Buffer, offset: number, length: number, entry: string): number => {
    if (block[offset] & 0x80) {
      // GNU base-256: 0x80 starts a positive number, 0xff a negative one (never valid for sizes or ids).
      if (block[offset] !== 0x80) fail(`${entry}: corrupt tar header (negative base-256 number)`);
      let value = 0;
      for (let i = offset + 1; i < offset + length; i++) value = value * 256 + block[i];
      if (!Number.isSafeInteger(value)) fail(`${entry}: corrupt tar header (base-256 number too large)`);
      return value;
    }
    const text = field(block, offset, length).trim();
    if (text === '') return 0;
    if (!/^[0-7]+$/.test(text)) fail(`${entry}: corrupt tar header (${JSON.stringify(text)} is not octal)`);
    return parseInt(text, 8);
  };
  try {
    const seen = new Set<string>();
    let pax: Record<string, string> = {};
    let longName: string | undefined;
    let longLink: string | undefined;
    let offset = 0;
    let count = 0;
    for (;;) {
      const header = input.read(offset, BLOCK);
      if (header.length < BLOCK) fail(`truncated tar archive (no end marker after ${count} entries)`);
      if (header.every((byte) => byte === 0)) return;
      const name = field(header, 0, 100);
      // Until its checksum holds, the header may be any bytes: its name is shown byte for byte (\xNN).
      const nameEnd = header.subarray(0, 100).indexOf(0);
      const shown = showBytes(header.subarray(0, nameEnd < 0 ? 100 : nameEnd));
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
      if (sum !== numeric(header, 148, 8, shown)) fail(`${shown}: corrupt tar header (bad checksum at offset ${offset})`);
      const type = String.fromCharCode(header[156]);
      const headerSize = numeric(header, 124, 12, name);
      const dataOffset = offset + BLOCK;
      // Global headers (`g`) are skipped, as Go's archive/tar (docker, containerd) does when it applies a
      // layer; GNU tar would apply a global `path` to every later entry.
      const records = pax;
      const size = records.size !== undefined && !'xgLK'.includes(type) ? paxNumber(records.size, 'size', name, fail) : headerSize;
      // Within the file: the next header lies after this one, so the reader always moves forward and ends.
      if (input.size - dataOffset < size) fail(`truncated tar archive (${name} is cut short)`);
      offset = dataOffset + Math.ceil(size / BLOCK) * BLOCK;
      if ('xgLK'.includes(type)) {
        // Extended headers are read whole: bound them, a real one holds a few long names.
        if (size > MAX_EXTENDED_HEADER) fail(`${name}: extended header of ${size} bytes, more than ${MAX_EXTENDED_HEADER}`);
        const body = input.read(dataOffset, size);
        if (type === 'x') pax = paxRecords(body, (message) => fail(`${name}: ${message}`));
        else if (type === 'L') longName = field(body, 0, body.length);
        else if (type === 'K') longLink = field(body, 0, body.length);
        continue;
      }
      const prefix = field(header, 257, 6) === 'ustar' ? field(header, 345, 155) : '';
      const path = (records.path ?? longName ?? (prefix ? `${prefix}/${name}` : name)).replace(/^\.\//, '').replace(/\/+$/, '');
      const entryType = TYPES[type] ?? 'other';
      const entry: StreamedTarEntry = {
        path,
        type: entryType,
        mode: numeric(header, 100, 8, path) & 0o7777,
        uid: records.uid !== undefined ? paxNumber(records.uid, 'uid', path, fail) : numeric(header, 108, 8, path),
        gid: records.gid !== undefined ? paxNumber(records.gid, 'gid', path, fail) : numeric(header, 116, 8, path),
        uname: records.uname ?? field(header, 265, 32),
        gname: records.gname ?? field(header, 297, 32),
        mtime: Math.floor(records.mtime !== undefined ? paxNumber(records.mtime, 'mtime', path, fail, true) : numeric(header, 136, 12, path)),
        size: entryType === 'file' ? size : 0,
        content: () => (entryType === 'file' ? input.read(dataOffset, size) : Buffer.alloc(0)),
        copyTo: (target) => copyRange(input, entryType === 'file' ? dataOffset : 0, entryType === 'file' ? size : 0, target),
      };
      const link = records.linkpath ?? longLink ?? field(header, 157, 100);
      if (entryType === 'symlink' || entryType === 'hardlink') entry.link = link;
      if (Object.keys(records).length) entry.pax = records;
      pax = {};
      longName = longLink = undefined;
      count++;
      if (options.safe) checkSafeEntry(entry, seen, fail);
      seen.add(posix.normalize(path));
      yield entry;
    }
  } finally {
    input.close();
  }
}

/** Reads every entry of an archive in memory, hashing file contents. */
export function readTarEntries(tar: Buffer, file: string, options: TarReadOptions = {}): { entries: TarEntry[]; contents: Map<string, Buffer> } {
  const entries: TarEntry[] = [];
  const contents = new Map<string, Buffer>();
  for (const { content, copyTo: _copyTo, ...entry } of tarEntries(tar, file, options)) {
    if (entry.type === 'file') {
      const body = content();
      entry.sha256 = createHash('sha256').update(body).digest('hex');
      contents.set(entry.path, body);
    }
    entries.push(entry);
  }
  return { entries, contents };
}

function checkSafeEntry(entry: TarEntry, seen: Set<string>, fail: (message: string) => never): void {
  const name = entry.path;
  if (name.startsWith('/')) fail(`${name}: absolute name`);
  if (name.split('/').includes('..')) fail(`${name}: the name climbs out of the root with ..`);
  if (entry.type === 'symlink') {
    // An absolute target resolves from the image's root, a relative one from the link's directory.
    const from = entry.link!.startsWith('/') ? [] : posix.dirname(name).split('/').filter((part) => part !== '.' && part !== '');
    for (const part of entry.link!.split('/')) {
      if (part === '..' && from.pop() === undefined) fail(`${name}: symlink to ${entry.link} leads out of the root`);
      else if (part !== '..' && part !== '.' && part !== '') from.push(part);
    }
  }
  if (entry.type === 'hardlink') {
    const target = entry.link!;
    if (target.startsWith('/') || target.split('/').includes('..')) fail(`${name}: hard link to ${target} leads out of the root`);
    if (!seen.has(posix.normalize(target.replace(/^\.\//, '')))) fail(`${name}: hard link to ${target}, which the archive does not hold before it`);
  }
}
