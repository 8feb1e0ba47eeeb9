import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { dirname, join, relative, resolve } from 'node:path';
import { RECORD_DIR } from '../build/build-record';
import { UserError } from '../errors';
import { gitToplevel } from '../git';
import { writeFileAtomic } from '../manifest/json-file';
import { readManifest } from '../manifest/manifest';
import { verifyManifest } from '../verification/verify';
import { REPROKIT_VERSION } from '../version';
import { signStatementFile } from './attestation';
import { signEnvelope } from './dsse';
import type { loadSigningKey } from './keys';
import { BUILDER_ID_ENV, DEFAULT_BUILDER_ID, STATEMENT_SUFFIX } from './provenance';
import { serializeStatement, type ResourceDescriptor } from './statement';
import { artifactSubject, pushAttestations, type AttestationToPush } from './registry/registry-attestations';
import { verificationSummary, VSA_PREDICATE_TYPE, type VerificationResult } from './vsa';

export interface RebuildInput {
  manifestPath: string;
  /** The Nx target that builds every artifact of the project (its dependsOn) and verifies them. */
  nxTarget: string;
  /** With a key: sign a verification summary per artifact into outDir. */
  key?: ReturnType<typeof loadSigningKey>;
  outDir?: string;
  builderId?: string;
  /** With a key: also push every signed statement to this registry (`host:port[/path]`), as referrers of its subject. */
  pushAttestations?: string;
  log: (line: string) => void;
}

export interface RebuiltArtifact {
  name: string;
  path: string;
  result: VerificationResult;
  expected: string;
  rebuilt?: string;
  attestation?: string;
  /** The rebuild's own provenance statement, signed with the same key. */
  provenance?: string;
}

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** The workspace's own nx (the version its plugins were written for), run with node. */
function nxBin(workspaceRoot: string): string {
  try {
    return require.resolve('nx/bin/nx.js', { paths: [workspaceRoot] });
  } catch {
    throw new UserError(`${workspaceRoot}: nx is not installed in this workspace: run \`npm ci\` first`);
  }
}

/**
 * `reprokit rebuild`: this machine rebuilds every artifact of a manifest from the checkout, skipping
 * the Nx cache (a rebuilder vouches for what it built, not for what someone uploaded), through the
 * docker daemon DOCKER_HOST names; compares each with the manifest and, with a key, signs a SLSA
 * verification summary per artifact, PASSED or FAILED.
 */
export async function rebuildManifest(input: RebuildInput): Promise<RebuiltArtifact[]> {
  const manifest = await readManifest(input.manifestPath);
  const manifestDir = dirname(resolve(input.manifestPath));
  const workspaceRoot = gitToplevel(manifestDir);
  if (!workspaceRoot) throw new UserError(`${input.manifestPath}: not in a git checkout: a rebuild starts from the commit the manifest belongs to`);
  const builderId = input.builderId ?? process.env[BUILDER_ID_ENV] ?? (input.key ? `urn:reprokit:builder:key:${input.key.keyId.slice(0, 16)}` : DEFAULT_BUILDER_ID);
  input.log(`rebuilding ${manifest.project} (nx run ${manifest.project}:${input.nxTarget} --skip-nx-cache) as ${builderId}, docker ${process.env.DOCKER_HOST ?? 'default socket'}`);
  const nx = spawnSync(process.execPath, [nxBin(workspaceRoot), 'run', `${manifest.project}:${input.nxTarget}`, '--skip-nx-cache'], {
    cwd: workspaceRoot,
    // Nx's output goes to stderr: stdout is this command's verdicts.
    stdio: ['ignore', process.stderr, process.stderr],
    env: { ...process.env, [BUILDER_ID_ENV]: builderId, NX_DAEMON: 'false' },
  });
  if (nx.error) throw new UserError(`cannot run nx (${nx.error.message})`);
  if (nx.status !== 0) input.log(`nx exited with ${nx.status}: what was built is compared below`);
  const verified = await verifyManifest(input.manifestPath);
  if (input.outDir) mkdirSync(input.outDir, { recursive: true });
  const results: RebuiltArtifact[] = [];
  const toPush: AttestationToPush[] = [];
  for (const artifact of manifest.artifacts) {
    const check = verified.checks.find((c) => c.name === artifact.name && c.status !== 'unexpected')!;
    const statementFile = join(manifestDir, manifest.outputDir, RECORD_DIR, `${artifact.name}${STATEMENT_SUFFIX}`);
    const inputAttestations: ResourceDescriptor[] = existsSync(statementFile)
      ? [{ name: relative(workspaceRoot, statementFile).split('\\').join('/'), digest: { sha256: sha256(readFileSync(statementFile)) } }]
      : [];
    const vsa = verificationSummary({
      verifierId: builderId,
      verifierVersion: { reprokit: REPROKIT_VERSION },
      project: manifest.project,
      artifact: { name: artifact.name, path: artifact.path, sha256: artifact.sha256 },
      rebuiltSha256: check.actual?.sha256,
      passed: check.status === 'match',
      inputAttestations,
      timeVerified: new Date(),
    });
    const result = vsa.predicate.verificationResult;
    let attestation: string | undefined;
    let provenance: string | undefined;
    if (input.key && input.outDir) {
      const stem = join(input.outDir, `${manifest.project}.${artifact.name}.${input.key.keyId.slice(0, 16)}`);
      attestation = `${stem}.vsa.dsse.json`;
      writeFileAtomic(attestation, JSON.stringify(signEnvelope(serializeStatement(vsa), input.key), null, 2) + '\n');
      const layoutDir = artifact.image && join(manifestDir, artifact.image.layout);
      // The summary is about the bytes the manifest records; it hangs from their subject even when this rebuild made others.
      toPush.push({ file: attestation, predicateType: VSA_PREDICATE_TYPE, subject: await artifactSubject(artifact.kind, artifact.sha256, artifact.image && { manifestDigest: artifact.image.manifestDigest, layoutDir }) });
      if (existsSync(statementFile)) {
        // The provenance is about what this rebuild made: its own subject.
        provenance = `${stem}.intoto.dsse.json`;
        const statement = signStatementFile(statementFile, input.key, provenance);
        const rebuiltImage = (statement.predicate as { buildDefinition?: { internalParameters?: { image?: { manifestDigest?: unknown } } } }).buildDefinition?.internalParameters?.image?.manifestDigest;
        const subject = await artifactSubject(artifact.kind, statement.subject[0].digest!.sha256, typeof rebuiltImage === 'string' ? { manifestDigest: rebuiltImage, layoutDir } : undefined);
        toPush.push({ file: provenance, predicateType: statement.predicateType, subject });
      }
    }
    results.push({ name: artifact.name, path: artifact.path, result, expected: artifact.sha256, rebuilt: check.actual?.sha256, attestation, provenance });
  }
  if (input.pushAttestations && toPush.length) {
    for (const pushed of await pushAttestations(input.pushAttestations, manifest.project, toPush)) {
      input.log(`pushed ${relative(process.cwd(), pushed.file)} -> ${pushed.ref} (found by subject through the ${pushed.via})`);
    }
  }
  return results;
}
