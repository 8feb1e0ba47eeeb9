import { gunzipSync } from 'node:zlib';
import { UserError } from '../errors';

export const GZIP_MAGIC = [0x1f, 0x8b];
export const ZSTD_MAGIC = [0x28, 0xb5, 0x2f, 0xfd];

export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 10 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

export function isZstd(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && ZSTD_MAGIC.every((byte, i) => bytes[i] === byte);
}

const GZIP_OS: Record<number, string> = { 0: 'FAT', 3: 'Unix', 7: 'Macintosh', 10: 'TOPS-20', 11: 'NTFS', 255: 'unknown' };

/** gzip's member header (RFC 1952): what `gzip -n` and the zlib build leave in the bytes. */
export function gzipHeader(bytes: Uint8Array): Record<string, string> {
  const flags = bytes[3];
  const mtime = bytes[4] | (bytes[5] << 8) | (bytes[6] << 16) | (bytes[7] << 24);
  const header: Record<string, string> = {
    method: String(bytes[2]),
    flags: '0x' + flags.toString(16),
    mtime: String(mtime >>> 0),
    xfl: String(bytes[8]),
    os: `${bytes[9]} (${GZIP_OS[bytes[9]] ?? 'other'})`,
  };
  let offset = 10;
  if (flags & 0x04 && offset + 2 <= bytes.length) offset += 2 + (bytes[offset] | (bytes[offset + 1] << 8));
  if (flags & 0x08) {
    const end = bytes.indexOf(0, offset);
    header.name = Buffer.from(bytes.subarray(offset, end < 0 ? bytes.length : end)).toString('latin1');
    offset = end < 0 ? bytes.length : end + 1;
  }
  if (flags & 0x10) {
    const end = bytes.indexOf(0, offset);
    header.comment = Buffer.from(bytes.subarray(offset, end < 0 ? bytes.length : end)).toString('latin1');
  }
  return header;
}

/** The first zstd frame header: what the compressor chose to write (content size, checksum, window, dictionary). */
export function zstdHeader(bytes: Uint8Array): Record<string, string> {
  const descriptor = bytes[4] ?? 0;
  const single = (descriptor >> 5) & 1;
  const fcsFlag = descriptor >> 6;
  const dictFlag = descriptor & 3;
  let offset = 5 + (single ? 0 : 1);
  const dictBytes = [0, 1, 2, 4][dictFlag];
  let dict = 0;
  for (let i = 0; i < dictBytes; i++) dict += (bytes[offset + i] ?? 0) * 2 ** (8 * i);
  offset += dictBytes;
  const fcsBytes = fcsFlag === 0 ? (single ? 1 : 0) : [0, 2, 4, 8][fcsFlag];
  let size = 0;
  for (let i = 0; i < fcsBytes; i++) size += (bytes[offset + i] ?? 0) * 2 ** (8 * i);
  if (fcsBytes === 2) size += 256;
  return {
    'content size': fcsBytes ? String(size) : '(not recorded)',
    checksum: (descriptor >> 2) & 1 ? 'yes' : 'no',
    'single segment': single ? 'yes' : 'no',
    window: single ? '(content size)' : String(bytes[5]),
    dictionary: dictBytes ? String(dict) : '(none)',
  };
}

/** gzip or zstd decompressed with a limit on the output: a decompression bomb is an error, not an exhausted machine. */
export function decompressBounded(bytes: Buffer, kind: 'gzip' | 'zstd', maxBytes: number, what: string): Buffer {
  if (kind === 'gzip') {
    try {
      return gunzipSync(bytes, { maxOutputLength: maxBytes });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ERR_BUFFER_TOO_LARGE') throw new UserError(`${what}: decompresses to more than ${maxBytes} bytes`);
      throw new UserError(`${what}: not a valid gzip stream (${(error as Error).message}): truncated or corrupt`);
    }
  }
  // fzstd's streaming decoder, so the limit holds whatever the frame header claims.
  const { Decompress } = require('fzstd') as typeof import('fzstd');
  const chunks: Uint8Array[] = [];
  let total = 0;
  let ended = false;
  const stream = new Decompress((chunk, final) => {
    total += chunk.length;
    if (total > maxBytes) throw new UserError(`${what}: decompresses to more than ${maxBytes} bytes`);
    chunks.push(chunk);
    if (final) ended = true;
  });
  try {
    for (let offset = 0; offset < bytes.length; offset += 1 << 20) {
      const last = offset + (1 << 20) >= bytes.length;
      stream.push(bytes.subarray(offset, offset + (1 << 20)), last);
    }
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`${what}: not a valid zstd stream (${(error as Error).message}): truncated or corrupt`);
  }
  if (!ended && bytes.length > 0 && total === 0) throw new UserError(`${what}: not a valid zstd stream: truncated or corrupt`);
  return Buffer.concat(chunks);
}
