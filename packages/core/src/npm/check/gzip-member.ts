import { crc32, gunzipSync, inflateRawSync } from 'node:zlib';
import { UserError } from '../../errors';

/** A .tgz taken apart: the gzip header's bytes, the raw deflate stream, the trailer, the tar. */
export interface GzipMember {
  header: Buffer;
  deflate: Buffer;
  tar: Buffer;
  /** Header fields as a named header states them. */
  flags: number;
  mtime: number;
  xfl: number;
  os: number;
}

/** Everything an npm tarball unpacks to is refused past this (the registry's own limit is far lower). */
export const TAR_LIMIT = 1 << 30;

/**
 * One gzip member (RFC 1952) split into its parts, each checked: the trailer's CRC-32 and size must
 * be the tar's, and nothing may follow the member (a second member or trailing bytes would be
 * bytes no deflate accounts for).
 */
export function readGzipMember(gz: Buffer, what: string, maxTar = TAR_LIMIT): GzipMember {
  if (gz.length < 18 || gz[0] !== 0x1f || gz[1] !== 0x8b) throw new UserError(`${what}: not a gzip stream`);
  if (gz[2] !== 8) throw new UserError(`${what}: gzip method ${gz[2]}, not deflate`);
  const flags = gz[3];
  let offset = 10;
  if (flags & 0x04) offset += 2 + gz.readUInt16LE(offset);
  if (flags & 0x08) offset = gz.indexOf(0, offset) + 1;
  if (flags & 0x10) offset = gz.indexOf(0, offset) + 1;
  if (flags & 0x02) offset += 2;
  if (offset <= 0 || offset > gz.length - 8) throw new UserError(`${what}: truncated gzip header`);
  let tar: Buffer;
  let consumed: number;
  try {
    const { buffer, engine } = inflateRawSync(gz.subarray(offset), { info: true, maxOutputLength: maxTar }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    tar = buffer;
    consumed = engine.bytesWritten;
  } catch (error) {
    throw new UserError(`${what}: the deflate stream does not inflate (${(error as Error).message})`);
  }
  const end = offset + consumed;
  if (end + 8 > gz.length) throw new UserError(`${what}: truncated gzip trailer`);
  if (gz.readUInt32LE(end) !== crc32(tar) || gz.readUInt32LE(end + 4) !== tar.length % 2 ** 32) throw new UserError(`${what}: the gzip trailer's CRC-32 or size is not the content's`);
  if (end + 8 !== gz.length) throw new UserError(`${what}: ${gz.length - end - 8} bytes after the gzip member`);
  // gunzip agrees with the split (a belt to the braces above: the same bytes by the usual reader).
  if (!gunzipSync(gz, { maxOutputLength: maxTar }).equals(tar)) throw new UserError(`${what}: gunzip and the split disagree`);
  return { header: gz.subarray(0, offset), deflate: gz.subarray(offset, end), tar, flags, mtime: gz.readUInt32LE(4), xfl: gz[8], os: gz[9] };
}

// What zlib's OS_CODE says of the machine that compressed (zutil.h), and node-tar's portable override.
const OS_NAMES: Record<number, string> = { 3: 'Unix (zlib on Linux)', 19: 'macOS (zlib ≥ 1.2.9 on a Mac)', 255: 'unknown (node-tar ≥ 5.0.5 portable mode)', 7: 'Macintosh (zlib < 1.2.9 on a Mac)', 10: 'Windows (zlib on Win32)', 0: 'FAT' };

/** The header zlib writes for `level` (xfl 2 at 9, 4 at 1, else 0; no name, mtime 0), with `os` as the OS byte. */
export function zlibGzipHeader(level: number, os: number): Buffer {
  return Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, level === 9 ? 2 : level === 1 ? 4 : 0, os]);
}

export function describeOs(os: number): string {
  return `0x${os.toString(16).padStart(2, '0')} ${OS_NAMES[os] ?? 'other'}`;
}

/** The whole gzip stream from its parts: what "named header + named deflate" claims the bytes are. */
export function assembleGzip(header: Buffer, deflate: Buffer, tar: Buffer): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(tar), 0);
  trailer.writeUInt32LE(tar.length % 2 ** 32, 4);
  return Buffer.concat([header, deflate, trailer]);
}
