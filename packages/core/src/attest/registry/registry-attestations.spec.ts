// Attestations as OCI referrers: pushed to the shared registry on 127.0.0.1:5000 (distribution 2.8,
// no referrers API: the tag schema) under repositories rk-rebuild-test-<pid>/…, deleted afterwards,
// and to an in-memory registry with the referrers API. The verdicts from the registry are compared
// with those from a directory holding the same envelopes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { projectWithManifest, tempDir } from '../../testing/fixtures';
import { startReferrersRegistry, type ReferrersRegistry } from '../../testing/referrers-registry';
import { parseImageReference, RegistryClient } from '../../published/registry';
import { signEnvelope } from '../dsse';
import { generateSigningKey } from '../keygen';
import { loadSigningKey } from '../keys';
import { serializeStatement } from '../statement';
import { verifyThreshold, renderThreshold } from '../threshold';
import { verificationSummary } from '../vsa';
import { artifactSubject, attestationRepository, fetchAttestations, pushAttestations } from './registry-attestations';
import { DSSE_MEDIA_TYPE, fileSubject, listAttestations, pushAttestation, fallbackTag } from './referrers';
import { VaultRegistry } from '../../env/vault/vault-registry';

const LOCAL = '127.0.0.1:5000';
const PREFIX = `${LOCAL}/rk-rebuild-test-${process.pid}`;
const CLI = join(__dirname, '..', '..', '..', 'bin', 'reprokit.js');
const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

/** Every manifest a test pushed to the shared registry, deleted afterwards (it runs with deletion enabled). */
async function deleteRepository(repository: string): Promise<void> {
  const client = new RegistryClient(parseImageReference(repository), { allowPrivateNetwork: true });
  const tags = await client.tags().catch(() => [] as string[]);
  for (const tag of tags) {
    const { digest, json } = await client.manifest(tag);
    for (const listed of json.manifests ?? []) await fetch(`http://${LOCAL}/v2/${client.image.repository}/manifests/${listed.digest}`, { method: 'DELETE' });
    await fetch(`http://${LOCAL}/v2/${client.image.repository}/manifests/${digest}`, { method: 'DELETE' });
    // The subject (a file's manifest) the tag is named after.
    if (tag.startsWith('sha256-')) await fetch(`http://${LOCAL}/v2/${client.image.repository}/manifests/${tag.replace('-', ':')}`, { method: 'DELETE' });
  }
}

/** Three builders' signed summaries about the manifest's one artifact: a and b PASSED, c FAILED (other bytes). */
async function signedSummaries(dir: string, project: string, artifact: { name: string; path: string; sha256: string }) {
  const out = join(dir, 'attestations');
  const trusted = join(dir, 'trusted');
  mkdirSync(out);
  mkdirSync(trusted);
  const files: string[] = [];
  for (const [builder, passed] of [['builder-a', true], ['builder-b', true], ['builder-c', false], ['stranger', true]] as const) {
    const { keyFile, pubFile } = generateSigningKey(join(dir, builder));
    if (builder !== 'stranger') copyFileSync(pubFile, join(trusted, `${builder}.pub`));
    const key = loadSigningKey(keyFile);
    const vsa = verificationSummary({
      verifierId: `https://rebuilders.example/${builder}`,
      verifierVersion: { reprokit: 'test' },
      project,
      artifact,
      rebuiltSha256: passed ? artifact.sha256 : 'e'.repeat(64),
      passed,
      inputAttestations: [],
      timeVerified: new Date(0),
    });
    const file = join(out, `${project}.${artifact.name}.${builder}.vsa.dsse.json`);
    writeFileSync(file, JSON.stringify(signEnvelope(serializeStatement(vsa), key), null, 2) + '\n');
    files.push(file);
  }
  return { out, trusted, files };
}

