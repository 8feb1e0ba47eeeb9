import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TempWorkspace } from './workspace';

const sha256 = (bytes: Buffer | string) => createHash('sha256').update(bytes).digest('hex');

describe('provenance: every build target writes a deterministic SLSA statement', () => {
  const ws = new TempWorkspace();
  const statementPath = 'packages/hello-c/dist/.reprokit/hello.intoto.json';

  it('hello-c:elf writes an in-toto statement with a SLSA provenance v1 predicate about the binary', () => {
    const { status, output } = ws.nx('run', 'hello-c:elf', '--skip-nx-cache');
    assert.equal(status, 0, output);
    assert.match(output, /\[hello-c:elf\] provenance packages\/hello-c\/dist\/\.reprokit\/hello\.intoto\.json/);
    const statement = JSON.parse(ws.read(statementPath));
    assert.equal(statement._type, 'https://in-toto.io/Statement/v1');
    assert.equal(statement.predicateType, 'https://slsa.dev/provenance/v1');
    assert.deepEqual(statement.subject, [{ name: 'packages/hello-c/dist/hello', digest: { sha256: sha256(readFileSync(join(ws.root, 'packages/hello-c/dist/hello'))) } }]);
    const { buildDefinition, runDetails } = statement.predicate;
    assert.equal(buildDefinition.buildType, 'https://reprokit.invalid/build-types/nx-target/v1');
    assert.equal(buildDefinition.externalParameters.project, 'hello-c');
    assert.equal(buildDefinition.externalParameters.target, 'elf');
    assert.deepEqual(buildDefinition.externalParameters.options.command, ['make', 'OUT=/out']);
    const deps = buildDefinition.resolvedDependencies;
    const source = deps.find((dep: { name: string }) => dep.name === 'source');
    assert.equal(source.digest.gitCommit, ws.git('log', '-1', '--format=%H', '--', 'packages/hello-c'));
    const lock = deps.find((dep: { name: string }) => dep.name === 'packages/core/envs/c-builder/env.lock.json');
    assert.equal(lock.digest.sha256, sha256(readFileSync(join(ws.root, lock.name))));
    const image = deps.find((dep: { annotations?: { role?: string } }) => dep.annotations?.role === 'builder-image');
    // The image the committed manifest records as hello's builder.
    const pinned = JSON.parse(ws.read('packages/hello-c/repro-manifest.json')).artifacts[0].environment.image.split('@sha256:')[1];
    assert.equal(image.digest.sha256, pinned);
    assert.equal(image.annotations.envLockSha256, lock.digest.sha256);
    assert.equal(runDetails.builder.id, 'urn:reprokit:builder:local');
    const log = readFileSync(join(ws.root, 'packages/hello-c/dist/.reprokit/hello.build.log'));
    assert.deepEqual(runDetails.byproducts, [{ name: 'hello.build.log', digest: { sha256: sha256(log) }, mediaType: 'text/plain; charset=utf-8' }]);
    // Times are not in the statement but beside it.
    assert.doesNotMatch(ws.read(statementPath), /startedOn|finishedOn|20\d\d-\d\d-\d\dT/);
    assert.match(ws.read('packages/hello-c/dist/.reprokit/hello.intoto.times.json'), /"startedOn": "20\d\d-/);
  });

  it('a second build gives the same statement bytes; a cache hit restores them', () => {
    const first = ws.read(statementPath);
    const again = ws.nx('run', 'hello-c:elf', '--skip-nx-cache');
    assert.equal(again.status, 0, again.output);
    assert.equal(ws.read(statementPath), first);
    // --skip-nx-cache does not store: one run that does, then a clean tree restores from it.
    assert.equal(ws.nx('run', 'hello-c:elf').status, 0);
    ws.git('clean', '-fdxq', 'packages/hello-c/dist');
    const cached = ws.nx('run', 'hello-c:elf');
    assert.match(cached.output, /local cache|existing outputs match the cache/);
    assert.equal(ws.read(statementPath), first);
    // The manifest's verification ignores statements: nothing unexpected.
    const verify = ws.reprokit('verify', 'packages/hello-c/repro-manifest.json');
    assert.equal(verify.status, 0, verify.output);
  });

  it('the statement signed with a fresh key verifies against that key and the binary, and not against another key', () => {
    assert.equal(ws.reprokit('keygen', 'maintainer').status, 0);
    assert.equal(ws.reprokit('keygen', 'stranger').status, 0);
    const signed = ws.reprokit('attest', 'packages/hello-c/dist', '--key', 'maintainer.key', '--out', '.');
    assert.equal(signed.status, 0, signed.output);
    const ok = ws.reprokit('verify-attestation', 'hello.intoto.dsse.json', '--key', 'maintainer.pub', '--artifact', 'packages/hello-c/dist/hello');
    assert.equal(ok.status, 0, ok.output);
    const other = ws.reprokit('verify-attestation', 'hello.intoto.dsse.json', '--key', 'stranger.pub');
    assert.equal(other.status, 1);
    assert.match(other.output, /REJECTED hello\.intoto\.dsse\.json: signed by [0-9a-f]{16}…, not by a trusted key/);
  });
});
