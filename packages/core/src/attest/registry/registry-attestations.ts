import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError } from '../../errors';
import { checkEntry } from '../../env/registry/image-registries';
import type { Artifact, ReproManifest } from '../../manifest/manifest';
import { parseImageReference, RegistryClient, type ImageReference } from '../../published/registry';
import { MAX_ENVELOPE } from '../dsse';
import { fetchEnvelope, fileSubject, listAttestations, OCI_MANIFEST, pushAttestation, type PushedAttestation, type Subject } from './referrers';
import { VaultRegistry } from '../../env/vault/vault-registry';

/**
 * Per registry request while verifying: a registry that does not answer is reported soon. The
 * registry is named on the command line (configuration, not a manifest's URL): a private address is allowed.
 */
const READ_TIMEOUT_MS = 10_000;

/**
 * Where a project's attestations live: `<REGISTRY>/<project>`, REGISTRY being `host:port` or
 * `host:port/path` (as imageRegistries entries). A project name that is no repository name
 * (`@scope/name`, capitals) is lowered and its other characters become `-`; the signed statements
 * name the project exactly, so two projects sharing a repository are still told apart.
 */
export function attestationRepository(registry: string, project: string, option: string): ImageReference {
  checkEntry(registry, option);
  const name = project.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '') || 'project';
  return parseImageReference(`${registry}/${name}`);
}

/**
 * The subject an attestation about `artifact` hangs from: an image's manifest (by the digest the
 * repro-manifest records; its size and media type from the build's OCI layout when it holds that
 * manifest, else size 0), anything else the small manifest that stands for the file's sha256.
 */
export async function artifactSubject(
  kind: Artifact['kind'],
  sha256: string,
  image: { manifestDigest: string; layoutDir?: string } | undefined,
): Promise<Subject> {
  if (kind !== 'oci' || !image) return fileSubject(sha256);
  const digest = image.manifestDigest;
  const blob = image.layoutDir && join(image.layoutDir, 'blobs', 'sha256', digest.slice('sha256:'.length));
  if (blob && existsSync(blob) && statSync(blob).isFile() && statSync(blob).size <= 4 << 20) {
    const bytes = readFileSync(blob);
    let mediaType = OCI_MANIFEST;
    try {
      mediaType = String(JSON.parse(bytes.toString('utf8')).mediaType ?? OCI_MANIFEST);
    } catch {
      // Not JSON: the descriptor keeps the OCI manifest type; the digest is what finds it.
    }
    return { descriptor: { mediaType, digest, size: bytes.length } };
  }
  // A rebuild that made another image has no copy of the recorded manifest: size 0 then. Registries
  // find referrers by the subject's digest, and one without the referrers API (distribution 2.8)
  // reads no subject at all.
  return { descriptor: { mediaType: OCI_MANIFEST, digest, size: 0 } };
}

export interface AttestationToPush {
  /** The file the signed envelope was written to. */
  file: string;
  predicateType: string;
  subject: Subject;
}

/** Pushes each envelope as a referrer of its subject to `<registry>/<project>`; one line per push for the log. */
export async function pushAttestations(registry: string, project: string, attestations: AttestationToPush[]): Promise<(PushedAttestation & { file: string })[]> {
  const repository = attestationRepository(registry, project, '--push-attestations');
  const writer = new VaultRegistry(repository.registry, repository.repository, 'pull,push');
  const reader = new RegistryClient(repository, { timeoutMs: READ_TIMEOUT_MS, allowPrivateNetwork: true });
  const pushed: (PushedAttestation & { file: string })[] = [];
  for (const attestation of attestations) {
    const envelope = readFileSync(attestation.file);
    pushed.push({ ...(await pushAttestation(writer, reader, attestation.subject, envelope, attestation.predicateType)), file: attestation.file });
  }
  return pushed;
}

export interface FetchedAttestation {
  /** `registry/repository@sha256:…` of the attestation manifest: what refusals name. */
  label: string;
  text: string;
}

/**
 * Every attestation the registry lists for the manifest's artifacts, by subject (each artifact's
 * subject as the rebuilders computed it), each referrer read once. A referrer that cannot be read
 * (its manifest names another subject, its envelope is too large or not what the digest says) is
 * one line in `refused`; a registry that cannot be reached at all is an error.
 */
export async function fetchAttestations(registry: string, manifest: ReproManifest, manifestDir: string): Promise<{ found: FetchedAttestation[]; refused: string[]; sources: string[] }> {
  const repository = attestationRepository(registry, manifest.project, '--attestations-from');
  const reader = new RegistryClient(repository, { timeoutMs: READ_TIMEOUT_MS, allowPrivateNetwork: true });
  const found: FetchedAttestation[] = [];
  const refused: string[] = [];
  const sources: string[] = [];
  const seen = new Set<string>();
  for (const artifact of manifest.artifacts) {
    const subject = await artifactSubject(artifact.kind, artifact.sha256, artifact.image && { manifestDigest: artifact.image.manifestDigest, layoutDir: join(manifestDir, artifact.image.layout) });
    const digest = subject.descriptor.digest;
    let listed;
    try {
      listed = await listAttestations(reader, digest);
    } catch (error) {
      throw new UserError(`--attestations-from ${registry}: ${(error as Error).message.split('\n')[0]}`);
    }
    sources.push(`${artifact.path}: ${listed.descriptors.length} from ${repository.registry}/${repository.repository} (subject ${digest}, ${listed.via})`);
    for (const descriptor of listed.descriptors) {
      if (seen.has(descriptor.digest)) continue;
      seen.add(descriptor.digest);
      const label = `${repository.registry}/${repository.repository}@${descriptor.digest}`;
      try {
        found.push({ label, text: (await fetchEnvelope(reader, descriptor, digest, MAX_ENVELOPE)).toString('utf8') });
      } catch (error) {
        refused.push((error as Error).message.split('\n')[0]);
      }
    }
  }
  return { found, refused, sources };
}
