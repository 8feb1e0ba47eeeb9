import { createHash, type Hash } from 'node:crypto';
import { closeSync, lstatSync, openSync, readdirSync, readlinkSync, readSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../errors';
import { compareStrings } from '../manifest/manifest';

/**
 * A tar writer whose output depends only on the entries given: ustar headers with empty user and
 * group names, one fixed mtime, no access/change times, and PAX `path`/`linkpath` records only where
 * a name does not fit ustar. The bytes written are hashed as they go (the layer's diffID).
 */
export interface TarEntryMeta {
  mode: number;
  uid: number;
  gid: number;
}

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);

export class TarWriter {
  private readonly hash: Hash = createHash('sha256');
  private written = 0;

  constructor(
    private readonly fd: number,
    private readonly mtime: number,
  ) {}

  directory(name: string, meta: TarEntryMeta): void {
    this.header(name.endsWith('/') ? name : name + '/', meta, '5', 0, '');
  }

  symlink(name: string, target: string, meta: TarEntryMeta): void {
    this.header(name, meta, '2', 0, target);
  }

  hardlink(name: string, target: string, meta: TarEntryMeta): void {
    this.header(name, meta, '1', 0, target);
  }

  buffer(name: string, content: Buffer, meta: TarEntryMeta): void {
    this.header(name, meta, '0', content.length, '');
    this.write(content);
    this.pad(content.length);
  }

  /** A regular file's content, copied in chunks so memory stays constant. */
  file(name: string, path: string, size: number, meta: TarEntryMeta): void {
    this.header(name, meta, '0', size, '');
    const fd = openSync(path, 'r');
    try {
      const chunk = Buffer.allocUnsafe(1 << 20);
      let left = size;
      while (left > 0) {
        const n = readSync(fd, chunk, 0, Math.min(chunk.length, left), null);
        if (n === 0) throw new UserError(`${path}: file shrank while it was being archived`);
        this.write(chunk.subarray(0, n));
        left -= n;
      }
    } finally {
      closeSync(fd);
    }
    this.pad(size);
  }

  /** Ends the archive (two zero blocks) and returns its size and sha256. */
  finish(): { size: number; sha256: string } {
    this.write(ZERO_BLOCK);
    this.write(ZERO_BLOCK);
    return { size: this.written, sha256: this.hash.digest('hex') };
  }

  private write(bytes: Buffer): void {
    let offset = 0;
    while (offset < bytes.length) offset += writeSync(this.fd, bytes, offset, bytes.length - offset);
    this.hash.update(bytes);
    this.written += bytes.length;
  }

  private pad(size: number): void {
    const rest = size % BLOCK;
    if (rest) this.write(ZERO_BLOCK.subarray(0, BLOCK - rest));
  }

  private header(name: string, meta: TarEntryMeta, type: string, size: number, link: string): void {
    const pax: string[] = [];
    if (Buffer.byteLength(name) > 100) pax.push(paxRecord('path', name));
    if (Buffer.byteLength(link) > 100) pax.push(paxRecord('linkpath', link));
    if (pax.length) {
      const body = Buffer.from(pax.join(''));
      this.write(ustarHeader('././@PaxHeader', { mode: 0o644, uid: 0, gid: 0 }, 'x', body.length, '', this.mtime));
      this.write(body);
      this.pad(body.length);
    }
    this.write(ustarHeader(name, meta, type, size, link, this.mtime));
  }
}

/** A PAX record: its decimal length counts itself. */
function paxRecord(key: string, value: string): string {
  const rest = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(rest) + 1;
  while (String(length).length + Buffer.byteLength(rest) !== length) length++;
  return `${length}${rest}`;
}

function ustarHeader(name: string, meta: TarEntryMeta, type: string, size: number, link: string, mtime: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  const text = (value: string, offset: number, length: number) => Buffer.from(value).copy(block, offset, 0, length);
  const octal = (value: number, offset: number, length: number) => text(value.toString(8).padStart(length - 1, '0') + '\0', offset, length);
  text(name, 0, 100);
  octal(meta.mode & 0o7777, 100, 8);
  octal(meta.uid, 108, 8);
  octal(meta.gid, 116, 8);
  octal(size, 124, 12);
  octal(mtime, 136, 12);
  block.fill(' ', 148, 156);
  text(type, 156, 1);
  text(link, 157, 100);
  text('ustar\0', 257, 6);
  text('00', 263, 2);
  let sum = 0;
  for (const byte of block) sum += byte;
  text(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  return block;
}

/**
 * Archives a directory tree: entries in name order per directory (as `tar --sort=name`), every mtime
 * set to `mtime`, owners and modes as on disk, hard links to the first path in that order. Device
 * nodes, sockets and FIFOs are refused: a build environment has no business shipping them.
 */
export function writeDirectoryTar(root: string, outPath: string, mtime: number): { size: number; sha256: string } {
  const fd = openSync(outPath, 'w', 0o644);
  try {
    const tar = new TarWriter(fd, mtime);
    const firstPathOfInode = new Map<string, string>();
    const walk = (dir: string, prefix: string) => {
      for (const entry of readdirSync(dir).sort(compareStrings)) {
        const path = join(dir, entry);
        const name = prefix + entry;
        const stat = lstatSync(path);
        const meta = { mode: stat.mode, uid: stat.uid, gid: stat.gid };
        if (stat.isDirectory()) {
          tar.directory(name, meta);
          walk(path, name + '/');
        } else if (stat.isSymbolicLink()) {
          tar.symlink(name, readlinkSync(path), meta);
        } else if (stat.isFile()) {
          const inode = `${stat.dev}:${stat.ino}`;
          const first = stat.nlink > 1 ? firstPathOfInode.get(inode) : undefined;
          if (first) tar.hardlink(name, first, meta);
          else {
            if (stat.nlink > 1) firstPathOfInode.set(inode, name);
            tar.file(name, path, stat.size, meta);
          }
        } else {
          throw new UserError(`${path}: device, socket or FIFO in a build environment; remove it`);
        }
      }
    };
    walk(root, '');
    return tar.finish();
  } finally {
    closeSync(fd);
  }
}
