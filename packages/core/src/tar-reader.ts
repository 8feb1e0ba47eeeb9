import { createHash } from 'node:crypto';
import { UserError } from './errors';

/** One entry of a tar archive: what a rebuild must reproduce of it. */
export interface TarEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'hardlink' | 'other';
  mode: number;
  uid: number;
  gid: number;
  uname: string;
  gname: string;
  mtime: number;
  size: number;
  /** Symbolic or hard link target. */
  link?: string;
  /** sha256 of a regular file's content. */
  sha256?: string;
}

const BLOCK = 512;

function field(block: Buffer, offset: number, length: number): string {
  const raw = block.subarray(offset, offset + length);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? length : end).toString('utf8');
}

function octal(block: Buffer, offset: number, length: number, file: string, entry: string): number {
  const text = field(block, offset, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw new UserError(`${file}: ${entry}: corrupt tar header (${JSON.stringify(text)} is not octal)`);
  return parseInt(text, 8);
}

/** PAX extended header records: `<length> key=value\n`. */
function paxRecords(body: Buffer): Record<string, string> {
  const records: Record<string, string> = {};
  let offset = 0;
  while (offset < body.length) {
    const space = body.indexOf(0x20, offset);
    const length = Number(body.subarray(offset, space).toString('ascii'));
    if (space < 0 || !Number.isInteger(length) || length <= 0) break;
    const record = body.subarray(space + 1, offset + length - 1).toString('utf8');
    const equals = record.indexOf('=');
    records[record.slice(0, equals)] = record.slice(equals + 1);
    offset += length;
  }
  return records;
}

const TYPES: Record<string, TarEntry['type']> = { '0': 'file', '\0': 'file', '7': 'file', '5': 'directory', '2': 'symlink', '1': 'hardlink' };

/** Reads every entry of a tar archive (ustar, PAX and GNU long names), hashing file contents. */
export function readTarEntries(tar: Buffer, file: string): { entries: TarEntry[]; contents: Map<string, Buffer> } {
  const entries: TarEntry[] = [];
  const contents = new Map<string, Buffer>();
  let globalPax: Record<string, string> = {};
  let pax: Record<string, string> = {};
  let longName: string | undefined;
  let longLink: string | undefined;
  let offset = 0;
  for (;;) {
    if (offset + BLOCK > tar.length) throw new UserError(`${file}: truncated tar archive (no end marker after ${entries.length} entries)`);
    const header = tar.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) break;
    const name = field(header, 0, 100);
    const size = octal(header, 124, 12, file, name);
    const type = String.fromCharCode(header[156]);
    const body = tar.subarray(offset + BLOCK, offset + BLOCK + size);
    if (body.length < size) throw new UserError(`${file}: truncated tar archive (${name} is cut short)`);
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (type === 'x') pax = paxRecords(body);
    else if (type === 'g') globalPax = { ...globalPax, ...paxRecords(body) };
    else if (type === 'L') longName = field(body, 0, body.length);
    else if (type === 'K') longLink = field(body, 0, body.length);
    else {
      const records = { ...globalPax, ...pax };
      const prefix = field(header, 345, 155);
      const path = (records.path ?? longName ?? (prefix ? `${prefix}/${name}` : name)).replace(/^\.\//, '').replace(/\/$/, '');
      const entry: TarEntry = {
        path,
        type: TYPES[type] ?? 'other',
        mode: octal(header, 100, 8, file, path) & 0o7777,
        uid: records.uid !== undefined ? Number(records.uid) : octal(header, 108, 8, file, path),
        gid: records.gid !== undefined ? Number(records.gid) : octal(header, 116, 8, file, path),
        uname: records.uname ?? field(header, 265, 32),
        gname: records.gname ?? field(header, 297, 32),
        mtime: records.mtime !== undefined ? Number(records.mtime) : octal(header, 136, 12, file, path),
        size: records.size !== undefined ? Number(records.size) : size,
      };
      const link = records.linkpath ?? longLink ?? field(header, 157, 100);
      if (entry.type === 'symlink' || entry.type === 'hardlink') entry.link = link;
      if (entry.type === 'file') {
        entry.sha256 = createHash('sha256').update(body).digest('hex');
        contents.set(path, body);
      }
      entries.push(entry);
      pax = {};
      longName = longLink = undefined;
    }
  }
  return { entries, contents };
}
