import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { deletePushedAttestations } from './registry-cleanup';
import { freePort } from './test-sshd';
import { TempWorkspace } from './workspace';

const MANIFEST = 'packages/hello-c/repro-manifest.json';
/** The shared registry (distribution 2.8: no referrers API, the tag schema), a path of this run's own. */
const REGISTRY = `127.0.0.1:5000/rk-threshold-${process.pid}`;

/** The statement inside an envelope, as JSON. */
const payloadOf = (file: string) => JSON.parse(Buffer.from(JSON.parse(readFileSync(file, 'utf8')).payload, 'base64').toString());

describe('rebuilders sign verification summaries; verify enforces a threshold of trusted builders', () => {
  // Builders a and b rebuild the committed sources; c's checkout was tampered with (one changed
  // string in hello.c, committed), so its rebuild gives other bytes and it says FAILED.
  const ws = new TempWorkspace();
  const tampered = new TempWorkspace();
  const source = tampered.read('packages/hello-c/src/hello.c');
  assert.ok(source.includes('Hello from C'));
  tampered.write('packages/hello-c/src/hello.c', source.replace('Hello from C', 'Backdoored C'));
  tampered.commit('tamper');
  const att = join(ws.root, 'attestations');
  // What the rebuilders pushed is deleted from the shared registry afterwards (it runs with deletion enabled).
  after(async () => {
    await deletePushedAttestations(`${REGISTRY}/hello-c`);
  });
  const trusted = join(ws.root, 'trusted');
  mkdirSync(trusted);

  it('each builder rebuilds with its own key and writes a signed VSA per artifact', () => {
    for (const name of ['builder-a', 'builder-b', 'builder-c', 'stranger']) assert.equal(ws.reprokit('keygen', name).status, 0);
    for (const name of ['builder-a', 'builder-b', 'builder-c']) cpSync(join(ws.root, `${name}.pub`), join(trusted, `${name}.pub`));
    for (const name of ['builder-a', 'builder-b']) {
      const result = ws.reprokit('rebuild', MANIFEST, '--attest', '--key', `${name}.key`, '--out', 'attestations', '--push-attestations', REGISTRY, '--builder-id', `https://rebuilders.example/${name}`);
      assert.equal(result.status, 0, result.output);
      assert.match(result.output, /^PASSED packages\/hello-c\/dist\/hello sha256:[0-9a-f]{64} -> attestations\/hello-c\.hello\.[0-9a-f]{16}\.vsa\.dsse\.json$/m);
      assert.match(result.output, new RegExp(`pushed attestations/hello-c\\.hello\\.[0-9a-f]{16}\\.vsa\\.dsse\\.json -> ${REGISTRY.replace(/\./g, '\\.')}/hello-c@sha256:[0-9a-f]{64} \\(found by subject through the tag sha256-[0-9a-f]{64}\\)`));
    }
    const c = tampered.reprokit('rebuild', MANIFEST, '--attest', '--key', join(ws.root, 'builder-c.key'), '--out', att, '--push-attestations', REGISTRY, '--builder-id', 'https://rebuilders.example/builder-c');
    assert.equal(c.status, 1, c.output);
    assert.match(c.output, /^FAILED packages\/hello-c\/dist\/hello expected sha256:[0-9a-f]{64}, rebuilt sha256:[0-9a-f]{64}/m);
    // Each builder also signed the provenance of what it built: about other bytes for builder-c.
    const provenance = readdirSync(att).filter((file) => file.endsWith('.intoto.dsse.json')).map((file) => payloadOf(join(att, file)));
    assert.equal(provenance.length, 3);
    assert.deepEqual(provenance.map((statement) => statement.predicateType), Array(3).fill('https://slsa.dev/provenance/v1'));
    assert.equal(new Set(provenance.map((statement) => statement.subject[0].digest.sha256)).size, 2);
    const files = readdirSync(att).filter((file) => file.endsWith('.vsa.dsse.json')).sort();
    assert.equal(files.length, 3);
    const summaries = files.map((file) => payloadOf(join(att, file)));
    for (const vsa of summaries) {
      assert.equal(vsa.predicateType, 'https://slsa.dev/verification_summary/v1');
      assert.equal(vsa.predicate.resourceUri, 'reprokit:hello-c/dist/hello');
      assert.equal(vsa.subject[0].digest.sha256, JSON.parse(ws.read(MANIFEST)).artifacts[0].sha256);
      // The rebuild's own provenance is the VSA's input, by digest.
      assert.match(vsa.predicate.inputAttestations[0].name, /^packages\/hello-c\/dist\/\.reprokit\/hello\.intoto\.json$/);
    }
    assert.deepEqual(summaries.map((vsa) => vsa.predicate.verificationResult).sort(), ['FAILED', 'PASSED', 'PASSED']);
    const failed = summaries.find((vsa) => vsa.predicate.verificationResult === 'FAILED');
    assert.equal(failed.predicate.verifier.id, 'https://rebuilders.example/builder-c');
    assert.match(failed.subject[0].annotations.rebuiltSha256, /^[0-9a-f]{64}$/);
  });

  it('threshold 3 fails naming the disagreeing builder; threshold 2 passes with a warning naming it', () => {
    const three = ws.reprokit('verify', MANIFEST, '--attestations', 'attestations', '--trusted-keys', 'trusted', '--threshold', '3');
    assert.equal(three.status, 1, three.output);
    assert.match(three.output, /^NOT ATTESTED dist\/hello sha256:[0-9a-f]{64}: 2 of 3 trusted builders PASSED, threshold 3 \(builder-a, builder-b\)$/m);
    assert.match(three.output, /^disagreements, per builder:\n {2}builder-c: dist\/hello FAILED: rebuilt sha256:[0-9a-f]{64}$/m);
    const two = ws.reprokit('verify', MANIFEST, '--attestations', 'attestations', '--trusted-keys', 'trusted', '--threshold', '2');
    assert.equal(two.status, 0, two.output);
    assert.match(two.output, /^ATTESTED dist\/hello/m);
    assert.match(two.output, /^warning: 1 trusted builder disagrees \(the threshold is met without it\): builder-c$/m);
    const impossible = ws.reprokit('verify', MANIFEST, '--attestations', 'attestations', '--trusted-keys', 'trusted', '--threshold', '4');
    assert.equal(impossible.status, 2);
    assert.match(impossible.output, /--threshold 4: only 3 trusted builders in trusted, the threshold could never be met/);
  });

  it('from the registry (--attestations-from, found by subject): the same verdicts as from the directory, in verify and report', () => {
    for (const threshold of ['2', '3']) {
      const fromDir = ws.reprokit('verify', MANIFEST, '--attestations', 'attestations', '--trusted-keys', 'trusted', '--threshold', threshold);
      const fromRegistry = ws.reprokit('verify', MANIFEST, '--attestations-from', REGISTRY, '--trusted-keys', 'trusted', '--threshold', threshold);
      assert.equal(fromRegistry.status, fromDir.status, fromRegistry.output);
      assert.equal(fromRegistry.stdout, fromDir.stdout);
      assert.equal(fromRegistry.stderr, fromDir.stderr);
    }
    const report = ws.reprokit('report', '--json', '--no-pins', '--attestations-from', REGISTRY, '--trusted-keys', 'trusted', '--threshold', '3');
    const reportDir = ws.reprokit('report', '--json', '--no-pins', '--attestations', 'attestations', '--trusted-keys', 'trusted', '--threshold', '3');
    const artifact = (output: string) => (JSON.parse(output).projects as { name: string; artifacts: { attestations?: unknown }[] }[]).find((project) => project.name === 'hello-c')!.artifacts[0].attestations;
    assert.deepEqual(artifact(report.stdout), artifact(reportDir.stdout));
    assert.match(JSON.stringify(artifact(report.stdout)), /builder-c/);
  });

  it('a registry that cannot be reached after the rebuild: one line, exit 2, and what was signed is kept', async () => {
    const port = await freePort();
    const result = ws.reprokit('rebuild', MANIFEST, '--attest', '--key', 'builder-a.key', '--push-attestations', `127.0.0.1:${port}/nowhere`, '--nx-target', 'elf');
    assert.equal(result.status, 2, result.output.slice(-3000));
    const last = result.stderr.trimEnd().split('\n').at(-1)!;
    const kept = new RegExp(`^reprokit: 127\\.0\\.0\\.1:${port}: connection refused \\(what was signed is kept in (\\S+)\\)$`).exec(last);
    assert.ok(kept, last);
    assert.deepEqual(readdirSync(kept[1]).map((file) => file.replace(/[0-9a-f]{16}/, 'KEY')).sort(), ['hello-c.hello.KEY.intoto.dsse.json', 'hello-c.hello.KEY.vsa.dsse.json']);
    rmSync(kept[1], { recursive: true });
  });

  it('refuses, one line each, an untrusted key, a changed payload and an attestation for another digest', () => {
    const bad = join(ws.root, 'with-bad');
    cpSync(att, bad, { recursive: true });
    const [aFile] = readdirSync(att).filter((file) => file.endsWith('.vsa.dsse.json')).filter((file) => payloadOf(join(att, file)).predicate.verifier.id.endsWith('builder-a'));
    const statement = payloadOf(join(att, aFile));
    // The same PASSED summary, signed by a key nobody trusts.
    writeFileSync(join(ws.root, 'copy.intoto.json'), JSON.stringify(statement));
    assert.equal(ws.reprokit('attest', 'copy.intoto.json', '--key', 'stranger.key', '--out', 'with-bad').status, 0);
    // builder-a's envelope with its payload changed after signing (another verifier ID).
    const envelope = JSON.parse(readFileSync(join(att, aFile), 'utf8'));
    const changed = { ...statement, predicate: { ...statement.predicate, verifier: { id: 'https://rebuilders.example/someone-else' } } };
    writeFileSync(join(bad, 'changed.json'), JSON.stringify({ ...envelope, payload: Buffer.from(JSON.stringify(changed)).toString('base64') }));
    // A PASSED summary for other bytes, signed by trusted builder-c.
    const other = { ...statement, subject: [{ ...statement.subject[0], digest: { sha256: 'f'.repeat(64) } }] };
    writeFileSync(join(ws.root, 'other.intoto.json'), JSON.stringify(other));
    assert.equal(ws.reprokit('attest', 'other.intoto.json', '--key', 'builder-c.key', '--out', 'with-bad').status, 0);

    const result = ws.reprokit('verify', MANIFEST, '--attestations', 'with-bad', '--trusted-keys', 'trusted', '--threshold', '2');
    assert.equal(result.status, 0, result.output);
    const refused = result.output.split('\n').filter((line) => line.startsWith('refused: '));
    assert.equal(refused.length, 3, result.output);
    assert.match(refused.join('\n'), /refused: .*with-bad\/changed\.json: the signature by trusted key [0-9a-f]{16}… does not match the payload: the envelope was changed after signing/);
    assert.match(refused.join('\n'), /refused: .*with-bad\/copy\.intoto\.dsse\.json: signed by [0-9a-f]{16}…, not by a trusted key/);
    assert.match(refused.join('\n'), new RegExp(`refused: .*with-bad/other\\.intoto\\.dsse\\.json: attests sha256:${'f'.repeat(64)} for reprokit:hello-c/dist/hello, but the manifest records sha256:[0-9a-f]{64}`));
    // The refused ones vote for nobody: still a and b.
    assert.match(result.output, /2 of 3 trusted builders PASSED, threshold 2 \(builder-a, builder-b\)/);
  });

  it('the Nx reproduce target takes the same options', () => {
    const pass = ws.nx('run', 'hello-c:reproduce', '--attestations=attestations', '--trusted-keys=trusted', '--threshold=2');
    assert.equal(pass.status, 0, pass.output);
    assert.match(pass.output, /REPRODUCED/);
    assert.match(pass.output, /ATTESTED dist\/hello/);
    const fail = ws.nx('run', 'hello-c:reproduce', '--attestations=attestations', '--trusted-keys=trusted', '--threshold=3');
    assert.notEqual(fail.status, 0, fail.output);
    assert.match(fail.output, /builder-c: dist\/hello FAILED/);
  });
});
