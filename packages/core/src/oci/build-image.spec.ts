import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, cpSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { imageConfigBytes, sha256Digest } from '../env/oci-config';
import { TarWriter } from '../archive/tar-writer';
import { importDockerArchive } from './base-image';
import { buildImageArtifact } from './image-artifact';
import { writeDockerArchive, type LayerFile } from './layout/image-files';
import { validateOciLayout } from './layout/validate-layout';

// Real docker: the image is loaded and docker's image ID compared with the computed one.
describe('buildImageArtifact (docker)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reprokit-oci-'));
  const tag = `reprokit-test/scratch:${process.pid}`;
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    execFileSync('docker', ['image', 'rm', '--force', tag], { stdio: 'ignore' });
  });
  const context = join(dir, 'context');
  mkdirSync(context);
  writeFileSync(join(context, 'Dockerfile'), 'FROM scratch\nCOPY hello.txt /srv/\nLABEL org.opencontainers.image.title=test\nCMD ["/srv/hello.txt"]\n');
  const build = (name: string) =>
    buildImageArtifact({
      dockerfile: join(context, 'Dockerfile'),
      context,
      sourceDateEpoch: 1700000000,
      workDir: join(dir, `work-${name}`),
      name: 'test-image',
      outputDir: join(dir, `out-${name}`),
      tag,
      validate: true,
      logPrefix: '',
      log: () => {},
    });

  it('gives the same image ID and manifest digest from two clean builds; one changed byte changes both', async () => {
    writeFileSync(join(context, 'hello.txt'), 'hello\n');
    const first = await build('one');
    const second = await build('two');
    assert.equal(second.image.id, first.image.id);
    assert.equal(second.image.manifestDigest, first.image.manifestDigest);
    assert.deepEqual(readFileSync(second.file), readFileSync(first.file), 'the docker-archives are identical');
    writeFileSync(join(context, 'hello.txt'), 'hellp\n');
    const changed = await build('three');
    assert.notEqual(changed.image.id, first.image.id);
    assert.notEqual(changed.image.manifestDigest, first.image.manifestDigest);
    await validateOciLayout(changed.layout);
  });

  it('writes a config with the epoch, the instructions and no builder noise', async () => {
    writeFileSync(join(context, 'hello.txt'), 'hello\n');
    const { layout, image } = await build('config');
    const config = JSON.parse(readFileSync(join(layout, 'blobs', 'sha256', image.id.slice(7)), 'utf8'));
    assert.deepEqual(config, {
      architecture: 'amd64',
      config: { Cmd: ['/srv/hello.txt'], Labels: { 'org.opencontainers.image.title': 'test' } },
      created: '2023-11-14T22:13:20Z',
      history: [
        { created: '2023-11-14T22:13:20Z', created_by: 'COPY hello.txt /srv/' },
        { created: '2023-11-14T22:13:20Z', created_by: 'LABEL org.opencontainers.image.title=test', empty_layer: true },
        { created: '2023-11-14T22:13:20Z', created_by: 'CMD ["/srv/hello.txt"]', empty_layer: true },
      ],
      os: 'linux',
      rootfs: { type: 'layers', diff_ids: image.diffIds },
    });
  });

  it('validateOciLayout names the file and JSON path of what is wrong', async () => {
    writeFileSync(join(context, 'hello.txt'), 'hello\n');
    const { layout, image } = await build('validate');
    const tampered = async (name: string, change: (copy: string) => void, message: RegExp) => {
      const copy = join(dir, name);
      cpSync(layout, copy, { recursive: true });
      change(copy);
      await assert.rejects(validateOciLayout(copy), { message }, name);
    };
    const index = (copy: string) => join(copy, 'index.json');
    await tampered('size', (c) => writeFileSync(index(c), readFileSync(index(c), 'utf8').replace(/"size":\d+/, '"size":3')), /index\.json: \/manifests\/0\/size: 3, but the blob has \d+ bytes/);
    await tampered('missing', (c) => unlinkSync(join(c, 'blobs', 'sha256', image.diffIds[0].slice(7))), /: \/layers\/0: blob sha256:[0-9a-f]{64} is missing/);
    await tampered('digest', (c) => writeFileSync(join(c, 'blobs', 'sha256', image.id.slice(7)), readFileSync(join(c, 'blobs', 'sha256', image.id.slice(7)), 'utf8').replace('amd64', 'arm64')), /blobs\/sha256\/[0-9a-f]{64}: hashes to sha256:[0-9a-f]{64}, not its name/);
    await tampered('schema', (c) => writeFileSync(index(c), readFileSync(index(c), 'utf8').replace('"schemaVersion":2', '"schemaVersion":3')), /index\.json: index: \$\.schemaVersion: must be <= 2/);
  });
});

describe('importDockerArchive', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reprokit-base-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const layer = (name: string, content: string): LayerFile => {
    const path = join(dir, name);
    const fd = openSync(path, 'w');
    const tar = new TarWriter(fd, 0);
    tar.buffer('etc/hello', Buffer.from(content), { mode: 0o644, uid: 0, gid: 0 });
    const { size, sha256 } = tar.finish();
    closeSync(fd);
    return { path, diffId: `sha256:${sha256}`, size };
  };
  const config = (diffIds: string[]) => imageConfigBytes({ architecture: 'amd64', env: {}, user: '1000:1000', diffIds, createdBy: 'test', created: 0 });

  it('accepts an archive whose config and layers hash to their digests', async () => {
    const good = layer('good.tar', 'good');
    const bytes = config([good.diffId]);
    writeDockerArchive(join(dir, 'good-image.tar'), bytes, [good], 'x:y');
    const base = await importDockerArchive(join(dir, 'good-image.tar'), sha256Digest(bytes), join(dir, 'x1'));
    assert.deepEqual([base.layers.map((l) => l.diffId), base.view.get('etc/hello')?.type, base.view.get('etc')], [[good.diffId], 'file', undefined]);
  });

  it('refuses a layer whose blob does not match its diffID, and a config that is not the pinned image', async () => {
    const good = layer('good.tar', 'good');
    const evil = layer('evil.tar', 'evil');
    const bytes = config([good.diffId]);
    // The config names the good layer; the archive carries another one under its name.
    writeDockerArchive(join(dir, 'evil-image.tar'), bytes, [{ ...evil, diffId: good.diffId }], 'x:y');
    await assert.rejects(importDockerArchive(join(dir, 'evil-image.tar'), sha256Digest(bytes), join(dir, 'x2')), {
      message: new RegExp(`evil-image\\.tar: layer ${good.diffId.slice(7)}/layer\\.tar hashes to ${evil.diffId}, not ${good.diffId}`),
    });
    writeDockerArchive(join(dir, 'other-image.tar'), bytes, [good], 'x:y');
    await assert.rejects(importDockerArchive(join(dir, 'other-image.tar'), 'sha256:' + '0'.repeat(64), join(dir, 'x3')), {
      message: /other-image\.tar: the image config hashes to sha256:[0-9a-f]{64}, not the pinned sha256:0{64}: refusing the base image/,
    });
  });
});
