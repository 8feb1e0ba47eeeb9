import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import type { LockedPackage } from '../build-env-lock-types';
import { poolUrl } from './apt-config';
import { downloadTo, mirrorUrls, snapshotBase, snapshotUrlAt } from './deb-sources';
import { debVaults } from '../registry/image-registries';
import { fromVaults } from '../vault/vault';
import { UserError } from '../../errors';
import { hashFile } from '../../hash';
import { releaseOnSignal, removeOnSignal } from '../../net/temp-files';

/** Where downloaded .debs are kept between builds, keyed by their pool file name. */
export function defaultDebCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'reprokit', 'debs');
}

/** Where to look for locked .debs besides the cache, in the order they are tried after it. */
export interface DebSources {
  /** Directories of .debs by pool file name (`env fetch --to`, `env build --debs`): tried with the cache. */
  debsDirs?: string[];
  /** Package vaults (`host[:port][/path]`, `env vault push`), tried before apt; default: debVaults(). */
  vaults?: string[];
  /** The snapshot service the recorded snapshot URLs are fetched from (default snapshot.debian.org). */
  snapshot?: string;
  /** Mirrors the user lists, tried last: `file:///dir` or `http(s)://host/path`, Debian's layout or flat. */
  mirrors?: string[];
}

/** The name `apt-get download` gives a package's file (an epoch's colon is escaped). */
function aptDownloadName(p: LockedPackage): string {
  return `${p.name}_${p.version.replace(/:/g, '%3a')}_${p.architecture}.deb`;
}

async function sha256Of(path: string): Promise<string> {
  return (await hashFile(path, ['sha256'])).digests.sha256!;
}

/** A file from some source that is not the locked one: the build stops before anything is unpacked. */
function wrongBytes(lockPath: string, p: LockedPackage, from: string, actual: string): UserError {
  return new UserError(`${lockPath}: ${p.name} ${p.version}: ${from} has sha256 ${actual} but the lock says ${p.sha256}: refusing to build`);
}

/**
 * The locked versions apt's index still has: one `apt-cache show` for all of them, whose stanzas
 * name the versions found (it exits non-zero when any is missing, and still prints the others).
 */
export function aptOffers(packages: LockedPackage[]): LockedPackage[] {
  const shown = spawnSync('apt-cache', ['show', ...packages.map((p) => `${p.name}=${p.version}`)], { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, maxBuffer: 256 << 20 });
  if (shown.error) return [];
  const offered = new Set<string>();
  for (const stanza of shown.stdout.split(/\n\n+/)) {
    const name = /^Package: (.*)$/m.exec(stanza)?.[1];
    const version = /^Version: (.*)$/m.exec(stanza)?.[1];
    if (name && version) offered.add(`${name}=${version}`);
  }
  return packages.filter((p) => offered.has(`${p.name}=${p.version}`));
}

/**
 * Makes sure every locked .deb is in the cache with exactly the locked sha256. Tried in order: the
 * cache and the `debsDirs`, the package vaults, the archive of the suite the lock records, apt's
 * mirrors (`apt-get download` of the versions the host's index still has), each package's recorded
 * snapshot URL, then the user's mirrors. Every file is checked
 * against the lock's sha256 before it enters the cache; a source that serves other bytes stops
 * everything (a mirror that lies is not skipped quietly). Nothing is returned, and nothing can be
 * built, until every file has been checked.
 */