describe('attestations in a registry, found by subject', () => {
  let api: ReferrersRegistry;
  const pushedTo: string[] = [];
  before(async () => {
    api = await startReferrersRegistry();
  });
  after(async () => {
    await api.close();
    for (const repository of pushedTo) await deleteRepository(repository);
  });

  it('a file stands in the registry as a fixed manifest made from its sha256 alone', () => {
    const subject = fileSubject('ab'.repeat(32));
    assert.equal(
      subject.manifest!.toString(),
      '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.reprokit.file.v1",' +
        '"config":{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},' +
        '"layers":[{"mediaType":"application/vnd.oci.empty.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2}],' +
        `"annotations":{"dev.reprokit.file.sha256":"${'ab'.repeat(32)}"}}`,
    );
    assert.equal(subject.descriptor.digest, `sha256:${sha256(subject.manifest!)}`);
    assert.notEqual(fileSubject('cd'.repeat(32)).descriptor.digest, subject.descriptor.digest);
    assert.throws(() => fileSubject('AB'.repeat(32)), /is not a sha256 in hex/);
  });

  it('an image hangs from its manifest: digest from the repro-manifest, size and media type from the layout, else size 0', async () => {
    const layout = tempDir('rk-layout-');
    const manifest = Buffer.from('{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{},"layers":[]}');
    const digest = `sha256:${sha256(manifest)}`;
    mkdirSync(join(layout, 'blobs', 'sha256'), { recursive: true });
    writeFileSync(join(layout, 'blobs', 'sha256', sha256(manifest)), manifest);
    const subject = await artifactSubject('oci', 'ff'.repeat(32), { manifestDigest: digest, layoutDir: layout });
    assert.deepEqual(subject, { descriptor: { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: manifest.length } });
    // A rebuild that made another image has no copy: the digest still names the subject.
    const elsewhere = await artifactSubject('oci', 'ff'.repeat(32), { manifestDigest: `sha256:${'0'.repeat(64)}`, layoutDir: layout });
    assert.deepEqual(elsewhere.descriptor, { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: `sha256:${'0'.repeat(64)}`, size: 0 });
    // Anything else (and an image without image facts) is the file's stand-in manifest.
    assert.deepEqual(await artifactSubject('elf', 'ab'.repeat(32), undefined), fileSubject('ab'.repeat(32)));
  });

  it('distribution 2.8 (no referrers API): pushes go to the sha256-<hex> index, each once, and are listed from it', async () => {
    const repository = `${PREFIX}/tags`;
    pushedTo.push(repository);
    const image = parseImageReference(repository);
    const writer = new VaultRegistry(image.registry, image.repository, 'pull,push');
    const reader = new RegistryClient(image, { allowPrivateNetwork: true });
    assert.equal(await reader.referrers(fileSubject('00'.repeat(32)).descriptor.digest), undefined, 'distribution 2.8 has no referrers API');
    const subject = fileSubject('11'.repeat(32));
    const first = Buffer.from('{"payloadType":"application/vnd.in-toto+json","payload":"","signatures":[{"sig":""}]}\n');
    const second = Buffer.from(first.toString().replace('\n', ' \n'));
    const a = await pushAttestation(writer, reader, subject, first, 'https://slsa.dev/verification_summary/v1');
    const b = await pushAttestation(writer, reader, subject, second, 'https://slsa.dev/provenance/v1');
    const again = await pushAttestation(writer, reader, subject, first, 'https://slsa.dev/verification_summary/v1');
    assert.equal(a.via, `tag ${fallbackTag(subject.descriptor.digest)}`);
    assert.equal(again.ref, a.ref);
    // docker's own client reads the index the fallback wrote.
    const index = (await reader.manifest(fallbackTag(subject.descriptor.digest))).json;
    assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
    assert.deepEqual(index.manifests.map((m: { digest: string }) => m.digest), [a.ref.split('@')[1], b.ref.split('@')[1]]);
    assert.deepEqual(index.manifests.map((m: { annotations: Record<string, string> }) => m.annotations['in-toto.io/predicate-type']), ['https://slsa.dev/verification_summary/v1', 'https://slsa.dev/provenance/v1']);
    const listed = await listAttestations(reader, subject.descriptor.digest);
    assert.equal(listed.descriptors.length, 2);
    // The attestation manifest names the subject; the subject manifest itself is in the repository too.
    const pushed = await reader.manifest(a.ref.split('@')[1]);
    assert.equal(pushed.json.subject.digest, subject.descriptor.digest);
    assert.equal(pushed.json.artifactType, DSSE_MEDIA_TYPE);
    assert.equal((await reader.manifest(subject.descriptor.digest)).json.annotations['dev.reprokit.file.sha256'], '11'.repeat(32));
    // Another subject has none.
    assert.deepEqual((await listAttestations(reader, fileSubject('22'.repeat(32)).descriptor.digest)).descriptors, []);
  });

  it('a registry with the referrers API indexes them itself: no fallback tag is written', async () => {
    const image = parseImageReference(`${api.host}/team/hello`);
    const writer = new VaultRegistry(image.registry, image.repository, 'pull,push');
    const reader = new RegistryClient(image, { allowPrivateNetwork: true });
    const subject = fileSubject('33'.repeat(32));
    const pushed = await pushAttestation(writer, reader, subject, Buffer.from('{"x":1}'), 'https://slsa.dev/verification_summary/v1');
    assert.equal(pushed.via, 'referrers API');
    assert.deepEqual(api.taggedManifests, []);
    const listed = await listAttestations(reader, subject.descriptor.digest);
    assert.equal(listed.via, 'referrers API');
    assert.deepEqual(listed.descriptors.map((d) => d.digest), [pushed.ref.split('@')[1]]);
  });

  for (const where of ['distribution 2.8', 'the referrers API'] as const) {
    it(`verify --attestations-from reaches the same verdicts as the directory (${where}), refusing the same envelopes`, async () => {
      const { dir, manifestPath } = await projectWithManifest();
      const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
      const artifact = manifest.artifacts[0];
      const { out, trusted, files } = await signedSummaries(dir, manifest.project, artifact);
      // builder-a's envelope with its payload changed after signing.
      const envelope = JSON.parse(readFileSync(files[0], 'utf8'));
      const changed = JSON.parse(Buffer.from(envelope.payload, 'base64').toString());
      changed.predicate.verifier.id = 'https://rebuilders.example/someone-else';
      const changedFile = join(out, 'changed.json');
      writeFileSync(changedFile, JSON.stringify({ ...envelope, payload: Buffer.from(JSON.stringify(changed)).toString('base64') }));
      const registry = where === 'distribution 2.8' ? `${PREFIX}/verdicts` : `${api.host}/verdicts`;
      if (where === 'distribution 2.8') pushedTo.push(`${registry}/hello`);
      const subject = fileSubject(artifact.sha256);
      const pushed = await pushAttestations(
        registry,
        manifest.project,
        [...files, changedFile].map((file) => ({ file, predicateType: 'https://slsa.dev/verification_summary/v1', subject })),
      );
      assert.equal(pushed.length, 5);
      for (const threshold of [2, 3]) {
        const fromDir = await verifyThreshold({ manifestPath, attestationsDir: out, trustedKeysPath: trusted, threshold });
        const fromRegistry = await verifyThreshold({ manifestPath, attestationsFrom: registry, trustedKeysPath: trusted, threshold });
        assert.equal(fromRegistry.ok, threshold === 2);
        assert.deepEqual(fromRegistry.artifacts, fromDir.artifacts);
        assert.deepEqual(fromRegistry.artifacts[0].passedBy, ['builder-a', 'builder-b']);
        assert.deepEqual(fromRegistry.disagreements, fromDir.disagreements);
        assert.deepEqual(fromRegistry.disagreements.map((d) => d.builder), ['builder-c']);
        // The same two refusals (the stranger, the changed payload), naming the manifest in the registry instead of the file.
        const normalize = (lines: string[]) => lines.map((line) => line.replace(/^\S+: /, '')).sort();
        assert.equal(fromRegistry.rejected.length, 2);
        assert.deepEqual(normalize(fromRegistry.rejected), normalize(fromDir.rejected));
        for (const line of fromRegistry.rejected) assert.match(line, new RegExp(`^${registry.split('/')[0].replace(/\./g, '\\.')}/\\S+/hello@sha256:[0-9a-f]{64}: `));
        assert.equal(renderThreshold(fromRegistry).stdout, renderThreshold(fromDir).stdout);
      }
    });
  }

  it('a referrer whose manifest names another subject is refused with one line; the others still count', async () => {
    const { dir, manifestPath } = await projectWithManifest('other bytes\n');
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const { trusted, files } = await signedSummaries(dir, manifest.project, manifest.artifacts[0]);
    const registry = `${PREFIX}/misfiled`;
    pushedTo.push(`${registry}/hello`);
    const right = fileSubject(manifest.artifacts[0].sha256);
    await pushAttestations(registry, manifest.project, files.slice(0, 2).map((file) => ({ file, predicateType: 'https://slsa.dev/verification_summary/v1', subject: right })));
    // builder-c's summary hung from another subject, then listed by hand in the right subject's index.
    const image = attestationRepository(registry, manifest.project, 'test');
    const reader = new RegistryClient(image, { allowPrivateNetwork: true });
    const wrong = await pushAttestation(new VaultRegistry(image.registry, image.repository, 'pull,push'), reader, fileSubject('44'.repeat(32)), readFileSync(files[2]), 'https://slsa.dev/verification_summary/v1');
    const tag = fallbackTag(right.descriptor.digest);
    const index = (await reader.manifest(tag)).json;
    const misfiled = (await reader.manifest(fallbackTag(fileSubject('44'.repeat(32)).descriptor.digest))).json.manifests[0];
    index.manifests.push(misfiled);
    await new VaultRegistry(image.registry, image.repository, 'pull,push').putManifest(tag, Buffer.from(JSON.stringify(index)), 'application/vnd.oci.image.index.v1+json');
    const fetched = await fetchAttestations(registry, manifest, dir);
    assert.equal(fetched.found.length, 2);
    assert.deepEqual(fetched.refused, [`${wrong.ref}: listed as a referrer of ${right.descriptor.digest}, but its subject is ${fileSubject('44'.repeat(32)).descriptor.digest}`]);
    const result = await verifyThreshold({ manifestPath, attestationsFrom: registry, trustedKeysPath: trusted, threshold: 2 });
    assert.equal(result.ok, true);
    assert.equal(result.rejected.length, 1);
  });

  it('the CLI: an unreachable registry is one line and exit 2; a malformed REGISTRY is refused before anything is read', async () => {
    const { dir, manifestPath } = await projectWithManifest();
    const keys = tempDir();
    generateSigningKey(join(keys, 'a'));
    const run = (...args: string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: dir, encoding: 'utf8' });
    const down = run('verify', manifestPath, '--attestations-from', '127.0.0.1:1', '--trusted-keys', join(keys, 'a.pub'), '--threshold', '1');
    assert.equal(down.status, 2, down.stderr);
    assert.doesNotMatch(down.stderr, /^\s+at /m);
    assert.equal(down.stderr.trimEnd().split('\n').length, 1, down.stderr);
    assert.match(down.stderr, /--attestations-from 127\.0\.0\.1:1: http:\/\/127\.0\.0\.1:1\/v2\/hello\/referrers\/sha256:[0-9a-f]{64}: connection refused/);
    const bad = run('verify', manifestPath, '--attestations-from', 'Not A Registry', '--trusted-keys', join(keys, 'a.pub'), '--threshold', '1');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /--attestations-from: "Not A Registry" is not a registry \(host:port or host:port\/path/);
    const both = run('verify', manifestPath, '--attestations', dir, '--attestations-from', LOCAL, '--trusted-keys', join(keys, 'a.pub'), '--threshold', '1');
    assert.equal(both.status, 2);
    assert.match(both.stderr, /--attestations and --attestations-from: give one/);
    const push = run('rebuild', manifestPath, '--push-attestations', LOCAL);
    assert.equal(push.status, 2);
    assert.match(push.stderr, /rebuild --push-attestations: needs --attest --key KEY/);
  });
});
