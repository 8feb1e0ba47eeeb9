import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describeFsError, UserError } from '../errors';
import { readTarEntries, type TarEntry } from '../tar-reader';
import { parseBuildInfo, parsePkgInfo, type ArchBuildInfo, type ArchPkgInfo } from './pkginfo';

export interface PackageArchive {
  file: string;
  entries: TarEntry[];
  pkginfo: ArchPkgInfo;
  buildinfo: ArchBuildInfo;
}

const ZSTD_MAGIC = Buffer.from([0x28, 0xb5, 0x2f, 0xfd]);
const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

/** A package's tar stream: makepkg compresses with zstd (PKGEXT .pkg.tar.zst) or gzip; plain tar is accepted. */
function decompress(bytes: Buffer, file: string): Buffer {
  if (bytes.subarray(0, 4).equals(ZSTD_MAGIC)) {
    // Node 20 has no zstd; fzstd is a small pure-JS decoder.
    const { decompress: unzstd } = require('fzstd') as typeof import('fzstd');
    try {
      return Buffer.from(unzstd(bytes));
    } catch (error) {
      throw new UserError(`${file}: not a valid zstd stream (${(error as Error).message}): truncated or corrupt`);
    }
  }
  if (bytes.subarray(0, 2).equals(GZIP_MAGIC)) {
    try {
      return gunzipSync(bytes);
    } catch (error) {
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
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    throw describeFsError(error, file);
  }
  const { entries, contents } = readTarEntries(decompress(bytes, file), file);
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
