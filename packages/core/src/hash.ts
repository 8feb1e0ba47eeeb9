import { createHash, type Hash } from 'node:crypto';
import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { describeFsError } from './errors';

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

/** Hashes a file once, feeding every requested algorithm from the same chunk. */
export async function hashFile(path: string, algorithms: readonly HashAlgorithm[]): Promise<FileDigest> {
  const hashers = await Promise.all(algorithms.map(createHasher));
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    throw describeFsError(error, path);
  }
  try {
    const buffers = [Buffer.allocUnsafe(CHUNK_SIZE), Buffer.allocUnsafe(CHUNK_SIZE)];
    let current = 0;
    let pending = handle.read(buffers[current], 0, CHUNK_SIZE, null);
    let size = 0;
    for (;;) {
      const { bytesRead } = await pending;
      if (bytesRead === 0) break;
      const chunk = buffers[current].subarray(0, bytesRead);
      current ^= 1;
      pending = handle.read(buffers[current], 0, CHUNK_SIZE, null);
      size += bytesRead;
      for (const hasher of hashers) hasher.update(chunk);
    }
    return { size, digests: digestsOf(algorithms, hashers) };
  } catch (error) {
    throw describeFsError(error, path);
  } finally {
    await handle.close();
  }
}

/** Hashes a stream (standard input for `reprokit hash -`). */
export async function hashStream(stream: Readable, algorithms: readonly HashAlgorithm[]): Promise<FileDigest> {
  const hashers = await Promise.all(algorithms.map(createHasher));
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
