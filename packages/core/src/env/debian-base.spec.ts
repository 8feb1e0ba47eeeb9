// reprokit/debian-base, built from its committed lock against the real daemon, compared with the
// official debian:bookworm-slim's published package list (test-fixtures/debian/README.md).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readBuildEnvLock } from './build-env';
import { connectDocker } from '../docker/docker';
import { buildEnv } from './env-build';
import { buildEnvImage } from './env-image';

const LOCK = join(__dirname, '..', '..', 'envs', 'debian-base', 'env.lock.json');
const OFFICIAL = join(__dirname, '..', '..', 'test-fixtures', 'debian', 'bookworm-slim.rootfs.manifest');

/** Runs a script in a fresh container of the image with no network; its stdout. */
function inImage(image: string, script: string): string {
  const result = spawnSync('docker', ['run', '--rm', '--network', 'none', image, 'sh', '-c', script], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout;
}

describe('reprokit/debian-base (docker)', () => {
  it('gives its recorded image ID when built again from nothing, twice: maintainer scripts run once, the result normalized', async () => {
    const lock = await readBuildEnvLock(LOCK);
    assert.ok(lock.imageId && lock.maintainerScripts);
    const docker = await connectDocker();
    await docker.getImage(lock.imageId).remove({ force: true }).catch(() => undefined);
    const rebuilt = await buildEnv(LOCK, {}, docker);
    assert.equal(rebuilt.imageId, lock.imageId);
    const again = await buildEnvImage(lock, LOCK, tmpdir(), { docker });
    assert.equal(again.imageId, lock.imageId);
  });

  it('holds the package set of debian:bookworm-slim, every one installed (dpkg status complete), Debian 12 in os-release, apt and dpkg working offline', async () => {
    const lock = await readBuildEnvLock(LOCK);
    const image = lock.imageId!;
    await buildEnv(LOCK, { reuse: true });
    const official = readFileSync(OFFICIAL, 'utf8').trim().split('\n').map((line) => line.split('\t')[0].replace(/:.*$/, '')).sort();
    const installed = inImage(image, "dpkg-query -W -f '${db:Status-Abbrev} ${Package}\\n'").trim().split('\n').sort();
    assert.deepEqual(installed, official.map((name) => `ii  ${name}`));
    assert.deepEqual(lock.packages.map((p) => p.name).sort(), official);
    const osRelease = inImage(image, 'cat /etc/os-release');
    assert.match(osRelease, /^VERSION_ID="12"$/m);
    assert.match(osRelease, /^VERSION_CODENAME=bookworm$/m);
    // dpkg finds nothing half-installed; apt reads the status and its own state with no network.
    assert.equal(inImage(image, 'dpkg --audit && apt-get check -q >/dev/null && echo ok').trim(), 'ok');
    // Maintainer scripts ran: base-passwd's users, shadow's dates from SOURCE_DATE_EPOCH (2023-06-10 = day 19518).
    assert.match(inImage(image, 'getent passwd _apt; cat /etc/shadow'), /^_apt:x:42:65534:.*\n[^]*^root:\*:19518:/m);
    // Normalized: no logs of the install, no database backups, no ldconfig aux cache.
    assert.equal(inImage(image, 'ls /var/log/dpkg.log /var/log/apt /var/lib/dpkg/status-old /var/cache/debconf/config.dat-old /var/cache/ldconfig/aux-cache 2>/dev/null; true'), '');
  });
});
