import { spawnSync } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { LockedNpmPackage, LockedPackage } from '../build-env-lock-types';
import { readBuildEnvLock } from '../build-env';
import { poolUrl, suiteArchive } from '../debs/apt-config';
import { aptOffers, defaultDebCacheDir, type DebSources } from '../debs/deb-cache';
import { mirrorUrls, snapshotBase, snapshotUrlAt } from '../debs/deb-sources';
import { debVaults } from '../registry/image-registries';
import { vaultRegistry } from '../vault/vault';
import { VaultUnreachable } from '../vault/vault-registry';
import { UserError } from '../../errors';
import { hashFile, sha512Integrity } from '../../hash';
import { defaultNpmCacheDir, npmRegistry, npmTarballSources } from '../../npm/registry-tarball';

/** One source's answer for one lock: which packages it can serve now. */
export interface SourceCoverage {
  kind: 'cache' | 'debs' | 'vault' | 'suite' | 'apt' | 'snapshot' | 'mirror' | 'npm-cache' | 'npm-registry';
  /** The cache directory, the vault entry, the snapshot base or the mirror URL. */
  where: string;
  /** How many packages were asked about (fewer than the lock's when only a first source is looked for). */
  asked: number;
  /** `name=version` of each package it serves (`name@version` for a lock's npm tarballs). */
  serves: string[];
  /** Why it could not be asked (then `serves` holds what it answered before). */
  unreachable?: string;
}

export interface LockCheck {
  lock: string;
  packages: number;
  sources: SourceCoverage[];
  /** `name=version` of the packages no source serves. */
  unservable: string[];
}

export interface EnvCheckOptions {
  sources?: DebSources;
  cacheDir?: string;
  /** Where verified npm tarballs are kept (reprokit's npm cache by default). */
  npmCacheDir?: string;
  /**
   * Ask each source only about the packages no earlier source serves (what `pins check` needs:
   * whether every package has a source), instead of every source about every package; cached files
   * are then taken by their size, not hashed.
   */
  firstOnly?: boolean;
}

const HEAD_TIMEOUT_MS = 10_000;
const PARALLEL = 8;

/** A source that cannot be asked at all (host not found, refused, 5xx): named once, then skipped. */
class Unreachable extends Error {}

const label = (p: LockedPackage) => `${p.name}=${p.version}`;

/** Whether `url` has the file, by a HEAD request (a file:// URL by a stat): nothing is downloaded. */
async function headHas(url: string, size: number): Promise<boolean> {
  if (url.startsWith('file://')) {
    try {
      const stat = lstatSync(fileURLToPath(url));
      return stat.isFile() && stat.size === size;
    } catch {
      return false;
    }
  }
  let response: Response;
  try {
    response = await fetch(url, { method: 'HEAD', redirect: 'follow', signal: AbortSignal.timeout(HEAD_TIMEOUT_MS) });
  } catch (error) {
    const cause = (error as { cause?: { code?: string; message?: string } }).cause;
    throw new Unreachable(cause?.code === 'ENOTFOUND' || cause?.code === 'EAI_AGAIN' ? 'host not found' : cause?.code === 'ECONNREFUSED' ? 'connection refused' : (cause?.message ?? (error as Error).message));
  }
  await response.body?.cancel();
  if (response.status >= 500 || response.status === 429) throw new Unreachable(`HTTP ${response.status}`);
  if (!response.ok) return false;
  // A file of another size would be refused when fetched: it is not the locked one.
  const length = response.headers.get('content-length');
  return length === null || Number(length) === size;
}

