import { createHash } from 'node:crypto';
import { closeSync, createReadStream, createWriteStream, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { UserError } from '../errors';

/** What ADD will download at most (bytes); a bigger answer is refused, not truncated. */
export const MAX_DOWNLOAD = 4 * 1024 ** 3;
/** What ADD unpacks a gzip archive to at most (bytes). */
export const MAX_UNPACKED = 16 * 1024 ** 3;

/** How ADD treats a local file: a tar (maybe gzip-compressed) is unpacked, anything else copied. */
export function archiveKind(path: string): 'tar' | 'gzip' | 'bzip2' | 'xz' | 'zstd' | undefined {
  const head = Buffer.alloc(512);
  const fd = openSync(path, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  if (n >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
  if (n >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return 'bzip2';
  if (n >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return 'xz';
  if (n >= 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
  if (n >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar') return 'tar';
  return undefined;
}

/** Decompresses a gzip file to `out`, refusing more than MAX_UNPACKED bytes (a decompression bomb). */
export async function gunzipFile(path: string, out: string, what: string): Promise<void> {
  let total = 0;
  const limit = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      if (total > MAX_UNPACKED) done(new UserError(`${what}: unpacks to more than ${MAX_UNPACKED} bytes: refused`));
      else done(null, chunk);
    },
  });
  try {
    await pipeline(createReadStream(path), createGunzip(), limit, createWriteStream(out));
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`${what}: not a valid gzip file (${(error as Error).message})`);
  }
}

/**
 * Downloads `url` to `out` (through a temporary file), following up to 5 redirects, and refuses it
 * unless its sha256 is `checksum` (`sha256:<hex>`): what the image gets never depends on the server.
 */
export async function downloadChecked(url: string, checksum: string, out: string, what: string): Promise<number> {
  const temp = `${out}.part`;
  let current = url;
  for (let redirects = 0; ; redirects++) {
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = (current.startsWith('https:') ? httpsGet : httpGet)(current, { timeout: 60_000 }, resolve);
      request.on('timeout', () => request.destroy(new Error('no answer for 60 s')));
      request.on('error', reject);
    }).catch((error: Error) => {
      throw new UserError(`${what}: cannot download ${current}: ${error.message}`);
    });
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      response.resume();
      if (redirects >= 5) throw new UserError(`${what}: more than 5 redirects from ${url}`);
      current = new URL(response.headers.location, current).toString();
      if (!/^https?:/.test(current)) throw new UserError(`${what}: ${url} redirects to ${current}, which is not http(s)`);
      continue;
    }
    if (status !== 200) {
      response.resume();
      throw new UserError(`${what}: ${current} answered HTTP ${status}`);
    }
    const hash = createHash('sha256');
    let size = 0;
    const count = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > MAX_DOWNLOAD) return done(new UserError(`${what}: ${url} sends more than ${MAX_DOWNLOAD} bytes: refused`));
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(response, count, createWriteStream(temp, { mode: 0o600 }));
    } catch (error) {
      rmSync(temp, { force: true });
      if (error instanceof UserError) throw error;
      throw new UserError(`${what}: download of ${url} broke off: ${(error as Error).message}`);
    }
    const actual = `sha256:${hash.digest('hex')}`;
    if (actual !== checksum) {
      rmSync(temp, { force: true });
      throw new UserError(`${what}: ${url} has ${actual}, not ${checksum} as --checksum says: refusing it`);
    }
    renameSync(temp, out);
    return size;
  }
}

/** The file name ADD gives a download when the destination is a directory: the URL path's last part. */
export function downloadName(url: string, what: string): string {
  const name = posix.basename(decodeURIComponent(new URL(url).pathname));
  if (name === '' || name === '/' || name === '.' || name === '..') throw new UserError(`${what}: ${url} names no file: give a destination file name, not a directory`);
  return name;
}
