import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { basename, join } from 'node:path';
import type { LockedPackage } from './build-env-lock-types';
import { UserError } from './errors';
import { hashFile } from './hash';

/** Where downloaded .debs are kept between builds, keyed by their pool file name. */
export function defaultDebCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'reprokit', 'debs');
}

/** The name `apt-get download` gives a package's file (an epoch's colon is escaped). */
function aptDownloadName(p: LockedPackage): string {
  return `${p.name}_${p.version.replace(/:/g, '%3a')}_${p.architecture}.deb`;
}

async function sha256Of(path: string): Promise<string> {
  return (await hashFile(path, ['sha256'])).digests.sha256!;
}

/**
 * Makes sure every locked .deb is in the cache with exactly the locked sha256, downloading the
 * missing ones with `apt-get download`. Nothing is returned, and nothing can be built, until every
 * file has been checked: a lock with one wrong hash is refused before any work.
 */
export async function fetchLockedDebs(packages: LockedPackage[], lockPath: string, cacheDir = defaultDebCacheDir(), log: (line: string) => void = () => {}): Promise<Map<string, string>> {
  mkdirSync(cacheDir, { recursive: true });
  const paths = new Map<string, string>();
  const missing: LockedPackage[] = [];
  for (const p of packages) {
    const path = join(cacheDir, basename(p.filename));
    paths.set(p.name, path);
    if (!existsSync(path) || (await sha256Of(path)) !== p.sha256) missing.push(p);
  }
  if (missing.length) {
    log(`downloading ${missing.length} of ${packages.length} packages`);
    const staging = mkdtempSync(join(cacheDir, '.download-'));
    try {
      const result = spawnSync('apt-get', ['download', '-q', ...missing.map((p) => `${p.name}=${p.version}`)], {
        cwd: staging,
        encoding: 'utf8',
        env: { ...process.env, LC_ALL: 'C' },
      });
      if (result.error || result.status !== 0) {
        const why = result.error?.message ?? result.stderr.split('\n').find((line) => line.startsWith('E:')) ?? `exit ${result.status}`;
        throw new UserError(`${lockPath}: cannot download locked packages (${why}): the archive may no longer carry these versions; re-lock with \`reprokit env lock\``);
      }
      const downloaded = new Set(readdirSync(staging));
      for (const p of missing) {
        const name = aptDownloadName(p);
        if (!downloaded.has(name)) throw new UserError(`${lockPath}: apt-get download produced no ${name}`);
        const actual = await sha256Of(join(staging, name));
        if (actual !== p.sha256) {
          throw new UserError(`${lockPath}: ${p.name} ${p.version}: sha256 is ${actual} but the lock says ${p.sha256}: refusing to build`);
        }
        renameSync(join(staging, name), paths.get(p.name)!);
      }
    } finally {
      rmSync(staging, { recursive: true, force: true });
    }
  }
  return paths;
}
