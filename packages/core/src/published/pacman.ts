import { UserError } from '../errors';
import { decompressBounded, isGzip, isZstd } from '../diff/compressed';
import { tarEntries } from '../archive/tar-reader';
import { fetchBuffer, type FetchOptions } from './http';

/** What a pacman repository database says of one package (`<name>-<version>/desc`). */
export interface PacmanDbEntry {
  filename: string;
  name?: string;
  version?: string;
  sha256?: string;
  csize?: number;
}

const MAX_DB_BYTES = 64 << 20;

/** pacman.conf's `Server = …/$repo/os/$arch`, with the architecture taken from the package's file name. */
export function pacmanServer(server: string, repo: string, filename: string): string {
  const arch = /-([^-]+)\.pkg\.tar(\.[a-z0-9]+)?$/.exec(filename)?.[1] ?? 'x86_64';
  return server.replaceAll('$repo', repo).replaceAll('$arch', arch).replace(/\/+$/, '');
}

/** A `desc` file: `%KEY%` lines each followed by values up to an empty line. */
export function parseDesc(text: string): Record<string, string[]> {
  const fields: Record<string, string[]> = {};
  let key: string | undefined;
  for (const line of text.split('\n')) {
    const header = /^%([A-Z0-9]+)%$/.exec(line);
    if (header) {
      key = header[1];
      fields[key] = [];
    } else if (line === '') key = undefined;
    else if (key) fields[key].push(line);
  }
  return fields;
}

/** Reads `<repo>.db` (a tar, gzip or zstd compressed, as repo-add writes it) and finds the package by file name. */
export async function findInPacmanRepository(server: string, repo: string, filename: string, fetch: Omit<FetchOptions, 'maxBytes'>): Promise<PacmanDbEntry | undefined> {
  const url = `${server}/${encodeURIComponent(repo)}.db`;
  const { body } = await fetchBuffer(url, { ...fetch, maxBytes: MAX_DB_BYTES });
  const tar = isGzip(body) ? decompressBounded(body, 'gzip', MAX_DB_BYTES * 8, url) : isZstd(body) ? decompressBounded(body, 'zstd', MAX_DB_BYTES * 8, url) : body;
  if (tar.length === 0) throw new UserError(`${url}: empty repository database`);
  for (const entry of tarEntries(tar, url)) {
    if (entry.type !== 'file' || !entry.path.endsWith('/desc')) continue;
    const desc = parseDesc(entry.content().toString('utf8'));
    if (desc.FILENAME?.[0] !== filename) continue;
    const csize = desc.CSIZE?.[0];
    if (csize !== undefined && !/^[0-9]+$/.test(csize)) throw new UserError(`${url}: ${entry.path}: %CSIZE% ${JSON.stringify(csize)} is not a number`);
    const sha256 = desc.SHA256SUM?.[0];
    if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) throw new UserError(`${url}: ${entry.path}: %SHA256SUM% is not 64 hex digits`);
    return { filename, name: desc.NAME?.[0], version: desc.VERSION?.[0], sha256, csize: csize === undefined ? undefined : Number(csize) };
  }
  return undefined;
}
