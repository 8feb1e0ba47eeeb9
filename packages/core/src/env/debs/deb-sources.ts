import { createHash } from 'node:crypto';
import { closeSync, copyFileSync, openSync, readFileSync, statSync, writeSync } from 'node:fs';
import { posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LockedPackage } from '../build-env-lock-types';
import { UserError } from '../../errors';

/**
 * Where a locked .deb can come from besides apt, and how its lasting URL is found: kpcyrd's
 * repro-env asks snapshot.debian.org's `mr/file/<sha1>/info` for the first archive snapshot that
 * had the file. reprokit does the same at lock time; when snapshot cannot be asked (this machine
 * cannot resolve it), it records snapshot's content-addressed `file/<sha1>` URL instead, which
 * needs nothing but the file's sha1 and stays valid as long as snapshot does.
 */
export const SNAPSHOT_ORIGIN = 'https://snapshot.debian.org';

/** The snapshot service to ask and fetch from: a mirror of snapshot's URL layout, or snapshot itself. */
export function snapshotBase(option?: string): string {
  const base = (option ?? process.env.REPROKIT_SNAPSHOT_URL ?? SNAPSHOT_ORIGIN).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+(\/\S*)?$/.test(base)) throw new UserError(`snapshot URL ${JSON.stringify(base)}: give http(s)://host[/path]`);
  return base;
}

/** A recorded snapshot URL, fetched from `base` instead of snapshot.debian.org (same paths). */
export function snapshotUrlAt(recorded: string, base: string): string {
  return base + recorded.slice(SNAPSHOT_ORIGIN.length);
}

export function sha1Of(path: string): string {
  return createHash('sha1').update(readFileSync(path)).digest('hex');
}

/** What snapshot's info API may answer; anything else is not trusted into a lock. */
interface SnapshotFileInfo {
  archive_name: string;
  first_seen: string;
  path: string;
  name: string;
}

const INFO_LIMIT = 256 << 10;
const LOOKUP_TIMEOUT_MS = 10_000;

/**
 * The snapshot URL of one file (by its sha1): the archive URL of the first snapshot that has it
 * under the lock's pool path, preferring Debian's main and security archives. Undefined when the
 * service answers that it does not know the file; an unreachable service is an error (the caller
 * stops asking). Answers are bounded and checked field by field: they end up in a committed lock.
 */
export async function lookupSnapshotUrl(p: LockedPackage & { sha1: string }, base: string): Promise<string | undefined> {
  const url = `${base}/mr/file/${p.sha1}/info`;
  const response = await fetch(url, { signal: AbortSignal.timeout(LOOKUP_TIMEOUT_MS), redirect: 'follow' });
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  const text = await readBounded(response, INFO_LIMIT, url);
  let results: unknown;
  try {
    results = (JSON.parse(text) as { result?: unknown }).result;
  } catch {
    throw new Error(`${url}: not JSON`);
  }
  if (!Array.isArray(results)) return undefined;
  const wantDir = '/' + posix.dirname(p.filename);
  const wantName = posix.basename(p.filename);
  const usable = (results as Partial<SnapshotFileInfo>[]).filter(
    (r): r is SnapshotFileInfo =>
      typeof r.archive_name === 'string' && /^[a-z0-9-]+$/.test(r.archive_name) &&
      typeof r.first_seen === 'string' && /^[0-9]{8}T[0-9]{6}Z$/.test(r.first_seen) &&
      r.path === wantDir && r.name === wantName,
  );
  const rank = (r: SnapshotFileInfo) => (r.archive_name === 'debian' ? 0 : r.archive_name === 'debian-security' ? 1 : 2);
  const best = usable.sort((a, b) => rank(a) - rank(b) || (a.first_seen < b.first_seen ? -1 : a.first_seen > b.first_seen ? 1 : 0))[0];
  return best && `${SNAPSHOT_ORIGIN}/archive/${best.archive_name}/${best.first_seen}${best.path}/${best.name}`;
}

async function readBounded(response: Response, limit: number, url: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) throw new Error(`${url}: answer larger than ${limit} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The sha1 and lasting URL of each package, from its verified .deb. Asks the snapshot service
 * once per file until it fails to answer once; from then on (and for files it does not know)
 * records the content-addressed URL, so a lock is made the same way whether snapshot is reachable
 * or not, only less precisely.
 */
export async function recordSources(packages: LockedPackage[], debs: Map<string, string>, options: { snapshot?: string; log?: (line: string) => void } = {}): Promise<LockedPackage[]> {
  const log = options.log ?? (() => {});
  const base = snapshotBase(options.snapshot);
  let reachable = true;
  let found = 0;
  const out: LockedPackage[] = [];
  for (const p of packages) {
    const sha1 = p.sha1 ?? sha1Of(debs.get(p.name)!);
    let snapshot = p.snapshot;
    if (!snapshot?.includes('/archive/') && reachable) {
      try {
        snapshot = (await lookupSnapshotUrl({ ...p, sha1 }, base)) ?? snapshot;
        if (snapshot?.includes('/archive/')) found++;
      } catch (error) {
        reachable = false;
        log(`snapshot service ${base} cannot be asked (${(error as Error).cause ? String((error as Error & { cause: unknown }).cause) : (error as Error).message}): recording content-addressed file/<sha1> URLs`);
      }
    }
    out.push({ ...p, sha1, snapshot: snapshot ?? `${SNAPSHOT_ORIGIN}/file/${sha1}` });
  }
  if (found) log(`${found} of ${packages.length} packages found in snapshot archives`);
  return out;
}

/**
 * Downloads one file into `dest`, refusing more bytes than `size` (a hostile or broken server
 * cannot fill the disk). `file://` URLs are read from disk. Returns false when the source does not
 * have it (404, missing file, unreachable host): the caller tries the next source.
 */
export async function downloadTo(url: string, dest: string, size: number): Promise<boolean> {
  if (url.startsWith('file://')) {
    const path = fileURLToPath(url);
    let stat;
    try {
      stat = statSync(path);
    } catch {
      return false;
    }
    if (!stat.isFile()) return false;
    if (stat.size > size) throw new UserError(`${url}: ${stat.size} bytes where the lock says ${size}`);
    copyFileSync(path, dest);
    return true;
  }
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(300_000), redirect: 'follow' });
  } catch {
    return false;
  }
  if (!response.ok) {
    await response.body?.cancel();
    return false;
  }
  const fd = openSync(dest, 'w', 0o644);
  try {
    let written = 0;
    for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
      written += chunk.length;
      if (written > size) throw new UserError(`${url}: more than the ${size} bytes the lock says`);
      writeSync(fd, chunk);
    }
  } finally {
    closeSync(fd);
  }
  return true;
}

/** A user-listed mirror, checked up front: a local directory or an HTTP(S) server. */
export function checkMirror(mirror: string): string {
  if (!/^(file:\/\/\/|https?:\/\/[^/\s]+)/.test(mirror)) throw new UserError(`--mirror ${JSON.stringify(mirror)}: give file:///path or http(s)://host[/path]`);
  return mirror;
}

/** Where a user-listed mirror may have a package: Debian's archive layout, or a flat directory (as `env fetch` writes). */
export function mirrorUrls(mirror: string, p: LockedPackage): string[] {
  const base = mirror.replace(/\/+$/, '');
  return [`${base}/${p.filename}`, `${base}/${posix.basename(p.filename)}`];
}
