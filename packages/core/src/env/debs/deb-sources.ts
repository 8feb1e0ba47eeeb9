import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, rmSync } from 'node:fs';
import { posix } from 'node:path';
import { RefusedLocationError } from '../../net/address-policy';
import { downloadToFile, fetchBuffer, UnreachableError, type FetchOptions } from '../../net/bounded-fetch';
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
  let text: string;
  try {
    // The snapshot service is configuration (--snapshot, REPROKIT_SNAPSHOT_URL): private addresses allowed.
    text = (await fetchBuffer(url, { maxBytes: INFO_LIMIT, timeoutMs: LOOKUP_TIMEOUT_MS, deadlineMs: LOOKUP_TIMEOUT_MS, retries: 0, allowPrivateNetwork: true })).body.toString('utf8');
  } catch (error) {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  }
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
 * cannot fill the disk), through net/'s bounded client (deadline, minimum rate, nothing left behind
 * on failure or Ctrl-C). `file://` URLs are read from disk. Sources are configuration (--mirror,
 * the snapshot service): private addresses allowed. Returns false when the source does not have it
 * (404, missing file, unreachable host, too slow): the caller tries the next source.
 */
export async function downloadTo(url: string, dest: string, size: number, options: Pick<FetchOptions, 'deadlineMs' | 'minRate' | 'timeoutMs'> = {}): Promise<boolean> {
  let got;
  try {
    got = await downloadToFile(url, dest, { ...options, maxBytes: size, allowPrivateNetwork: true, files: 'any' });
  } catch (error) {
    if (error instanceof UnreachableError || error instanceof RefusedLocationError) return false;
    throw error;
  }
  if (got.truncated) {
    rmSync(dest, { force: true });
    throw new UserError(`${url}: more than the ${size} bytes the lock says`);
  }
  // As the cache's other .debs (downloadToFile writes 0600).
  chmodSync(dest, 0o644);
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
