// Builds of the committed rust-builder lock against the real daemon and Debian's archive.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readBuildEnvLock } from './build-env';
import { connectDocker } from '../docker/docker';
import { buildEnv } from './env-build';
import { buildEnvImage } from './env-image';
import { hashFile } from '../hash';
import { readManifest } from '../manifest/manifest';
import { buildRustBinaryInContainer } from '../build/rust-container-build';
import { tempDir } from '../testing/fixtures';

const repo = join(__dirname, '..', '..', '..', '..');
const LOCK = join(__dirname, '..', '..', 'envs', 'rust-builder', 'env.lock.json');

describe('reprokit env build', () => {
  it('refuses a lock with one altered sha256 before building anything', async () => {
    const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
    const victim = lock.packages.find((p: { name: string }) => p.name === 'dash');
    const original: string = victim.sha256;
    victim.sha256 = (original[0] === 'f' ? '0' : 'f') + original.slice(1);
    const altered = join(tempDir(), 'env.lock.json');
    writeFileSync(altered, JSON.stringify(lock, null, 2));
    const docker = await connectDocker();
    const imagesBefore = (await docker.listImages()).length;
    await assert.rejects(buildEnv(altered, {}, docker), {
      name: 'UserError',
      // The first source after the cache: the archive of the suite the lock records.
      message: `${altered}: dash ${victim.version}: http://deb.debian.org/debian/${victim.filename} has sha256 ${original} but the lock says ${victim.sha256}: refusing to build`,
    });
    assert.equal((await docker.listImages()).length, imagesBefore);
  });

  it('gives the recorded image ID again after the image is removed, and on a second build', async () => {
    const lock = await readBuildEnvLock(LOCK);
    assert.ok(lock.imageId, 'the committed lock records its image ID');
    const docker = await connectDocker();
    await docker.getImage(lock.imageId).remove({ force: true }).catch(() => undefined);
    const rebuilt = await buildEnv(LOCK, {}, docker);
    assert.equal(rebuilt.imageId, lock.imageId);
    assert.equal(rebuilt.reused, false);
    assert.equal((await docker.getImage(lock.imageId).inspect()).Id, lock.imageId);
    const again = await buildEnvImage(lock, LOCK, tmpdir());
    assert.equal(again.imageId, lock.imageId);
  });
});

describe('asdf built in the rust-builder container', () => {
  it('gives the same binary in two fresh containers, the one the manifest records', async () => {
    const project = join(repo, 'packages', 'asdf');
    const manifest = await readManifest(join(project, 'repro-manifest.json'));
    const lock = await readBuildEnvLock(LOCK);
    const hashes = [];
    for (const outputDir of [tempDir(), tempDir()]) {
      const result = await buildRustBinaryInContainer({
        projectDir: project,
        binary: 'asdf',
        image: `reprokit/rust-builder@${lock.imageId}`,
        envLock: LOCK,
        target: 'x86_64-unknown-linux-gnu',
        outputDir,
        sourceDateEpoch: 1,
        logPrefix: '[test] ',
        log: () => {},
      });
      hashes.push((await hashFile(result.file, ['blake2b512'])).digests.blake2b512);
    }
    assert.equal(hashes[0], hashes[1]);
    assert.equal(hashes[0], manifest.artifacts.find((a) => a.name === 'asdf')!.blake2b512);
  });
});
