import { dirname, resolve } from 'node:path';
import { resolveInside } from '../fs/contained-path';
import type { ReproManifest } from '../manifest/manifest';
import type { VerifyResult } from '../manifest/verify-result';
import { defaultKeepDir, KeepStore } from './keep-store';

/**
 * After a verify in reproduce or checksum: a copy of every artifact that matched its manifest goes
 * to the keep store (by sha256), so that a later MISMATCH has the expected bytes to diff against.
 * An existing copy costs one stat; a store that cannot be written costs only later explanations.
 */
export function keepMatchedArtifacts(result: VerifyResult, options: { keepDir?: string; log?: (line: string) => void } = {}): number {
  const store = new KeepStore(options.keepDir ?? defaultKeepDir(dirname(resolve(result.manifestPath))));
  let kept = 0;
  for (const check of result.checks) {
    if (check.status !== 'match' || !check.actual) continue;
    try {
      if (store.keep(check.file, check.actual.sha256, check.actual.size)) kept++;
    } catch (error) {
      options.log?.(`cannot keep ${check.path} in ${store.dir}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return kept;
}

/**
 * After `checksum --update`: the artifacts just recorded are the expected bytes by definition, so
 * they are kept at once (each copy hashed again while written, so a file changed since is not).
 */
export function keepRecordedArtifacts(manifestPath: string, manifest: ReproManifest, options: { keepDir?: string; log?: (line: string) => void } = {}): number {
  const manifestDir = dirname(resolve(manifestPath));
  const store = new KeepStore(options.keepDir ?? defaultKeepDir(manifestDir));
  let kept = 0;
  for (const artifact of manifest.artifacts) {
    try {
      if (store.keep(resolveInside(manifestDir, artifact.path, `${manifestPath}: ${artifact.name}`), artifact.sha256, artifact.size)) kept++;
    } catch (error) {
      options.log?.(`cannot keep ${artifact.path} in ${store.dir}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  return kept;
}
