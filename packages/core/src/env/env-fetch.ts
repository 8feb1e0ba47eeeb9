import { copyFileSync, mkdirSync, renameSync } from 'node:fs';
import { basename, join } from 'node:path';
import { readBuildEnvLock } from './build-env';
import { fetchLockedDebs, type DebSources } from './debs/deb-cache';
import { writeFileAtomic } from '../manifest/json-file';
import { compareStrings } from '../manifest/manifest';

/**
 * `reprokit env fetch LOCK --to DIR`: the environment's exact .debs, verified against the lock, in
 * one flat directory by pool file name, with a SHA256SUMS file (`sha256sum -c SHA256SUMS` checks
 * it). Archive DIR beside a release and `env build --debs DIR` rebuilds the image from it on a
 * machine whose apt no longer offers the versions and that cannot reach snapshot.debian.org.
 */
export async function fetchEnv(lockPath: string, toDir: string, options: { cacheDir?: string; sources?: DebSources; log?: (line: string) => void } = {}): Promise<{ files: number }> {
  const lock = await readBuildEnvLock(lockPath);
  const debs = await fetchLockedDebs(lock.packages, lockPath, options.cacheDir, options.log, options.sources);
  mkdirSync(toDir, { recursive: true });
  const sums: string[] = [];
  for (const p of [...lock.packages].sort((a, b) => compareStrings(a.filename, b.filename))) {
    const name = basename(p.filename);
    const dest = join(toDir, name);
    copyFileSync(debs.get(p.name)!, `${dest}.tmp`);
    renameSync(`${dest}.tmp`, dest);
    sums.push(`${p.sha256}  ${name}\n`);
  }
  writeFileAtomic(join(toDir, 'SHA256SUMS'), sums.join(''));
  return { files: sums.length };
}
