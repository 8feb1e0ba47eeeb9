import { compareStrings } from '../../manifest/manifest';
import type { LockedPackage } from '../build-env-lock-types';

/**
 * The packages `apt-cache show NAME=VERSION…` describes, by `name=version`: what a lock records of
 * each (the archive path, size and sha256). The first stanza of a version wins, as apt's own order.
 */
export function describedPackages(aptCacheShow: string): Map<string, LockedPackage> {
  const found = new Map<string, LockedPackage>();
  for (const stanza of aptCacheShow.split(/\n\n+/)) {
    const field = (name: string) => new RegExp(`^${name}: (.*)$`, 'm').exec(stanza)?.[1];
    const name = field('Package');
    const key = `${name}=${field('Version')}`;
    if (!name || found.has(key)) continue;
    found.set(key, {
      name,
      version: field('Version')!,
      architecture: field('Architecture') as LockedPackage['architecture'],
      filename: field('Filename')!,
      size: Number(field('Size')),
      sha256: field('SHA256')!,
    });
  }
  return found;
}

/**
 * Locked packages as committed: sorted by name, keys in schema order; where each can be fetched from
 * (suite, sha1, snapshot URL) only `withSources` (an image's copy of its lock leaves them out).
 */
export function orderedLockedPackages<T extends LockedPackage>(packages: readonly T[], withSources = true): LockedPackage[] {
  return [...packages]
    .sort((a, b) => compareStrings(a.name, b.name))
    .map((p) => ({
      name: p.name,
      version: p.version,
      architecture: p.architecture,
      filename: p.filename,
      size: p.size,
      sha256: p.sha256,
      ...(withSources && p.suite ? { suite: p.suite } : {}),
      ...(withSources && p.sha1 ? { sha1: p.sha1 } : {}),
      ...(withSources && p.snapshot ? { snapshot: p.snapshot } : {}),
    }));
}
