import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { UserError } from '../errors';
import { readRegularFile } from '../fs/regular-file';
import { readTarEntries, type TarEntry } from '../archive/tar-reader';
import { parseBuildInfo, parsePkgInfo, type ArchBuildInfo, type ArchPkgInfo } from './pkginfo';

export interface PackageArchive {
  file: string;
  entries: TarEntry[];
  pkginfo: ArchPkgInfo;
  buildinfo: ArchBuildInfo;
}

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/**
 * What a package's tar may decompress to. The tar is held in memory whole, so a zstd or gzip bomb
 * (a few KiB declaring or producing gigabytes) must stop here with one line, not exhaust memory.
 * Real packages are far smaller (asdf's is 3 MiB); a bigger one needs a streaming reader, not a higher cap.
 */
export const MAX_PACKAGE_TAR_BYTES = 512 << 20;

/** A package's tar stream: makepkg compresses with zstd (PKGEXT .pkg.tar.zst) or gzip; plain tar is accepted. */
export function decompressPackage(bytes: Buffer, file: string, maxBytes = MAX_PACKAGE_TAR_BYTES): Buffer {
  const tooLarge = () => new UserError(`${file}: decompresses to more than ${maxBytes} bytes: refused (a decompression bomb?)`);
  if (bytes.subarray(0, 4).equals(ZSTD_MAGIC)) {
    // Node 20 has no zstd; fzstd is a small pure-JS decoder, used as a stream so the output is counted.
    const { Decompress } = require('fzstd') as typeof import('fzstd');
    const chunks: Uint8Array[] = [];
    let total = 0;
    let ended = false;
    const stream = new Decompress((chunk, final) => {
      total += chunk.length;
      if (total > maxBytes) throw tooLarge();
      chunks.push(chunk);
      if (final) ended = true;
    });
    try {
      for (let offset = 0; offset < bytes.length; offset += 1 << 16) {
        stream.push(bytes.subarray(offset, offset + (1 << 16)), offset + (1 << 16) >= bytes.length);
      }
    } catch (error) {
      if (error instanceof UserError) throw error;
      // fzstd reports corrupt data with its own errors, and a frame declaring a huge window as a RangeError.
      throw new UserError(`${file}: not a valid zstd stream (${(error as Error).message}): truncated or corrupt`);
    }
    if (!ended) throw new UserError(`${file}: not a valid zstd stream (it ends before its last block): truncated or corrupt`);
    return Buffer.concat(chunks, total);
  }
  if (bytes.subarray(0, 2).equals(GZIP_MAGIC)) {
    try {
      return gunzipSync(bytes, { maxOutputLength: maxBytes });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE') throw tooLarge();
      throw new UserError(`${file}: not a valid gzip stream (${(error as Error).message}): truncated or corrupt`);
    }
  }
  return bytes;
}

/**
 * Reads a pacman package: its entries (type, mode, owner, mtime, content hash) and its parsed
 * .PKGINFO and .BUILDINFO. Errors name the file, and the metadata's line.
 */
export function readPackageArchive(file: string): PackageArchive {
  const bytes = readRegularFile(file, MAX_PACKAGE_TAR_BYTES);
  // Safe: a package holding `../x`, `/etc/x` or a link out of its root is not a package pacman would install.
  const { entries, contents } = readTarEntries(decompressPackage(bytes, file), file, { safe: true });
  const metadata = (name: string) => {
    const content = contents.get(name);
    if (!content) throw new UserError(`${file}: no ${name} in the package: not built by makepkg?`);
    return content.toString('utf8');
  };
  const label = basename(file);
  return {
    file,
    entries,
    pkginfo: parsePkgInfo(metadata('.PKGINFO'), `${label}:.PKGINFO`),
    buildinfo: parseBuildInfo(metadata('.BUILDINFO'), `${label}:.BUILDINFO`),
  };
}
