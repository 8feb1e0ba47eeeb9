import { createHash } from 'node:crypto';
import { UserError } from '../../errors';
import type { VaultRegistry } from '../../env/vault/vault-registry';
import type { RegistryClient } from '../../published/registry';

const sha256Digest = (bytes: Uint8Array) => 'sha256:' + createHash('sha256').update(bytes).digest('hex');

/**
 * Attestations as OCI artifacts (image-spec 1.1 "artifacts guidance", distribution-spec 1.1
 * "referrers"): an image manifest whose `artifactType` says what it holds, whose one layer is the
 * DSSE envelope, and whose `subject` is the manifest it is about. A registry with the referrers API
 * indexes it by subject; one without (distribution 2.8) gets the tag schema: an index tagged
 * `sha256-<subject hex>` that the pusher keeps up to date.
 */

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
/** What cosign and the in-toto tooling call a DSSE envelope: the attestation manifests' artifactType and their layer's media type. */
export const DSSE_MEDIA_TYPE = 'application/vnd.dsse.envelope.v1+json';
/** The annotation that says which in-toto predicate an attestation holds (buildx writes the same key). */
export const PREDICATE_ANNOTATION = 'in-toto.io/predicate-type';
/** The artifactType of the manifest that stands for a file (an ELF, a package) in a registry. */
export const FILE_SUBJECT_TYPE = 'application/vnd.reprokit.file.v1';
/** The annotation of that manifest naming the file's sha256. */
export const FILE_DIGEST_ANNOTATION = 'dev.reprokit.file.sha256';

const EMPTY_BYTES = Buffer.from('{}');
/** OCI's empty descriptor: `{}`, for a config or layer that carries nothing. */
export const EMPTY_DESCRIPTOR = { mediaType: 'application/vnd.oci.empty.v1+json', digest: sha256Digest(EMPTY_BYTES), size: 2 };

/** More referrers than this under one subject are not read: a flooded repository cannot stall a verifier. */
export const MAX_REFERRERS = 1000;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface Subject {
  descriptor: Descriptor;
  /** A manifest reprokit makes to stand for a file, pushed beside its attestations; images are not pushed. */
  manifest?: Buffer;
}

/**
 * The manifest that stands for a file in a registry, made from its sha256 alone, so that a verifier
 * who knows only the digest (a repro-manifest.json) computes the same bytes and the same subject
 * digest: fixed key order, no whitespace, the empty descriptor as config and as the one layer (the
 * file itself is not uploaded; a registry refuses a manifest whose layers it lacks).
 */
export function fileSubject(sha256Hex: string): Subject {
  if (!/^[0-9a-f]{64}$/.test(sha256Hex)) throw new UserError(`file subject: ${JSON.stringify(sha256Hex)} is not a sha256 in hex`);
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: FILE_SUBJECT_TYPE,
      config: EMPTY_DESCRIPTOR,
      layers: [EMPTY_DESCRIPTOR],
      annotations: { [FILE_DIGEST_ANNOTATION]: sha256Hex },
    }),
  );
  return { descriptor: { mediaType: OCI_MANIFEST, digest: sha256Digest(manifest), size: manifest.length }, manifest };
}

/** The attestation's own manifest: the envelope as its one layer, the subject it is about. */
export function attestationManifest(envelope: Buffer, predicateType: string, subject: Descriptor): Buffer {
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST,
      artifactType: DSSE_MEDIA_TYPE,
      config: EMPTY_DESCRIPTOR,
      layers: [{ mediaType: DSSE_MEDIA_TYPE, digest: sha256Digest(envelope), size: envelope.length }],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations: { [PREDICATE_ANNOTATION]: predicateType },
    }),
  );
}

/** The tag schema's tag for a subject: `sha256-<hex>`. */
export const fallbackTag = (digest: string) => digest.replace(':', '-');

export interface PushedAttestation {
  /** `registry/repository@sha256:…` of the attestation manifest. */
  ref: string;
  /** How it can be found: the registry's referrers API, or the tag schema's index. */
  via: 'referrers API' | `tag ${string}`;
}

/**
 * Pushes one envelope as a referrer of `subject`. The registry indexes it when it answers the PUT
 * with `OCI-Subject`; otherwise the `sha256-<hex>` index is read, extended and written back, then
 * read again (it is read-modify-write: another pusher writing the same index at the same moment can
 * drop an entry, so the push checks that its entry is there and writes again if not).
 */