/** `fn` over `items`, PARALLEL at a time; the first Unreachable stops the rest. */
async function eachLimited<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const worker = async () => {
    while (next < items.length && failed === undefined) {
      const item = items[next++];
      try {
        await fn(item);
      } catch (error) {
        failed ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
  if (failed !== undefined) throw failed;
}

/** A source: asked about some packages, it says which it serves (and throws Unreachable when it cannot be asked). */
type Ask = (packages: LockedPackage[], served: Set<LockedPackage>) => Promise<void>;

/**
 * Which packages of each lock every source can serve now, in the order builds try them: the
 * cache (and `--debs` directories), the package vaults, the archive of each package's suite, apt's
 * index, the recorded snapshot URLs and the user's mirrors. Only HEAD requests, stats, hashes of local files and index lookups: nothing
 * is downloaded. Each source is asked once, about the distinct files of all locks; one that
 * cannot be reached is named, and the next source asked.
 */
export async function checkLocks(lockPaths: string[], options: EnvCheckOptions = {}): Promise<LockCheck[]> {
  const sources = options.sources ?? {};
  const cacheDir = options.cacheDir ?? defaultDebCacheDir();
  const vaults = sources.vaults ?? (await debVaults());
  const snapshot = snapshotBase(sources.snapshot);
  const local = (dir: string): Ask => async (packages, served) => {
    for (const p of packages) {
      const path = join(dir, basename(p.filename));
      try {
        const stat = lstatSync(path);
        if (!stat.isFile() || stat.size !== p.size) continue;
      } catch {
        continue;
      }
      // pins check only needs whether some source has each file: a cached file of the locked size
      // counts there (a build hashes it anyway); env check hashes it.
      if (options.firstOnly || (await hashFile(path, ['sha256'])).digests.sha256 === p.sha256) served.add(p);
    }
  };
  const remote = (urls: (p: LockedPackage) => string[]): Ask => async (packages, served) => {
    await eachLimited(packages, async (p) => {
      for (const url of urls(p)) {
        if (await headHas(url, p.size)) {
          served.add(p);
          return;
        }
      }
    });
  };
  const locks = await Promise.all(lockPaths.map(async (path) => {
    const lock = await readBuildEnvLock(path);
    return { path, packages: lock.packages, npm: lock.npm ?? [] };
  }));
  const archives = [...new Set(locks.flatMap((lock) => lock.packages.flatMap((p) => (p.suite ? [suiteArchive(p.suite)] : []))))].sort();
  const plan: { kind: SourceCoverage['kind']; where: string; ask: Ask }[] = [
    { kind: 'cache', where: cacheDir, ask: local(cacheDir) },
    ...(sources.debsDirs ?? []).map((dir) => ({ kind: 'debs' as const, where: dir, ask: local(dir) })),
    ...vaults.map((entry) => ({
      kind: 'vault' as const,
      where: entry,
      ask: (async (packages, served) => {
        const registry = vaultRegistry(entry);
        try {
          await eachLimited(packages, async (p) => {
            if (await registry.hasBlob(`sha256:${p.sha256}`)) served.add(p);
          });
        } catch (error) {
          if (!(error instanceof VaultUnreachable)) throw error;
          throw new Unreachable(error.message);
        }
      }) satisfies Ask,
    })),
    // The archive of the suite each package was locked from (deb.debian.org, or REPROKIT_DEBIAN_MIRROR).
    { kind: 'suite', where: `the suites' archives${archives.length ? ` (${archives.join(', ')})` : ''}`, ask: remote((p) => (p.suite ? [poolUrl(p.suite, p.filename)] : [])) },
    { kind: 'apt', where: "apt's index", ask: async (packages, served) => aptOffers(packages).forEach((p) => served.add(p)) },
    { kind: 'snapshot', where: snapshot, ask: remote((p) => (p.snapshot ? [snapshotUrlAt(p.snapshot, snapshot)] : [])) },
    ...(sources.mirrors ?? []).map((mirror) => ({ kind: 'mirror' as const, where: mirror, ask: remote((p) => mirrorUrls(mirror, p)) })),
  ];
  // Source by source over the packages of all locks at once: a file several locks share (most of
  // rust-builder's are c-builder's) is asked about once, apt's index is one lookup.
  const distinct = new Map<string, LockedPackage>();
  for (const lock of locks) for (const p of lock.packages) if (!distinct.has(keyOf(p))) distinct.set(keyOf(p), p);
  const servedAnywhere = new Set<string>();
  const answers: { asked: Set<string>; served: Set<string>; unreachable?: string }[] = [];
  for (const source of plan) {
    const asked = [...distinct.values()].filter((p) => !options.firstOnly || !servedAnywhere.has(keyOf(p)));
    const served = new Set<LockedPackage>();
    let unreachable: string | undefined;
    if (asked.length) {
      try {
        await source.ask(asked, served);
      } catch (error) {
        if (!(error instanceof Unreachable)) throw error;
        unreachable = error.message;
      }
    }
    const servedKeys = new Set([...served].map(keyOf));
    servedKeys.forEach((key) => servedAnywhere.add(key));
    answers.push({ asked: new Set(asked.map(keyOf)), served: servedKeys, ...(unreachable ? { unreachable } : {}) });
  }
  const checks: LockCheck[] = [];
  for (const lock of locks) {
    const npm = await checkNpmTarballs(lock.npm, options);
    checks.push({
      lock: lock.path,
      packages: lock.packages.length + lock.npm.length,
      sources: [
        ...plan.flatMap((source, i) => {
          const asked = lock.packages.filter((p) => answers[i].asked.has(keyOf(p)));
          if (!asked.length) return [];
          const unreachable = answers[i].unreachable;
          return [{ kind: source.kind, where: source.where, asked: asked.length, serves: asked.filter((p) => answers[i].served.has(keyOf(p))).map(label), ...(unreachable ? { unreachable } : {}) }];
        }),
        ...npm.sources,
      ],
      unservable: [...lock.packages.filter((p) => !servedAnywhere.has(keyOf(p))).map(label), ...npm.unservable],
    });
  }
  return checks;
}

/**
 * A lock's npm tarballs (node-builder's Node and npm), as env build fetches them: reprokit's npm
 * cache (the file of that sha512; hashed unless firstOnly), then each one's recorded URL and the
 * registry's conventional URL, by HEAD.
 */
async function checkNpmTarballs(tarballs: LockedNpmPackage[], options: EnvCheckOptions): Promise<{ sources: SourceCoverage[]; unservable: string[] }> {
  if (!tarballs.length) return { sources: [], unservable: [] };
  const npmLabel = (p: LockedNpmPackage) => `${p.name}@${p.version}`;
  const cacheDir = options.npmCacheDir ?? defaultNpmCacheDir();
  const inCache: LockedNpmPackage[] = [];
  for (const p of tarballs) {
    const { path } = npmTarballSources(p, { cacheDir });
    let size: number;
    try {
      const stat = lstatSync(path);
      if (!stat.isFile()) continue;
      size = stat.size;
    } catch {
      continue;
    }
    if (options.firstOnly ? size === p.size : (await sha512Integrity(path)) === p.integrity) inCache.push(p);
  }
  const asked = tarballs.filter((p) => !options.firstOnly || !inCache.includes(p));
  const fromRegistry: LockedNpmPackage[] = [];
  let unreachable: string | undefined;
  try {
    await eachLimited(asked, async (p) => {
      for (const url of npmTarballSources(p).urls) {
        if (await headHas(url, p.size)) {
          fromRegistry.push(p);
          return;
        }
      }
    });
  } catch (error) {
    if (!(error instanceof Unreachable)) throw error;
    unreachable = error.message;
  }
  const sources: SourceCoverage[] = [{ kind: 'npm-cache', where: cacheDir, asked: tarballs.length, serves: inCache.map(npmLabel) }];
  if (asked.length) sources.push({ kind: 'npm-registry', where: npmRegistry(), asked: asked.length, serves: fromRegistry.map(npmLabel), ...(unreachable ? { unreachable } : {}) });
  return { sources, unservable: tarballs.filter((p) => !inCache.includes(p) && !fromRegistry.includes(p)).map(npmLabel) };
}

/** Two locks' entries are the same file when their pool name and sha256 are. */
const keyOf = (p: LockedPackage) => `${p.filename} ${p.sha256}`;

/** The environment locks of the workspace around `cwd`: every env.lock.json git knows of (tracked or not ignored). */
export function workspaceLocks(cwd = process.cwd()): string[] {
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--', ':(glob)**/env.lock.json'], { cwd, encoding: 'utf8', maxBuffer: 64 << 20 });
  if (listed.error || listed.status !== 0) throw new UserError(`env check: ${resolve(cwd)} is not in a git work tree: name the locks (env check LOCK…)`);
  return [...new Set(listed.stdout.split('\0').filter(Boolean))].sort();
}

/** The report as text: per lock, each source's count, then the packages no source serves. */
export function renderLockChecks(checks: LockCheck[]): string {
  const lines: string[] = [];
  for (const check of checks) {
    lines.push(`${check.lock}: ${check.packages} packages, ${check.unservable.length ? `${check.unservable.length} with no source` : 'every one has a source'}`);
    for (const source of check.sources) {
      const count = `${source.serves.length} of ${source.asked}`.padStart(10);
      const what = source.kind === 'apt' || source.kind === 'suite' ? source.where : `${source.kind} ${source.where}`;
      lines.push(`  ${count}  ${what}${source.unreachable ? ` (cannot be asked: ${source.unreachable})` : ''}`);
    }
    if (check.unservable.length) lines.push(`  no source: ${check.unservable.join(' ')}`);
  }
  return lines.join('\n') + '\n';
}