export async function fetchLockedDebs(
  packages: LockedPackage[],
  lockPath: string,
  cacheDir = defaultDebCacheDir(),
  log: (line: string) => void = () => {},
  sources: DebSources = {},
): Promise<Map<string, string>> {
  mkdirSync(cacheDir, { recursive: true });
  const paths = new Map<string, string>();
  let missing: LockedPackage[] = [];
  for (const p of packages) {
    const path = join(cacheDir, basename(p.filename));
    paths.set(p.name, path);
    if (existsSync(path) && (await sha256Of(path)) === p.sha256) continue;
    let found = false;
    for (const dir of sources.debsDirs ?? []) {
      const candidate = join(dir, basename(p.filename));
      if (!existsSync(candidate)) continue;
      const actual = await sha256Of(candidate);
      if (actual !== p.sha256) throw wrongBytes(lockPath, p, candidate, actual);
      copyFileSync(candidate, `${path}.tmp`);
      renameSync(`${path}.tmp`, path);
      found = true;
      break;
    }
    if (!found) missing.push(p);
  }
  if (!missing.length) return paths;
  const staging = mkdtempSync(join(cacheDir, '.download-'));
  // Half-downloaded .debs go with it on Ctrl-C too (net/temp-files.ts), not only in the finally.
  removeOnSignal(staging);
  try {
    missing = await fromVaults(missing, sources.vaults ?? (await debVaults()), staging, log, (p, file, actual, from) => {
      if (actual !== p.sha256) throw wrongBytes(lockPath, p, from, actual);
      renameSync(file, paths.get(p.name)!);
    });
    missing = await fromSuiteArchives(missing, lockPath, staging, paths, log);
    missing = await fromApt(missing, lockPath, staging, paths, log);
    const snapshot = snapshotBase(sources.snapshot);
    const remote = (p: LockedPackage) => [
      ...(p.snapshot ? [snapshotUrlAt(p.snapshot, snapshot)] : []),
      ...(sources.mirrors ?? []).flatMap((mirror) => mirrorUrls(mirror, p)),
    ];
    if (missing.length) log(`fetching ${missing.length} packages apt does not offer from their snapshot URLs${sources.mirrors?.length ? ' and the mirrors given' : ''}`);
    const unavailable: LockedPackage[] = [];
    for (const p of missing) {
      const temp = join(staging, basename(p.filename));
      let from: string | undefined;
      for (const url of remote(p)) {
        if (await downloadTo(url, temp, p.size)) {
          from = url;
          break;
        }
      }
      if (!from) {
        unavailable.push(p);
        continue;
      }
      const actual = await sha256Of(temp);
      if (actual !== p.sha256) throw wrongBytes(lockPath, p, from, actual);
      renameSync(temp, paths.get(p.name)!);
    }
    if (unavailable.length) {
      const names = unavailable.slice(0, 5).map((p) => `${p.name}=${p.version}`).join(', ') + (unavailable.length > 5 ? `, … (${unavailable.length})` : '');
      throw new UserError(
        `${lockPath}: no source has ${names}: neither their suites' archives nor apt offer these versions any more, and neither their snapshot URLs nor the mirrors given do; ` +
          'give a directory of the .debs (`--debs DIR`, made by `reprokit env fetch`), a mirror (`--mirror URL`), a package vault (`--vault REGISTRY`, filled by `reprokit env vault push`), or re-lock with `reprokit env lock`',
      );
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
    releaseOnSignal(staging);
  }
  return paths;
}

/**
 * Downloads the packages whose lock records a suite from that suite's archive (`<archive>/<pool
 * path>`, as apt would), four at a time; returns those it does not have. A frozen release pocket
 * serves its files for years; a moving suite until it supersedes them.
 */
async function fromSuiteArchives(missing: LockedPackage[], lockPath: string, staging: string, paths: Map<string, string>, log: (line: string) => void): Promise<LockedPackage[]> {
  const located = missing.filter((p) => p.suite);
  if (!located.length) return missing;
  log(`downloading ${located.length} of ${paths.size} packages from their suites' archives (${[...new Set(located.map((p) => p.suite))].join(', ')})`);
  const done = new Set<LockedPackage>();
  const queue = [...located];
  const worker = async () => {
    for (let p = queue.shift(); p; p = queue.shift()) {
      const url = poolUrl(p.suite!, p.filename);
      const temp = join(staging, basename(p.filename));
      if (!(await downloadTo(url, temp, p.size))) continue;
      const actual = await sha256Of(temp);
      if (actual !== p.sha256) throw wrongBytes(lockPath, p, url, actual);
      renameSync(temp, paths.get(p.name)!);
      done.add(p);
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  const left = missing.filter((p) => !done.has(p));
  if (left.length < missing.length && left.some((p) => p.suite)) log(`${left.filter((p) => p.suite).length} packages are no longer in their suites' archives`);
  return left;
}

/** Downloads what apt still offers into the cache; returns the packages it does not offer. */
async function fromApt(missing: LockedPackage[], lockPath: string, staging: string, paths: Map<string, string>, log: (line: string) => void): Promise<LockedPackage[]> {
  const offered = aptOffers(missing);
  if (!offered.length) return missing;
  log(`downloading ${offered.length} of ${paths.size} packages with apt`);
  const result = spawnSync('apt-get', ['download', '-q', ...offered.map((p) => `${p.name}=${p.version}`)], { cwd: staging, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' } });
  if (result.error || result.status !== 0) {
    const why = result.error?.message ?? result.stderr.split('\n').find((line) => line.startsWith('E:')) ?? `exit ${result.status}`;
    log(`apt-get download failed (${why}): trying the other sources`);
    return missing;
  }
  const downloaded = new Set(readdirSync(staging));
  const done = new Set<LockedPackage>();
  for (const p of offered) {
    const name = aptDownloadName(p);
    if (!downloaded.has(name)) continue;
    const actual = await sha256Of(join(staging, name));
    if (actual !== p.sha256) throw wrongBytes(lockPath, p, `apt's ${name}`, actual);
    renameSync(join(staging, name), paths.get(p.name)!);
    done.add(p);
  }
  return missing.filter((p) => !done.has(p));
}
