import { readdirSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { isUserError, UserError } from '../errors';
import { readManifest } from '../manifest/manifest';
import { verifyAttestationFile, verifyAttestationText, type VerifiedAttestation } from './attestation';
import { loadTrustedKeys, type PublicKeyInfo } from './keys';
import { fetchAttestations } from './registry/registry-attestations';
import { resourceUriOf, VSA_PREDICATE_TYPE, type VsaPredicate } from './vsa';

/**
 * Trust from independent rebuilders: a manifest is accepted when, for every artifact, at least
 * `threshold` distinct trusted builders (one per trusted key) signed a PASSED verification summary
 * for exactly the digest the manifest commits to. A builder that says otherwise is a disagreement,
 * listed by name whether or not the threshold is met; an attestation that does not verify is
 * refused with one line and counts for nobody.
 */

/** A directory of attestations from strangers: bounded, so a flooded one cannot stall verification. */
const MAX_ATTESTATION_FILES = 10_000;

export interface Disagreement {
  builder: string;
  artifact: string;
  /** e.g. `FAILED: rebuilt sha256:…`, `attests sha256:… instead`. */
  what: string;
}

export interface ArtifactAttestation {
  name: string;
  path: string;
  sha256: string;
  /** Builders that attested PASSED for the manifest's digest, by name, sorted. */
  passedBy: string[];
  ok: boolean;
}

export interface ThresholdResult {
  manifestPath: string;
  project: string;
  threshold: number;
  trustedBuilders: string[];
  artifacts: ArtifactAttestation[];
  disagreements: Disagreement[];
  /** One line per attestation file refused (untrusted key, changed payload, malformed). */
  rejected: string[];
  ok: boolean;
}

function attestationFiles(dir: string): string[] {
  let names: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new UserError(`${dir}: not a directory, expected a directory of attestations (--attestations)`);
    names = readdirSync(dir);
  } catch (error) {
    if (isUserError(error)) throw error;
    throw new UserError(`${dir}: cannot read the attestations directory (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const files = names.filter((name) => name.endsWith('.json')).sort();
  if (files.length > MAX_ATTESTATION_FILES) throw new UserError(`${dir}: ${files.length} files, more than the ${MAX_ATTESTATION_FILES} attestations reprokit reads`);
  return files.map((name) => join(dir, name));
}

/** One attestation to verify, from a directory or a registry: `verify` reads and checks it. */
interface AttestationSource {
  label: string;
  verify: (trusted: PublicKeyInfo[]) => VerifiedAttestation;
}

export interface ThresholdInput {
  manifestPath: string;
  /** A directory of attestation files (`--attestations`)… */
  attestationsDir?: string;
  /** …or a registry holding them as referrers of each artifact (`--attestations-from`, `host:port[/path]`). */
  attestationsFrom?: string;
  trustedKeysPath: string;
  threshold: number;
}

export async function verifyThreshold(input: ThresholdInput): Promise<ThresholdResult> {
  if (!Number.isInteger(input.threshold) || input.threshold < 1) throw new UserError(`--threshold: ${input.threshold} is not a positive whole number`);
  const manifest = await readManifest(input.manifestPath);
  const trusted = loadTrustedKeys(input.trustedKeysPath);
  const builders = [...new Set(trusted.map((key) => key.builder))].sort();
  if (input.threshold > builders.length) {
    throw new UserError(`--threshold ${input.threshold}: only ${builders.length} trusted builder${builders.length === 1 ? '' : 's'} in ${input.trustedKeysPath}, the threshold could never be met`);
  }
  const builderOf = new Map(trusted.map((key) => [key.keyId, key.builder]));
  const byResource = new Map(manifest.artifacts.map((artifact) => [resourceUriOf(manifest.project, artifact.path), artifact]));
  const passed = new Map<string, Set<string>>(manifest.artifacts.map((artifact) => [artifact.path, new Set()]));
  const disagreements: Disagreement[] = [];
  const rejected: string[] = [];
  let sources: AttestationSource[];
  if (input.attestationsFrom !== undefined) {
    const fetched = await fetchAttestations(input.attestationsFrom, manifest, dirname(resolve(input.manifestPath)));
    rejected.push(...fetched.refused);
    sources = fetched.found.map(({ label, text }) => ({ label, verify: (keys) => verifyAttestationText(text, label, keys) }));
  } else {
    sources = attestationFiles(input.attestationsDir!).map((file) => ({ label: file, verify: (keys) => verifyAttestationFile(file, keys) }));
  }
  for (const { label: file, verify } of sources) {
    let attestation;
    try {
      attestation = verify(trusted);
    } catch (error) {
      if (!isUserError(error)) throw error;
      rejected.push(error.message);
      continue;
    }
    // Provenance and other statements may share the directory: only summaries vote.
    if (attestation.statement.predicateType !== VSA_PREDICATE_TYPE) continue;
    const vsa = attestation.statement.predicate as Partial<VsaPredicate>;
    const artifact = typeof vsa.resourceUri === 'string' ? byResource.get(vsa.resourceUri) : undefined;
    if (!artifact) continue; // another project's, or another artifact's: not about this manifest
    const signers = attestation.signers.map((signer) => builderOf.get(signer.keyId)!);
    const digests = attestation.statement.subject.map((subject) => subject.digest?.sha256);
    if (!digests.includes(artifact.sha256)) {
      rejected.push(`${file}: attests sha256:${digests.join(', sha256:')} for ${vsa.resourceUri}, but the manifest records sha256:${artifact.sha256}`);
      for (const builder of signers) disagreements.push({ builder, artifact: artifact.path, what: `attests sha256:${digests[0]} instead` });
      continue;
    }
    if (vsa.verificationResult === 'PASSED') {
      for (const builder of signers) passed.get(artifact.path)!.add(builder);
    } else {
      const annotations = attestation.statement.subject[0].annotations as { rebuiltSha256?: string; missing?: boolean } | undefined;
      const what = `${String(vsa.verificationResult)}${annotations?.rebuiltSha256 ? `: rebuilt sha256:${annotations.rebuiltSha256}` : annotations?.missing ? ': rebuilt nothing' : ''}`;
      for (const builder of signers) disagreements.push({ builder, artifact: artifact.path, what });
    }
  }
  // A builder that disagrees about an artifact does not also vote for it.
  for (const { builder, artifact } of disagreements) passed.get(artifact)?.delete(builder);
  const artifacts = manifest.artifacts.map((artifact) => {
    const passedBy = [...passed.get(artifact.path)!].sort();
    return { name: artifact.name, path: artifact.path, sha256: artifact.sha256, passedBy, ok: passedBy.length >= input.threshold };
  });
  return {
    manifestPath: input.manifestPath,
    project: manifest.project,
    threshold: input.threshold,
    trustedBuilders: builders,
    artifacts,
    disagreements,
    rejected,
    ok: artifacts.every((artifact) => artifact.ok),
  };
}

/** The verdict per artifact, then disagreements grouped per builder, then refused attestations. */
export function renderThreshold(result: ThresholdResult): { stdout: string; stderr: string } {
  const out: string[] = [];
  for (const artifact of result.artifacts) {
    const verdict = artifact.ok ? 'ATTESTED' : 'NOT ATTESTED';
    const who = artifact.passedBy.length ? ` (${artifact.passedBy.join(', ')})` : '';
    out.push(`${verdict} ${artifact.path} sha256:${artifact.sha256}: ${artifact.passedBy.length} of ${result.trustedBuilders.length} trusted builders PASSED, threshold ${result.threshold}${who}`);
  }
  // Per builder, in the manifest's order of artifacts (not the order the files were read in).
  const order = (d: Disagreement) => result.artifacts.findIndex((artifact) => artifact.path === d.artifact);
  const byBuilder = new Map<string, Disagreement[]>();
  for (const disagreement of [...result.disagreements].sort((x, y) => order(x) - order(y))) {
    byBuilder.set(disagreement.builder, [...(byBuilder.get(disagreement.builder) ?? []), disagreement]);
  }
  const err: string[] = [];
  if (byBuilder.size) {
    const lines = [...byBuilder].sort(([a], [b]) => (a < b ? -1 : 1)).map(([builder, list]) => `  ${builder}: ${list.map((d) => `${d.artifact} ${d.what}`).join('; ')}`);
    if (result.ok) err.push(`warning: ${byBuilder.size} trusted builder${byBuilder.size === 1 ? '' : 's'} disagree${byBuilder.size === 1 ? 's' : ''} (the threshold is met without ${byBuilder.size === 1 ? 'it' : 'them'}): ${[...byBuilder.keys()].sort().join(', ')}`, ...lines);
    else out.push('', 'disagreements, per builder:', ...lines);
  }
  for (const line of result.rejected) err.push(`refused: ${line}`);
  const attested = result.artifacts.filter((artifact) => artifact.ok).length;
  out.push('', `${attested} of ${result.artifacts.length} artifacts attested by at least ${result.threshold} of ${result.trustedBuilders.length} trusted builders (${result.trustedBuilders.join(', ')})`);
  return { stdout: out.join('\n') + '\n', stderr: err.length ? err.join('\n') + '\n' : '' };
}