export async function pushAttestation(writer: VaultRegistry, reader: RegistryClient, subject: Subject, envelope: Buffer, predicateType: string): Promise<PushedAttestation> {
  const name = `${writer.host}/${writer.repository}`;
  for (const blob of [EMPTY_BYTES, envelope]) await writer.pushBlob(sha256Digest(blob), async () => new Blob([blob]));
  if (subject.manifest) await writer.putManifest(subject.descriptor.digest, subject.manifest, OCI_MANIFEST);
  const manifest = attestationManifest(envelope, predicateType, subject.descriptor);
  const digest = sha256Digest(manifest);
  const pushed = await writer.putManifestAnswer(digest, manifest, OCI_MANIFEST);
  const ref = `${name}@${digest}`;
  if (pushed.subject) return { ref, via: 'referrers API' };
  const entry: Descriptor = { mediaType: OCI_MANIFEST, digest, size: manifest.length, artifactType: DSSE_MEDIA_TYPE, annotations: { [PREDICATE_ANNOTATION]: predicateType } };
  const tag = fallbackTag(subject.descriptor.digest);
  for (let attempt = 0; attempt < 5; attempt++) {
    const current = await readFallbackIndex(reader, subject.descriptor.digest);
    if (current.some((listed) => listed.digest === entry.digest)) return { ref, via: `tag ${tag}` };
    const index = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [...current, entry] }));
    await writer.putManifest(tag, index, OCI_INDEX);
  }
  throw new UserError(`${name}:${tag}: the index kept losing this attestation's entry (other pushers writing it at the same time): push again`);
}

/** The descriptors the tag schema's index lists for a subject; none when there is no such tag. */
async function readFallbackIndex(reader: RegistryClient, subjectDigest: string): Promise<Descriptor[]> {
  const tag = fallbackTag(subjectDigest);
  const index = await reader.manifest(tag).catch((error) => {
    if ((error as { status?: number }).status === 404) return undefined;
    throw error;
  });
  if (!index) return [];
  const manifests: unknown = index.json?.manifests;
  if (!Array.isArray(manifests)) throw new UserError(`${reader.base}/manifests/${tag}: $.manifests: not a list; is the tag an index of referrers?`);
  return manifests.slice(0, MAX_REFERRERS).filter(isDescriptor);
}

function isDescriptor(value: unknown): value is Descriptor {
  const d = value as Partial<Descriptor> | null;
  return typeof d === 'object' && d !== null && typeof d.mediaType === 'string' && typeof d.digest === 'string' && /^sha256:[0-9a-f]{64}$/.test(d.digest) && Number.isSafeInteger(d.size);
}

/**
 * The attestations listed for a subject, from the referrers API or, where the registry lacks it
 * (a 404), from the tag schema's index; only DSSE envelopes, at most MAX_REFERRERS.
 */
export async function listAttestations(reader: RegistryClient, subjectDigest: string): Promise<{ descriptors: Descriptor[]; via: PushedAttestation['via'] }> {
  const index = await reader.referrers(subjectDigest);
  let listed: Descriptor[];
  let via: PushedAttestation['via'];
  if (index !== undefined) {
    if (!Array.isArray(index?.manifests)) throw new UserError(`${reader.base}/referrers/${subjectDigest}: $.manifests: not a list`);
    listed = (index.manifests as unknown[]).slice(0, MAX_REFERRERS).filter(isDescriptor);
    via = 'referrers API';
  } else {
    listed = await readFallbackIndex(reader, subjectDigest);
    via = `tag ${fallbackTag(subjectDigest)}`;
  }
  return { descriptors: listed.filter((d) => d.artifactType === DSSE_MEDIA_TYPE), via };
}

/** One referrer's envelope: its manifest (checked against its digest), which must name this subject, then its layer. */
export async function fetchEnvelope(reader: RegistryClient, descriptor: Descriptor, subjectDigest: string, maxBytes: number): Promise<Buffer> {
  const { json } = await reader.manifest(descriptor.digest);
  const at = `${reader.image.registry}/${reader.image.repository}@${descriptor.digest}`;
  if (json?.subject?.digest !== subjectDigest) throw new UserError(`${at}: listed as a referrer of ${subjectDigest}, but its subject is ${json?.subject?.digest ?? 'missing'}`);
  const layer = Array.isArray(json?.layers) ? json.layers.find((l: Partial<Descriptor>) => l?.mediaType === DSSE_MEDIA_TYPE) : undefined;
  if (!layer || typeof layer.digest !== 'string') throw new UserError(`${at}: no ${DSSE_MEDIA_TYPE} layer`);
  if (!Number.isSafeInteger(layer.size) || layer.size > maxBytes) throw new UserError(`${at}: the envelope is ${layer.size} bytes, more than the ${maxBytes} reprokit reads`);
  return reader.blob(layer.digest, maxBytes);
}
