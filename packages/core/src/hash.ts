import { createHash, hash as oneShotHash, type Hash } from 'node:crypto';
import { closeSync, createReadStream, read, readSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Readable } from 'node:stream';
import { describeFsError } from './errors';
import { openRegularFile, type OpenRegularOptions } from './fs/regular-file';

export const HASH_ALGORITHMS = ['blake2b512', 'sha256', 'blake3'] as const;
export type HashAlgorithm = (typeof HASH_ALGORITHMS)[number];

export interface FileDigest {
  size: number;
  digests: Partial<Record<HashAlgorithm, string>>;
}

interface Hasher {
  update(chunk: Uint8Array): void;
  hex(): string;
}

// Two 4 MiB buffers, used in turn: the next read runs on libuv's thread pool while this thread
// hashes the chunk just read, so reading and hashing overlap (measured ~1.5x faster than one buffer
// read-then-hash, see tools/bench/hash). Memory stays constant whatever the file size.
const CHUNK_SIZE = 4 << 20;

function fromNode(hash: Hash): Hasher {
  return { update: (chunk) => hash.update(chunk), hex: () => hash.digest('hex') };
}

/** Hashers for node's own algorithms are made synchronously: verify makes two for each of 10,000 files. */
async function createHashers(algorithms: readonly HashAlgorithm[]): Promise<Hasher[]> {
  return algorithms.includes('blake3') ? Promise.all(algorithms.map(createHasher)) : algorithms.map((algorithm) => fromNode(createHash(algorithm)));
}

async function createHasher(algorithm: HashAlgorithm): Promise<Hasher> {
  switch (algorithm) {
    case 'blake2b512':
    case 'sha256':
      return fromNode(createHash(algorithm));
    case 'blake3': {
      // Node has no BLAKE3; @noble/hashes is ESM-only, hence the dynamic import.
      const { blake3 } = await import('@noble/hashes/blake3.js');
      const state = blake3.create();
      return {
        update: (chunk) => state.update(chunk),
        hex: () => Buffer.from(state.digest()).toString('hex'),
      };
    }
  }
}

const readAt = promisify(read);

// Below this size a file is read with one synchronous call into a shared buffer: for 10,000 small
// artifacts the two 4 MiB buffers, the thread-pool round trips and the promises of the streaming
// path cost more than the hashing (see tools/bench/verify).
const SMALL_FILE = 64 << 10;
const smallBuffer = Buffer.allocUnsafe(SMALL_FILE);

/**
 * Hashes a small regular file (under 64 KiB) synchronously, with one read and one-shot hashing;
 * undefined when the file is bigger (or BLAKE3 is asked for), for `hashFile` to stream. A FIFO, a
 * device, a directory (or with `noFollow` a symlink) is refused before it is read.
 */
export function hashSmallFile(path: string, algorithms: readonly HashAlgorithm[], options: OpenRegularOptions = {}): FileDigest | undefined {
  if (algorithms.includes('blake3')) return undefined;
  const { fd, size } = openRegularFile(path, options);
  try {
    if (size !== undefined && size >= SMALL_FILE) return undefined;
    // The whole buffer is asked for, so a file that grew since stat is seen to be big.
    const bytesRead = readSync(fd, smallBuffer, 0, SMALL_FILE, 0);
    if (bytesRead === SMALL_FILE) return undefined;
    // One-shot hashing: no hash object per file (3x cheaper for 10,000 one-byte files).
    const chunk = smallBuffer.subarray(0, bytesRead);
    const digests: FileDigest['digests'] = {};
    for (const algorithm of algorithms) digests[algorithm] = oneShotHash(algorithm, chunk, 'hex');
    return { size: bytesRead, digests };
  } catch (error) {
    throw describeFsError(error, path);
  } finally {
    closeSync(fd);
  }
}

/**
 * Hashes a regular file once, feeding every requested algorithm from the same chunk. A FIFO, a
 * device, a directory (or with `noFollow` a symlink) is refused before it is read.
 */
export async function hashFile(path: string, algorithms: readonly HashAlgorithm[], options: OpenRegularOptions = {}): Promise<FileDigest> {
  const small = hashSmallFile(path, algorithms, options);
  if (small) return small;
  // Opened again (a big file, or BLAKE3): reading and hashing overlap from the first byte.
  const { fd } = openRegularFile(path, options);
  try {
    return await hashStreaming(fd, algorithms, await createHashers(algorithms));
  } catch (error) {
    throw describeFsError(error, path);
  } finally {
    closeSync(fd);
  }
}

async function hashStreaming(fd: number, algorithms: readonly HashAlgorithm[], hashers: Hasher[]): Promise<FileDigest> {
  const buffers = [Buffer.allocUnsafe(CHUNK_SIZE), Buffer.allocUnsafe(CHUNK_SIZE)];
  let current = 0;
  let position = 0;
  let pending = readAt(fd, buffers[current], 0, CHUNK_SIZE, position);
  for (;;) {
    const { bytesRead } = await pending;
    if (bytesRead === 0) break;
    const chunk = buffers[current].subarray(0, bytesRead);
    position += bytesRead;
    current ^= 1;
    pending = readAt(fd, buffers[current], 0, CHUNK_SIZE, position);
    for (const hasher of hashers) hasher.update(chunk);
  }
  return { size: position, digests: digestsOf(algorithms, hashers) };
}

/** Hashes a stream (standard input for `reprokit hash -`). */
export async function hashStream(stream: Readable, algorithms: readonly HashAlgorithm[]): Promise<FileDigest> {
  const hashers = await createHashers(algorithms);
  let size = 0;
  for await (const chunk of stream) {
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
    size += bytes.length;
    for (const hasher of hashers) hasher.update(bytes);
  }
  return { size, digests: digestsOf(algorithms, hashers) };
}

function digestsOf(algorithms: readonly HashAlgorithm[], hashers: Hasher[]): FileDigest['digests'] {
  const digests: FileDigest['digests'] = {};
  algorithms.forEach((algorithm, i) => (digests[algorithm] = hashers[i].hex()));
  return digests;
}

/**
 * One line as `b2sum`/`sha256sum`/`b3sum` print it: `<hex>  <name>`. Like GNU coreutils, a name
 * holding a backslash, newline or carriage return is escaped and the line starts with a backslash.
 */
export function formatChecksumLine(hex: string, name: string): string {
  if (!/[\\\n\r]/.test(name)) return `${hex}  ${name}`;
  const escaped = name.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/\r/g, '\\r');
  return `\\${hex}  ${escaped}`;
}

/**
 * A file's sha512 as Subresource Integrity (`sha512-<base64>`): how the npm registry's
 * dist.integrity and lockfiles name a package tarball.
 */
export async function sha512Integrity(path: string): Promise<string> {
  const hash = createHash('sha512');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return `sha512-${hash.digest('base64')}`;
}
