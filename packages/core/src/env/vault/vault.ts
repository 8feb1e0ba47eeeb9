import { createHash } from 'node:crypto';
import { openAsBlob } from 'node:fs';
import { basename, join } from 'node:path';
import type { BuildEnvLock, LockedPackage } from '../build-env-lock-types';
import { compareStrings } from '../../manifest/manifest';
import { VaultRegistry, VaultUnreachable } from './vault-registry';

/**
 * A package vault: a lock's .debs kept in an OCI registry, so that an environment still builds after
 * Debian's archive, snapshot.debian.org and apt's index have all moved on. Each .deb is a blob
 * (addressed by the sha256 the lock records, so any lock sharing a package finds it), listed by an
 * OCI artifact manifest of its own artifactType that keeps the blobs from the registry's garbage
 * collection and says which lock they are for. Every vault of a registry shares one repository.
 */
export const VAULT_REPOSITORY = 'reprokit/debs';
export const VAULT_ARTIFACT_TYPE = 'application/vnd.reprokit.deb-vault.v1';
/** IANA's media type of a Debian binary package. */
export const DEB_MEDIA_TYPE = 'application/vnd.debian.binary-package';
export const OCI_MANIFEST_TYPE = 'application/vnd.oci.image.manifest.v1+json';
/** The OCI 1.1 empty config `{}` an artifact without a config of its own points at. */
const EMPTY_CONFIG = Buffer.from('{}');
const EMPTY_DIGEST = 'sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a';

/** Where a vault entry (`host[:port][/path]`, as imageRegistries) keeps its .debs. */
export function vaultRegistry(entry: string, access: 'pull' | 'pull,push' = 'pull'): VaultRegistry {
  const [host, ...path] = entry.split('/');
  return new VaultRegistry(host, [...path, VAULT_REPOSITORY].join('/'), access);
}

/**
 * The tag a lock's vault manifest has: the lock's name and a hash of what decides the .debs (each
 * file's sha256 and pool name, as SHA256SUMS lists them), so it is found from the lock alone and
 * does not change when only where the files can be fetched from is re-recorded.
 */
export function vaultTag(lock: Pick<BuildEnvLock, 'name' | 'packages'>): string {
  const sums = [...lock.packages]
    .sort((a, b) => compareStrings(a.filename, b.filename))
    .map((p) => `${p.sha256}  ${p.filename}\n`)
    .join('');
  return `${lock.name.slice(0, 90)}-${createHash('sha256').update(sums).digest('hex').slice(0, 32)}`;
}

/** The vault manifest of a lock: the same bytes on every machine, so the same digest. */
export function vaultManifest(lock: Pick<BuildEnvLock, 'name' | 'packages'>): Buffer {
  const manifest = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_TYPE,
    artifactType: VAULT_ARTIFACT_TYPE,
    config: { mediaType: 'application/vnd.oci.empty.v1+json', digest: EMPTY_DIGEST, size: 2, data: 'e30=' },
    layers: [...lock.packages]
      .sort((a, b) => compareStrings(a.filename, b.filename))
      .map((p) => ({
        mediaType: DEB_MEDIA_TYPE,
        digest: `sha256:${p.sha256}`,
        size: p.size,
        // The title is the file name `oras pull` writes: a flat directory as `env fetch --to` makes.
        annotations: { 'org.opencontainers.image.title': basename(p.filename), 'org.reprokit.deb.package': `${p.name}=${p.version}`, 'org.reprokit.deb.filename': p.filename },
      })),
    annotations: { 'org.reprokit.env.name': lock.name },
  };
  return Buffer.from(JSON.stringify(manifest, null, 2) + '\n');
}

export interface VaultPushResult {
  /** `entry/reprokit/debs:<tag>@sha256:<manifest digest>` */
  ref: string;
  pushed: number;
  present: number;
}

/** Stores the lock's verified .debs (`debs`: package name → file in the cache) and its manifest in one vault. */
export async function pushVault(lock: BuildEnvLock, debs: Map<string, string>, entry: string, log: (line: string) => void = () => {}): Promise<VaultPushResult> {
  const registry = vaultRegistry(entry, 'pull,push');
  const counts = { pushed: 0, present: 0 };
  await registry.pushBlob(EMPTY_DIGEST, async () => new Blob([EMPTY_CONFIG]));
  log(`${entry}/${VAULT_REPOSITORY}: storing ${lock.packages.length} packages`);
  for (const p of lock.packages) counts[await registry.pushBlob(`sha256:${p.sha256}`, () => openAsBlob(debs.get(p.name)!))]++;
  const manifest = vaultManifest(lock);
  const digest = `sha256:${createHash('sha256').update(manifest).digest('hex')}`;
  const tag = vaultTag(lock);
  const stored = await registry.putManifest(tag, manifest, OCI_MANIFEST_TYPE);
  if (stored && stored !== digest) throw new VaultUnreachable(`${entry}/${VAULT_REPOSITORY}:${tag}: the registry stored the manifest as ${stored}, not ${digest}`);
  return { ref: `${entry}/${VAULT_REPOSITORY}:${tag}@${digest}`, ...counts };
}

/**
 * The packages the vaults can give, fetched into `staging` vault by vault (in the order listed),
 * each handed to `accept` with the sha256 of the bytes that came; `accept` checks it against the
 * lock and stops everything on other bytes, as for any source. A vault that cannot be reached is
 * named and skipped. Returns the packages no vault had.
 */
export async function fromVaults(
  missing: LockedPackage[],
  vaults: string[],
  staging: string,
  log: (line: string) => void,
  accept: (p: LockedPackage, file: string, sha256: string, from: string) => void,
): Promise<LockedPackage[]> {
  let left = missing;
  for (const entry of vaults) {
    if (!left.length) break;
    const registry = vaultRegistry(entry);
    const got = new Set<LockedPackage>();
    try {
      for (const p of left) {
        const file = join(staging, basename(p.filename));
        const actual = await registry.blobToFile(`sha256:${p.sha256}`, file, p.size);
        if (actual === undefined) continue;
        accept(p, file, actual, `${registry.base}/blobs/sha256:${p.sha256}`);
        got.add(p);
      }
    } catch (error) {
      if (!(error instanceof VaultUnreachable)) throw error;
      log(`vault ${entry} cannot be used (${error.message}): trying the next source`);
    }
    if (got.size) log(`${got.size} of ${left.length} packages from vault ${entry}`);
    left = left.filter((p) => !got.has(p));
  }
  return left;
}
