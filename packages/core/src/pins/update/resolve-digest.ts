import type Docker from 'dockerode';
import { registryOf } from '../../docker/docker';

/** Where a tag was resolved to a digest, for the report. */
export interface ResolvedImage {
  /** `name:tag@sha256:…` */
  pinned: string;
  source: 'docker' | 'registry';
}

const REGISTRY_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

function splitReference(ref: string): { name: string; tag: string } {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  return colon > slash ? { name: ref.slice(0, colon), tag: ref.slice(colon + 1) } : { name: ref, tag: 'latest' };
}

/**
 * The digest of a tag, never guessed: from the local docker daemon (the repository digest it
 * recorded when pulling, else the ID of an image it built or loaded), or from the registry named in
 * the reference (`Docker-Content-Digest` of the tag's manifest). Undefined when neither knows it.
 */
export async function resolveImageDigest(ref: string, docker: Docker | undefined, timeoutMs = 5000): Promise<ResolvedImage | undefined> {
  const { name, tag } = splitReference(ref);
  if (docker) {
    const info = await docker.getImage(`${name}:${tag}`).inspect().catch(() => undefined);
    if (info) {
      const repoDigest = (info.RepoDigests ?? []).find((digest) => digest.startsWith(`${name}@`));
      const digest = repoDigest ? repoDigest.slice(name.length + 1) : info.Id;
      return { pinned: `${name}:${tag}@${digest}`, source: 'docker' };
    }
  }
  const registry = registryOf(name);
  if (!registry) return undefined;
  const scheme = /^(localhost|127\.|\[::1\])/.test(registry) ? 'http' : 'https';
  const path = name.slice(registry.length + 1);
  try {
    const response = await fetch(`${scheme}://${registry}/v2/${path}/manifests/${tag}`, {
      method: 'HEAD',
      headers: { Accept: REGISTRY_ACCEPT },
      signal: AbortSignal.timeout(timeoutMs),
    });
    const digest = response.headers.get('docker-content-digest');
    if (response.ok && digest && /^sha256:[0-9a-f]{64}$/.test(digest)) return { pinned: `${name}:${tag}@${digest}`, source: 'registry' };
  } catch {
    // Unreachable registry: the reference stays as it is and is reported.
  }
  return undefined;
}
