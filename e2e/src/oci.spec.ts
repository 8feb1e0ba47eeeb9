import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TempWorkspace } from './workspace';

const docker = (...args: string[]) => spawnSync('docker', args, { encoding: 'utf8' });

// Issue 5's journey: asdf's two-stage Dockerfile through real nx, real docker and the local registry.
describe('nx run asdf:oci in a temp workspace', () => {
  const ws = new TempWorkspace();
  const recorded = () => JSON.parse(ws.read('packages/asdf/repro-manifest.json')).artifacts.find((a: { kind: string }) => a.kind === 'oci');
  const clean = () => {
    for (const dir of ['packages/asdf/dist', 'packages/asdf/target']) rmSync(join(ws.root, dir), { recursive: true, force: true });
  };

  it('builds the image the committed manifest records; docker runs it without network', () => {
    const { id, manifestDigest } = recorded().image;
    docker('image', 'rm', '--force', id);
    const { status, output } = ws.nx('run', 'asdf:oci', '--skip-nx-cache');
    assert.equal(status, 0, output);
    assert.ok(output.includes(`image ${id}, manifest ${manifestDigest}`), output);
    assert.match(output, /\[asdf:oci\] packages\/asdf\/Dockerfile:\d+: RUN cargo build/);
    assert.equal(docker('image', 'inspect', '--format', '{{.Id}}', 'asdf:latest').stdout.trim(), id);
    const run = docker('run', '--rm', '--network', 'none', id);
    assert.equal(run.stdout, 'Hello, world!\n', run.stderr);
  });

  it('builds the same image ID and manifest digest again from a clean state', () => {
    const { id, manifestDigest } = recorded().image;
    clean();
    docker('image', 'rm', '--force', id);
    const { status, output } = ws.nx('run', 'asdf:oci', '--skip-nx-cache');
    assert.equal(status, 0, output);
    assert.ok(output.includes(`image ${id}, manifest ${manifestDigest}`), output);
    const index = JSON.parse(ws.read('packages/asdf/dist/asdf-image.oci/index.json'));
    assert.equal(index.manifests[0].digest, manifestDigest);
  });

  it('checksum verifies the image from its layout and from docker, loading it when docker lacks it', () => {
    const checksum = ws.nx('run', 'asdf:checksum');
    assert.equal(checksum.status, 0, checksum.output);
    docker('image', 'rm', '--force', recorded().image.id);
    const { status, output } = ws.reprokit('verify', 'packages/asdf/repro-manifest.json');
    assert.equal(status, 0, output);
    assert.match(output, /^asdf-image\s+oci\s+MATCH/m);
    assert.equal(docker('image', 'inspect', '--format', '{{.Id}}', recorded().image.id).status, 0);
  });

  it('a layout whose manifest was changed is a mismatch that says why', () => {
    const layout = 'packages/asdf/dist/asdf-image.oci';
    const index = ws.read(`${layout}/index.json`);
    ws.write(`${layout}/index.json`, index.replace(/"size":\d+/, '"size":1'));
    const { status, output } = ws.reprokit('verify', 'packages/asdf/repro-manifest.json');
    assert.equal(status, 1, output);
    assert.match(output, /^asdf-image: image: .*size/m);
    ws.write(`${layout}/index.json`, index);
  });

  it('pushing the same build twice gives the same manifest digest, and docker pulls it by that digest', () => {
    const { id, manifestDigest } = recorded().image;
    const repository = `127.0.0.1:5000/reprokit/asdf-e2e-${process.pid}`;
    for (let i = 0; i < 2; i++) {
      const { status, output } = ws.nx('run', 'asdf:oci', '--skip-nx-cache', `--push=${repository}`);
      assert.equal(status, 0, output);
      assert.ok(output.includes(`pushed ${repository}@${manifestDigest}`), output);
    }
    docker('image', 'rm', '--force', id);
    const pull = docker('pull', `${repository}@${manifestDigest}`);
    assert.equal(pull.status, 0, pull.stderr);
    assert.equal(docker('image', 'inspect', '--format', '{{.Id}}', `${repository}@${manifestDigest}`).stdout.trim(), id);
  });

  it('a changed byte in the program gives another image ID', () => {
    const main = ws.read('packages/asdf/src/main.rs');
    ws.write('packages/asdf/src/main.rs', main.replace('Hello, world!', 'Hello, world?'));
    const { status, output } = ws.nx('run', 'asdf:oci');
    assert.equal(status, 0, output);
    const id = /image (sha256:[0-9a-f]{64})/.exec(output)?.[1];
    assert.ok(id && id !== recorded().image.id, output);
    assert.equal(execFileSync('docker', ['run', '--rm', '--network', 'none', id], { encoding: 'utf8' }), 'Hello, world?\n');
    ws.write('packages/asdf/src/main.rs', main);
  });

  it('refuses an unpinned FROM with the Dockerfile line, in one line', () => {
    const dockerfile = ws.read('packages/asdf/Dockerfile');
    ws.write('packages/asdf/Dockerfile', dockerfile.replace(/^FROM reprokit\/static-base@sha256:[0-9a-f]{64}$/m, 'FROM debian:bookworm-slim'));
    const line = ws.read('packages/asdf/Dockerfile').split('\n').indexOf('FROM debian:bookworm-slim') + 1;
    const { status, output } = ws.nx('run', 'asdf:oci');
    assert.notEqual(status, 0, output);
    assert.ok(output.includes(`packages/asdf/Dockerfile:${line}: FROM debian:bookworm-slim: the image is not pinned by digest`), output);
    assert.doesNotMatch(output, /^\s+at .*:\d+:\d+\)?$/m);
    ws.write('packages/asdf/Dockerfile', dockerfile);
  });
});
