import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

/**
 * The fetch phase package managers share (cargo's crates, npm's tarballs): what a lockfile names is
 * downloaded once, with network, by the real tool (which checks every file against the lockfile's
 * hash), into a cache keyed by the lockfile; the build then reads that cache with no network. A
 * fresh cache is filled in a temporary directory and renamed to `<cacheRoot>/<key>` with a
 * completion marker only when the fill succeeded, so a failed or interrupted fetch never looks
 * complete; a complete cache with the same key is reused; two builds filling one key at once both
 * succeed (the second rename loses and keeps the first).
 */

/** Marks a filled cache as complete: written just before the rename, after the tool succeeded. */
export const COMPLETE = '.reprokit-fetched';

export interface FetchPhase<P> {
  /** What is fetched, plural, for the log: `crates`, `npm packages`. */
  what: string;
  /** How many of them the lockfile names. */
  count: number;
  /** The cache key: the lockfile's sha256, and the configuration's that decides what is fetched. */
  key: string;
  /** Absolute directory holding one cache per key. */
  cacheRoot: string;
  /** Run only when the cache must be filled, before the "fetching" line (e.g. preparing the builder image). */
  prepare: () => Promise<P>;
  /** How the fill happens, for the log: `cargo fetch --locked, network host`. */
  how: string;
  /** Fills `dir` (empty, writable by any user, as a container's build user needs); throws when the fetch failed. */
  fill: (dir: string, prepared: P) => Promise<void>;
  logPrefix: string;
  log: (line: string) => void;
}

export interface FetchedCache {
  /** The complete cache directory, `<cacheRoot>/<key>`. */
  dir: string;
  key: string;
  reused: boolean;
}

/** The complete cache for the phase's key: reused when there, else filled (see above). */
export async function fetchOnce<P>(phase: FetchPhase<P>): Promise<FetchedCache> {
  const dir = join(phase.cacheRoot, phase.key);
  if (existsSync(join(dir, COMPLETE))) {
    phase.log(`${phase.logPrefix}${phase.what}: ${phase.count} from the cache ${dir}`);
    return { dir, key: phase.key, reused: true };
  }
  const prepared = await phase.prepare();
  mkdirSync(phase.cacheRoot, { recursive: true });
  const temp = `${dir}.tmp-${randomBytes(6).toString('hex')}`;
  mkdirSync(temp);
  // The image's build user writes here, whatever the host user is.
  chmodSync(temp, 0o777);
  phase.log(`${phase.logPrefix}${phase.what}: fetching ${phase.count} (${phase.how})`);
  try {
    await phase.fill(temp, prepared);
  } catch (error) {
    rmSync(temp, { recursive: true, force: true });
    throw error;
  }
  writeFileSync(join(temp, COMPLETE), `${phase.key}\n`);
  try {
    renameSync(temp, dir);
  } catch (error) {
    // Another build filled the same key meanwhile: keep that one.
    rmSync(temp, { recursive: true, force: true });
    if (!existsSync(join(dir, COMPLETE))) throw error;
  }
  return { dir, key: phase.key, reused: false };
}
