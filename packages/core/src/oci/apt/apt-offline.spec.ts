// The done-when, against the real daemon and Debian's archive: a Dockerfile FROM
// reprokit/debian-base that runs `apt-get update && apt-get install -y --no-install-recommends jq`
// is locked with `reprokit oci lock`, then built twice with no network to the same image ID.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tarEntries } from '../../archive/tar-reader';
import { connectDocker } from '../../docker/docker';
import { buildOciImage } from '../build-image';
import { buildImageArtifact } from '../image-artifact';
import { readDockerfileLock } from './dockerfile-lock';
import { lockDockerfile } from './oci-lock';

const ENVS = join(__dirname, '..', '..', '..', 'envs');
const DEBIAN_LOCK = join(ENVS, 'debian-base', 'env.lock.json');
const DEBIAN_BASE = `reprokit/debian-base@${(JSON.parse(readFileSync(DEBIAN_LOCK, 'utf8')) as { imageId: string }).imageId}`;

describe('apt-get install in RUN, locked and offline (docker)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reprokit-apt-offline-'));
  const context = join(dir, 'context');
  mkdirSync(context);
  const dockerfile = join(context, 'Dockerfile');
  const tag = `reprokit-test/apt-offline:${process.pid}`;
  const dockerTag = `reprokit-test/apt-offline-docker:${process.pid}`;
  const baseTag = `reprokit-test/apt-offline-base:${process.pid}`;
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    spawnSync('docker', ['image', 'rm', '--force', tag, dockerTag, baseTag], { stdio: 'ignore' });
  });
  const build = (name: string) =>
    buildImageArtifact({ dockerfile, context, sourceDateEpoch: 1700000000, workDir: join(dir, `work-${name}`), name: 'apt-offline', outputDir: join(dir, `out-${name}`), tag, envLocks: [DEBIAN_LOCK], logPrefix: '', log: () => {} });

  it('locks the install against the base image, builds offline twice to one image ID whose layer holds exactly the packages', async () => {
    // The second install has no apt-get update of its own (it ran in an earlier RUN, as people write it).
    writeFileSync(dockerfile, `FROM ${DEBIAN_BASE}\nARG FLAGS=--no-install-recommends\nRUN apt-get update && apt-get install -y $FLAGS \\\n      jq\nRUN apt-get install -y --no-install-recommends xz-utils\n`);
    const { lock } = await lockDockerfile(await connectDocker(), dockerfile, { envLocks: [DEBIAN_LOCK] });
    assert.deepEqual(lock.suites, ['bookworm']);
    assert.equal(lock.installs.length, 2);
    assert.deepEqual(lock.installs[1].packages.map((p) => p.name), ['xz-utils']);
    assert.equal(lock.installs[0].line, 3);
    assert.equal(lock.installs[0].command, 'apt-get install -y --no-install-recommends jq');
    assert.equal(lock.installs[0].base, DEBIAN_BASE);
    // jq and the two libraries it needs; nothing the base already has.
    assert.deepEqual(lock.installs[0].packages.map((p) => p.name), ['jq', 'libjq1', 'libonig5']);
    assert.deepEqual(await readDockerfileLock(`${dockerfile}.lock.json`), lock);

    const first = await build('a');
    const docker = await connectDocker();
    const second = await buildOciImage(docker, { dockerfile, context, sourceDateEpoch: 1700000000, workDir: join(dir, 'work-b'), envLocks: [DEBIAN_LOCK], logPrefix: '', log: () => {} });
    assert.equal(second.imageId, first.image.id);
    assert.equal(execFileSync('docker', ['run', '--rm', '--network', 'none', tag, 'jq', '-n', '1+1'], { encoding: 'utf8' }).trim(), '2');
    assert.match(execFileSync('docker', ['run', '--rm', '--network', 'none', tag, 'xz', '--version'], { encoding: 'utf8' }), /^xz \(XZ Utils\)/);
    const layer = second.layers.at(-2)!;
    const paths = [...tarEntries(layer.path, 'layer')].map((entry) => entry.path);
    assert.ok(paths.includes('usr/bin/jq'));
    assert.ok(paths.includes('var/lib/dpkg/status'));
    // What apt and dpkg leave besides the packages is not in the layer, nor the offline repository and config.
    const leftovers = paths.filter((path) => /^(var\/lib\/apt\/lists\/.|var\/cache\/apt\/.|var\/log\/(dpkg|apt|alternatives)|var\/lib\/dpkg\/[^/]+-old$|var\/cache\/debconf\/[^/]+-old$|var\/cache\/ldconfig\/aux-cache$|var\/lib\/reprokit-apt|etc\/apt\/sources\.list$|etc\/apt\/apt\.conf\.d\/99reprokit)/.test(path));
    assert.deepEqual(leftovers, []);
    const installed = execFileSync('docker', ['run', '--rm', '--network', 'none', tag, 'dpkg-query', '-W', '-f', '${Package}=${Version}\\n', 'jq', 'libjq1', 'libonig5'], { encoding: 'utf8' }).trim().split('\n');
    assert.deepEqual(installed, lock.installs[0].packages.map((p) => `${p.name}=${p.version}`));
  });

  it('refuses an install the lock does not cover with Dockerfile:LINE and the command to run, before running anything', async () => {
    writeFileSync(dockerfile, `FROM ${DEBIAN_BASE}\nARG FLAGS=--no-install-recommends\nRUN apt-get update && apt-get install -y $FLAGS \\\n      jq\nRUN apt-get install -y make\n`);
    await assert.rejects(build('c'), (error: Error) => {
      assert.equal(error.name, 'UserError');
      assert.match(error.message, /Dockerfile:5: RUN apt-get install -y make: not in Dockerfile\.lock\.json \(it locks `apt-get install -y --no-install-recommends xz-utils` there\): run `reprokit oci lock .*Dockerfile`$/);
      return true;
    });
    // A lock whose package bytes differ is refused before the RUN: the sha256 is checked.
    writeFileSync(dockerfile, `FROM ${DEBIAN_BASE}\nARG FLAGS=--no-install-recommends\nRUN apt-get update && apt-get install -y $FLAGS \\\n      jq\n`);
    const lock = JSON.parse(readFileSync(`${dockerfile}.lock.json`, 'utf8'));
    lock.installs[0].packages[0].sha256 = '0'.repeat(64);
    writeFileSync(`${dockerfile}.lock.json`, JSON.stringify(lock));
    await assert.rejects(build('d'), /Dockerfile\.lock\.json: jq .*but the lock says 0{64}: refusing to build/);
  });

  it('a RUN that runs apt-get update or clean and installs nothing succeeds offline, as under docker build, and a later RUN still installs', async () => {
    // williamayerst/multistagebuildtest's RUN apt-get update alone failed with `E: setgroups 65534 failed`.
    const runs = ['RUN apt-get update', 'RUN apt-get install -y --no-install-recommends jq', 'RUN apt-get clean && apt-get update && rm -rf /var/lib/apt/lists/*'];
    writeFileSync(dockerfile, `FROM ${DEBIAN_BASE}\n${runs.join('\n')}\n`);
    const { lock } = await lockDockerfile(await connectDocker(), dockerfile, { envLocks: [DEBIAN_LOCK] });
    assert.deepEqual(lock.installs.map((install) => install.line), [3]);
    await build('e');
    assert.equal(execFileSync('docker', ['run', '--rm', '--network', 'none', tag, 'jq', '-n', '1+1'], { encoding: 'utf8' }).trim(), '2');
    // What apt-get update leaves (lists of the offline repository, caches) is in no layer.
    assert.equal(execFileSync('docker', ['run', '--rm', '--network', 'none', tag, 'find', '/', '-xdev', '-path', '/var/lib/apt/lists/*', '-o', '-path', '/var/cache/apt/*', '-o', '-path', '/var/lib/reprokit-apt*'], { encoding: 'utf8' }), '');
    // docker build runs the same RUNs (but the install, which needs a network it does not have) with success too.
    execFileSync('docker', ['tag', DEBIAN_BASE.replace(/^.*@/, ''), baseTag]);
    writeFileSync(dockerfile, `FROM ${baseTag}\n${runs[0]}\n${runs[2]}\n`);
    const theirs = spawnSync('docker', ['build', '--network', 'none', '--quiet', '-t', dockerTag, context], { encoding: 'utf8' });
    assert.equal(theirs.status, 0, theirs.stderr);
  });
});
