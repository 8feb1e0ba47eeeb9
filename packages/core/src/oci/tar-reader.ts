import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { posix } from 'node:path';
import { UserError } from '../errors';

export interface TarEntry {
  /** The name as stored (PAX `path` and GNU long names applied). */
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkname: string;
  /** The file's content, read when asked (entries are read one at a time, memory stays bounded). */
  content(): Promise<Buffer>;
}

export interface ReadTarOptions {
  /** Refuse entries that could write outside a root: `..`, absolute names, links leading out. */
  safe?: boolean;
  /** Names the archive in errors (default: its path). */
  what?: string;
}

const BLOCK = 512;

const field = (block: Buffer, offset: number, length: number) => {
  const raw = block.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
};

function numeric(block: Buffer, offset: number, length: number): number {
  // GNU base-256 for values that do not fit in octal.
  if (block[offset] & 0x80) {
    let value = 0;
    for (let i = offset + 1; i < offset + length; i++) value = value * 256 + block[i];
    return value;
  }
  const text = field(block, offset, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i];
  return sum === numeric(block, 148, 8);
}

function parsePax(body: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    const length = parseInt(body.subarray(offset, space).toString('utf8'), 10);
    if (space < 0 || !(length > 0)) break;
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    records.set(record.slice(0, eq), record.slice(eq + 1));
    offset += length;
  }
  return records;
}

const TYPES: Record<string, TarEntry['type']> = { '0': 'file', '\0': 'file', '': 'file', '7': 'file', '1': 'hardlink', '2': 'symlink', '5': 'directory' };

/**
 * Reads a tar archive (ustar, PAX and GNU long names) entry by entry. Every header's checksum is
 * verified; a truncated archive is an error. With `safe`, entries that would land outside the root
 * they are unpacked into are refused, naming the archive and the entry.
 */
export async function* readTar(path: string, options: ReadTarOptions = {}): AsyncGenerator<TarEntry> {
  const what = options.what ?? path;
  const fd = openSync(path, 'r');
  const fail = (message: string): never => {
    throw new UserError(`${what}: ${message}`);
  };
  try {
    const total = fstatSync(fd).size;
    const read = (offset: number, length: number): Buffer => {
      if (offset + length > total) fail('truncated archive');
      const buffer = Buffer.alloc(length);
      let done = 0;
      while (done < length) done += readSync(fd, buffer, done, length - done, offset + done);
      return buffer;
    };
    const padded = (size: number) => Math.ceil(size / BLOCK) * BLOCK;
    const seen = new Set<string>();
    let offset = 0;
    let pax = new Map<string, string>();
    let longName: string | undefined;
    let longLink: string | undefined;
    for (;;) {
      if (offset + BLOCK > total) fail('truncated archive (no end-of-archive blocks)');
      const header = read(offset, BLOCK);
      if (header.every((byte) => byte === 0)) return;
      if (!checksumOk(header)) fail(`bad header checksum at offset ${offset}`);
      const typeflag = String.fromCharCode(header[156]);
      const size = numeric(header, 124, 12);
      const dataOffset = offset + BLOCK;
      offset = dataOffset + padded(size);
      if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
        const body = read(dataOffset, size);
        if (typeflag === 'x') pax = parsePax(body);
        else if (typeflag === 'L') longName = field(body, 0, body.length);
        else if (typeflag === 'K') longLink = field(body, 0, body.length);
        continue;
      }
      const prefix = field(header, 345, 155);
      const ustarName = prefix ? `${prefix}/${field(header, 0, 100)}` : field(header, 0, 100);
      const type = TYPES[typeflag] ?? 'other';
      const dataSize = Number(pax.get('size') ?? size);
      offset = dataOffset + padded(dataSize);
      const entry: TarEntry = {
        name: pax.get('path') ?? longName ?? ustarName,
        type,
        mode: numeric(header, 100, 8),
        uid: Number(pax.get('uid') ?? numeric(header, 108, 8)),
        gid: Number(pax.get('gid') ?? numeric(header, 116, 8)),
        mtime: Math.floor(Number(pax.get('mtime') ?? numeric(header, 136, 12))),
        size: type === 'file' ? dataSize : 0,
        linkname: pax.get('linkpath') ?? longLink ?? field(header, 157, 100),
        content: async () => read(dataOffset, type === 'file' ? dataSize : 0),
      };
      pax = new Map();
      longName = longLink = undefined;
      if (options.safe) checkSafeEntry(entry, seen, fail);
      seen.add(normalize(entry.name));
      yield entry;
    }
  } finally {
    closeSync(fd);
  }
}

const normalize = (name: string) => posix.normalize(name).replace(/^\.\/|\/+$/g, '');

/** Refuses `..` components, absolute names, symlinks resolving outside the root, hard links to nothing before them. */
function checkSafeEntry(entry: TarEntry, seen: Set<string>, fail: (message: string) => never): void {
  if (entry.name.startsWith('/')) fail(`${entry.name}: absolute name`);
  if (entry.name.split('/').includes('..')) fail(`${entry.name}: name climbs out of the root with ..`);
  if (entry.type === 'symlink') {
    // Absolute targets resolve inside the image's root; relative ones from the link's directory.
    const from = entry.linkname.startsWith('/') ? '/' : posix.dirname('/' + entry.name);
    const resolved = resolveWithin(from, entry.linkname);
    if (resolved === undefined) fail(`${entry.name}: symlink to ${entry.linkname} leads out of the root`);
  }
  if (entry.type === 'hardlink') {
    const target = entry.linkname;
    if (target.startsWith('/') || target.split('/').includes('..')) fail(`${entry.name}: hard link to ${target} leads out of the root`);
    if (!seen.has(normalize(target))) fail(`${entry.name}: hard link to ${target}, which the archive does not hold before it`);
  }
}

/** Resolves `target` from directory `from` (both absolute in the image); undefined when it climbs above `/`. */
function resolveWithin(from: string, target: string): string | undefined {
  const parts = from.split('/').filter(Boolean);
  for (const part of target.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (parts.length === 0) return undefined;
      parts.pop();
    } else parts.push(part);
  }
  return '/' + parts.join('/');
}

/** Every entry's name, type and metadata (no content), e.g. for listings and tests. */
export async function listTarEntries(path: string, options: ReadTarOptions = {}): Promise<Omit<TarEntry, 'content'>[]> {
  const entries: Omit<TarEntry, 'content'>[] = [];
  for await (const { content: _content, ...entry } of readTar(path, options)) entries.push(entry);
  return entries;
}
