import { createHash } from 'node:crypto';
import { UserError } from '../errors';

/** package-lock.json is read whole: real ones reach tens of MiB, nothing legitimate nears this. */
export const MAX_PACKAGE_LOCK_BYTES = 128 << 20;
/** Entries in one lock (a large monorepo has a few ten thousand). */
const MAX_LOCK_ENTRIES = 500_000;

/** A package a lockfile takes from a registry (or any URL): what npm ci downloads. */
export interface LockedTarball {
  /** Where it is installed, e.g. `node_modules/ms`. */
  path: string;
  /** The lock's field naming it, for messages: `packages["node_modules/ms"]`. */
  field: string;
  resolved?: string;
  integrity: string;
}

export interface NpmLock {
  lockfileVersion: number;
  tarballs: LockedTarball[];
  /** sha256 of the lockfile's bytes. */
  sha256: string;
}

/**
 * The tarballs a package-lock.json (lockfileVersion 1, 2 or 3) makes npm ci download, each with the
 * `integrity` npm checks it against. Refused: a lock over MAX_PACKAGE_LOCK_BYTES, an install path
 * leaving node_modules' tree (`..`, absolute), a registry tarball with no integrity (npm would take
 * whatever bytes come), git and remote-URL dependencies without one. Workspace links, bundled
 * dependencies (inside their parent's tarball) and `file:` paths are not downloaded.
 */
export function readPackageLock(bytes: Buffer, where: string): NpmLock {
  if (bytes.length > MAX_PACKAGE_LOCK_BYTES) throw new UserError(`${where}: over ${MAX_PACKAGE_LOCK_BYTES >> 20} MiB, more than any lockfile reprokit reads`);
  let lock: unknown;
  try {
    lock = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw new UserError(`${where}: not JSON (${(error as Error).message})`);
  }
  if (!isObject(lock)) throw new UserError(`${where}: not a JSON object`);
  const version = lock.lockfileVersion;
  if (version !== 1 && version !== 2 && version !== 3) throw new UserError(`${where}: lockfileVersion: ${JSON.stringify(version)}, expected 1, 2 or 3 (npm 5 and later write one of these)`);
  const tarballs: LockedTarball[] = [];
  const add = (path: string, field: string, entry: Record<string, unknown>) => {
    if (tarballs.length >= MAX_LOCK_ENTRIES) throw new UserError(`${where}: more than ${MAX_LOCK_ENTRIES} packages`);
    const tarball = lockedTarball(path, field, entry, where);
    if (tarball) tarballs.push(tarball);
  };
  if (version >= 2) {
    const packages = lock.packages;
    if (!isObject(packages)) throw new UserError(`${where}: packages: missing or not an object (lockfileVersion ${version} lists every package there)`);
    for (const [path, entry] of Object.entries(packages)) {
      if (path === '') continue;
      if (!isObject(entry)) throw new UserError(`${where}: packages[${JSON.stringify(path)}]: not an object`);
      add(path, `packages[${JSON.stringify(path)}]`, entry);
    }
  } else {
    // lockfileVersion 1 nests dependencies in dependencies: walked with a stack, so a deep lock cannot overflow ours.
    const stack: [string, string, unknown][] = [['', 'dependencies', lock.dependencies ?? {}]];
    while (stack.length > 0) {
      const [parent, field, dependencies] = stack.pop()!;
      if (!isObject(dependencies)) throw new UserError(`${where}: ${field}: not an object`);
      for (const [name, entry] of Object.entries(dependencies)) {
        const path = `${parent}node_modules/${name}`;
        const at = `${field}[${JSON.stringify(name)}]`;
        if (!isObject(entry)) throw new UserError(`${where}: ${at}: not an object`);
        add(path, at, entry);
        if (entry.dependencies !== undefined) stack.push([`${path}/`, `${at}.dependencies`, entry.dependencies]);
      }
    }
  }
  return { lockfileVersion: version, tarballs, sha256: createHash('sha256').update(bytes).digest('hex') };
}

function lockedTarball(path: string, field: string, entry: Record<string, unknown>, where: string): LockedTarball | undefined {
  const parts = path.split('/');
  if (path.startsWith('/') || path.includes('\\') || parts.some((part) => part === '..' || part === '.' || part === '')) throw new UserError(`${where}: ${field}: an install path that leaves the project's directory: refusing the lock`);
  // A workspace's own folder (`packages/a`) and links to it are in the tree already; bundled packages come inside their parent.
  if (!parts.includes('node_modules') || entry.link === true || entry.inBundle === true || entry.bundled === true) return undefined;
  const resolved = typeof entry.resolved === 'string' ? entry.resolved : typeof entry.version === 'string' && /^(https?|git\+|git:|github:)/.test(entry.version) ? entry.version : undefined;
  if (resolved !== undefined && (resolved.startsWith('file:') || !/^[a-z][a-z0-9+.-]*:/i.test(resolved))) return undefined;
  if (resolved !== undefined && !/^https?:\/\//i.test(resolved)) throw new UserError(`${where}: ${field}.resolved: ${resolved}: a git dependency has no integrity npm can check offline: publish it to a registry, or vendor it as a file: dependency`);
  if (typeof entry.integrity !== 'string' || !/^sha(1|256|384|512)-/.test(entry.integrity)) {
    if (resolved === undefined && typeof entry.version !== 'string') return undefined;
    throw new UserError(`${where}: ${field}.integrity: missing for ${resolved ?? 'a registry package'}: npm could not check what it downloads; run npm install on your machine against a registry that publishes integrity (npm's does) and commit the new package-lock.json`);
  }
  return { path, field, resolved, integrity: entry.integrity };
}

/** The fetch cache key of a lock: its bytes' sha256, and the registry npm is configured with (it decides where unnamed tarballs come from). */
export function npmFetchKey(lock: NpmLock, registry: string): string {
  return `${lock.sha256}-${createHash('sha256').update(registry).digest('hex').slice(0, 16)}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
