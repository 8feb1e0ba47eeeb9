import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecondDockerd } from './second-dockerd';
import { deletePushedAttestations } from './registry-cleanup';
import { TempWorkspace } from './workspace';

const MANIFEST = 'packages/asdf/repro-manifest.json';
/** The shared registry (distribution 2.8), a path of this run's own: the image's summaries hang from its manifest there. */
const REGISTRY = `127.0.0.1:5000/rk-independent-${process.pid}`;

/** Runs with DOCKER_HOST set (TempWorkspace's commands inherit this process's environment). */
function withDockerHost<T>(host: string, body: () => T): T {
  const previous = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = host;
  try {
    return body();
  } finally {
    if (previous === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = previous;
  }
}

const docker = (host: string, ...args: string[]) => spawnSync('docker', args, { encoding: 'utf8', env: { ...process.env, DOCKER_HOST: host } });

describe('independent builders: two docker daemons that share nothing agree on asdf', () => {
  const daemon = new SecondDockerd();
  const a = new TempWorkspace(); // the machine's shared daemon
  const b = new TempWorkspace(); // the test's own daemon
  const c = new TempWorkspace(); // a builder whose checkout was tampered with
  const att = join(a.root, 'attestations');
  const trusted = join(a.root, 'trusted');
  const artifacts = (JSON.parse(a.read(MANIFEST)).artifacts as { path: string }[]).map((artifact) => artifact.path);

  before(async () => {
    await daemon.start();
    for (const name of ['builder-a', 'builder-b', 'builder-c']) assert.equal(a.reprokit('keygen', name).status, 0);
    mkdirSync(trusted);
    for (const name of ['builder-a', 'builder-b', 'builder-c']) cpSync(join(a.root, `${name}.pub`), join(trusted, `${name}.pub`));
    const main = c.read('packages/asdf/src/main.rs');
    assert.ok(main.includes('Hello, world!'));
    c.write('packages/asdf/src/main.rs', main.replace('Hello, world!', 'Hello, world?'));
    c.commit('tamper');
  });
  after(async () => {
    await daemon.stop();
    await deletePushedAttestations(`${REGISTRY}/asdf`);
  });

  it('the second daemon is its own: its own data root, none of the shared images', () => {
    const info = docker(daemon.host, 'info', '--format', '{{.DockerRootDir}}');
    assert.equal(info.stdout.trim(), daemon.dataRoot, info.stderr);
    assert.notEqual(docker('unix:///var/run/docker.sock', 'info', '--format', '{{.DockerRootDir}}').stdout.trim(), daemon.dataRoot);
    assert.equal(docker(daemon.host, 'images', '-q').stdout.trim(), '');
  });

  it('reprokit reaches the second daemon through DOCKER_HOST=tcp:// too: builds static-base there from its lock', () => {
    const lock = join(b.root, 'packages/core/envs/static-base/env.lock.json');
    const result = withDockerHost(daemon.tcpHost!, () => b.reprokit('env', 'build', lock));
    assert.equal(result.status, 0, result.output.slice(-3000));
    const imageId = JSON.parse(readFileSync(lock, 'utf8')).imageId;
    assert.match(result.output, new RegExp(`reprokit/static-base@${imageId}`));
    assert.ok(docker(daemon.host, 'images', '-q', '--no-trunc').stdout.includes(imageId));
  });

  it('builder B, on the second daemon, builds the builder images from the locks, rebuilds asdf and signs: all PASSED', () => {
    const result = withDockerHost(daemon.host, () =>
      b.reprokit('rebuild', MANIFEST, '--attest', '--key', join(a.root, 'builder-b.key'), '--out', att, '--push-attestations', REGISTRY, '--builder-id', 'https://rebuilders.example/b'),
    );
    assert.equal(result.status, 0, result.output.slice(-4000));
    assert.match(result.output, new RegExp(`docker ${daemon.host.replace(/[/.]/g, '\\$&')}`));
    for (const path of artifacts) assert.match(result.output, new RegExp(`^PASSED packages/asdf/${path.replace(/[.]/g, '\\.')} `, 'm'));
    // The images came from the locks, into this daemon: the same IDs the locks record.
    const ids = docker(daemon.host, 'images', '-q', '--no-trunc').stdout;
    for (const env of ['rust-builder', 'arch-builder', 'static-base']) {
      const lock = JSON.parse(readFileSync(join(b.root, 'packages/core/envs', env, 'env.lock.json'), 'utf8'));
      assert.ok(ids.includes(lock.imageId), `${env} ${lock.imageId} in the second daemon`);
    }
  });

  it('builder A, on the shared daemon, rebuilds asdf and signs: all PASSED', () => {
    const result = a.reprokit('rebuild', MANIFEST, '--attest', '--key', 'builder-a.key', '--out', 'attestations', '--push-attestations', REGISTRY, '--builder-id', 'https://rebuilders.example/a');
    assert.equal(result.status, 0, result.output.slice(-4000));
    for (const path of artifacts) assert.match(result.output, new RegExp(`^PASSED packages/asdf/${path.replace(/[.]/g, '\\.')} `, 'm'));
  });

  it('builder C, whose result was tampered with, attests FAILED', () => {
    const result = c.reprokit('rebuild', MANIFEST, '--attest', '--key', join(a.root, 'builder-c.key'), '--out', att, '--push-attestations', REGISTRY, '--nx-target', 'elf', '--builder-id', 'https://rebuilders.example/c');
    assert.equal(result.status, 1, result.output.slice(-4000));
    assert.match(result.output, /^FAILED packages\/asdf\/dist\/asdf expected sha256:[0-9a-f]{64}, rebuilt sha256:[0-9a-f]{64}/m);
    // Besides the three builders' summaries, each signed the provenance of what it built.
    assert.equal(readdirSync(att).filter((file) => file.endsWith('.vsa.dsse.json')).length, artifacts.length * 3);
    assert.ok(readdirSync(att).filter((file) => file.endsWith('.intoto.dsse.json')).length >= artifacts.length * 2);
  });

  it('threshold 3 fails naming builder C; threshold 2 passes with a warning naming it', () => {
    const three = a.reprokit('verify', MANIFEST, '--attestations', 'attestations', '--trusted-keys', 'trusted', '--threshold', '3');
    assert.equal(three.status, 1, three.output);
    assert.match(three.output, /^NOT ATTESTED dist\/asdf sha256:[0-9a-f]{64}: 2 of 3 trusted builders PASSED, threshold 3 \(builder-a, builder-b\)$/m);
    // builder C rebuilt only the binary: it disagrees on that one with other bytes, on the rest with none.
    assert.match(three.output, /^ {2}builder-c: dist\/asdf FAILED: rebuilt sha256:[0-9a-f]{64}; dist\/asdf-image\.tar FAILED: rebuilt nothing; /m);
    assert.doesNotMatch(three.output, /^ {2}builder-[ab]:/m);
    const two = a.reprokit('verify', MANIFEST, '--attestations', 'attestations', '--trusted-keys', 'trusted', '--threshold', '2');
    assert.equal(two.status, 0, two.output);
    assert.match(two.output, new RegExp(`^${artifacts.length} of ${artifacts.length} artifacts attested by at least 2 of 3 trusted builders`, 'm'));
    assert.match(two.output, /^warning: 1 trusted builder disagrees \(the threshold is met without it\): builder-c$/m);
  });

  it('from the registry, each artifact found by its subject (the image by its manifest): the same verdicts as from the directory', () => {
    for (const threshold of ['2', '3']) {
      const fromDir = a.reprokit('verify', MANIFEST, '--attestations', 'attestations', '--trusted-keys', 'trusted', '--threshold', threshold);
      const fromRegistry = a.reprokit('verify', MANIFEST, '--attestations-from', REGISTRY, '--trusted-keys', 'trusted', '--threshold', threshold);
      assert.equal(fromRegistry.status, fromDir.status, fromRegistry.output);
      assert.equal(fromRegistry.stdout, fromDir.stdout);
      assert.equal(fromRegistry.stderr, fromDir.stderr);
    }
    // The image's summaries are listed under its manifest digest, as the repro-manifest records it.
    const image = (JSON.parse(a.read(MANIFEST)).artifacts as { kind: string; image?: { manifestDigest: string } }[]).find((artifact) => artifact.kind === 'oci')!;
    const tags = spawnSync('curl', ['-fsS', `http://${REGISTRY.replace('/', '/v2/')}/asdf/tags/list`], { encoding: 'utf8' });
    assert.ok(JSON.parse(tags.stdout).tags.includes(image.image!.manifestDigest.replace(':', '-')), tags.stdout);
  });
});
