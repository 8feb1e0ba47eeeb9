// Pinned environment images from the workspace's registries, with real parts: a private second
// dockerd of this test's own (empty: it lacks every builder image), the shared registry on
// 127.0.0.1:5000 (repositories p14-test-<pid>…, deleted afterwards) and static-base's real lock.
// The shared daemon is only used to push (its static-base image is read, never removed).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Docker from 'dockerode';
import { buildEnv } from '../env-build';
import { imageRegistries, IMAGE_REGISTRIES_ENV } from './image-registries';
import { envImageTag, pullPinnedImage } from './registry-pull';
import { prepareBuilder } from '../../build/container-build';
import { tempDir } from '../../testing/fixtures';
import { PrivateDockerd } from '../../testing/private-dockerd';
import { tokenRegistry } from '../../testing/token-registry';

const LOCK = join(__dirname, '..', '..', '..', 'envs', 'static-base', 'env.lock.json');
const IMAGE_ID = JSON.parse(readFileSync(LOCK, 'utf8')).imageId as string;
const CLI = join(__dirname, '..', '..', '..', 'bin', 'reprokit.js');
const REGISTRY = '127.0.0.1:5000';
const GOOD = `${REGISTRY}/p14-test-${process.pid}`;
const BAD = `${REGISTRY}/p14-test-${process.pid}-bad`;

function reprokit(args: string[], env: Record<string, string>) {
  const started = Date.now();
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, ms: Date.now() - started };
}

function docker(...args: string[]): string {
  const result = spawnSync('docker', args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

/** Deletes a manifest from the shared registry (it runs with deletion enabled), by digest. */
async function deleteManifest(repository: string, digest: string): Promise<void> {
  await fetch(`http://${REGISTRY}/v2/${repository}/manifests/${digest}`, { method: 'DELETE' }).catch(() => undefined);
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as { port: number };
  await new Promise((done) => server.close(done));
  return port;
}

describe('pinned images from the workspace registries', () => {
  const dir = tempDir('rk-p14-');
  const daemon = new PrivateDockerd(dir);
  let privateDocker: Docker;
  const pushed: { repository: string; digest: string }[] = [];
  let otherImage = '';

  before(async () => {
    writeFileSync(join(dir, 'daemon.json'), '{}\n');
    await daemon.start();
    const { default: DockerClient } = (await import('dockerode')) as unknown as { default: typeof Docker };
    privateDocker = new DockerClient({ socketPath: daemon.socket });
    // The team's way to put it there: reprokit env push (shared daemon, which has static-base).
    const push = reprokit(['env', 'push', LOCK, '--registry', GOOD], {});
    assert.equal(push.status, 0, push.stderr);
    const match = new RegExp(`^${GOOD}/reprokit/static-base@(sha256:[0-9a-f]{64})$`).exec(push.stdout.trim());
    assert.ok(match, push.stdout);
    pushed.push({ repository: `p14-test-${process.pid}/reprokit/static-base`, digest: match[1] });
    // Another image under the tag reprokit looks at first: a one-file image made here.
    const rootfs = join(dir, 'other');
    mkdirSync(rootfs);
    writeFileSync(join(rootfs, 'not-static-base'), 'x\n');
    const badRef = `${BAD}/reprokit/static-base:${envImageTag(IMAGE_ID)}`;
    const imported = spawnSync('bash', ['-o', 'pipefail', '-c', `tar -C "${rootfs}" -c . | docker import - "${badRef}"`], { encoding: 'utf8' });
    assert.equal(imported.status, 0, imported.stderr);
    otherImage = imported.stdout.trim();
    docker('push', badRef);
    const badDigest = docker('image', 'inspect', '--format', '{{index .RepoDigests 0}}', badRef).split('@')[1];
    pushed.push({ repository: `p14-test-${process.pid}-bad/reprokit/static-base`, digest: badDigest });
  });

  after(async () => {
    await daemon.stop();
    for (const { repository, digest } of pushed) await deleteManifest(repository, digest);
    // Only what this test made: the push's tag on the shared static-base (untag) and the imported image.
    spawnSync('docker', ['rmi', `${GOOD}/reprokit/static-base:${envImageTag(IMAGE_ID)}`], { stdio: 'ignore' });
    if (otherImage) spawnSync('docker', ['rmi', '-f', otherImage], { stdio: 'ignore' });
    rmSync(dir, { recursive: true, force: true });
  });

  const privateHas = () => spawnSync('docker', ['-H', daemon.host, 'image', 'inspect', '--format', '{{.Id}}', IMAGE_ID], { encoding: 'utf8' }).stdout.trim();
  const privateRemove = () => spawnSync('docker', ['-H', daemon.host, 'rmi', '-f', IMAGE_ID], { stdio: 'ignore' });

  it('a daemon that lacks the image pulls it from the registry instead of building it from the lock', () => {
    assert.equal(privateHas(), '', 'the private daemon starts without static-base');
    const run = reprokit(['env', 'build', LOCK, '--reuse'], { DOCKER_HOST: daemon.host, [IMAGE_REGISTRIES_ENV]: GOOD });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`^reprokit/static-base@${IMAGE_ID} \\(pulled from ${GOOD}/reprokit/static-base@sha256:[0-9a-f]{64}\\)\\n$`));
    // The lock build's steps (fetching .debs, unpacking, writing the layer, loading) never ran.
    assert.doesNotMatch(run.stderr, /unpacking packages|writing the layer|loading /, run.stderr);
    assert.equal(privateHas(), IMAGE_ID);
    // Tagged as a lock build would have, so `docker images` shows it the same way.
    assert.equal(docker('-H', daemon.host, 'image', 'inspect', '--format', '{{index .RepoTags 0}}', IMAGE_ID), `reprokit/static-base:${envImageTag(IMAGE_ID)}`);
  });

  it('a build (prepareBuilder, what every container build calls) pulls it too, from nx.json imageRegistries', async () => {
    privateRemove();
    const workspace = join(dir, 'ws');
    mkdirSync(workspace);
    writeFileSync(join(workspace, 'nx.json'), JSON.stringify({ plugins: [{ plugin: '@reprokit/nx', options: { imageRegistries: [GOOD] } }] }));
    const saved = { cwd: process.cwd(), env: process.env[IMAGE_REGISTRIES_ENV] };
    delete process.env[IMAGE_REGISTRIES_ENV];
    process.chdir(workspace);
    const lines: string[] = [];
    try {
      assert.deepEqual(await imageRegistries(), [GOOD]);
      const prepared = await prepareBuilder({ docker: privateDocker, image: `reprokit/static-base@${IMAGE_ID}`, envLock: LOCK, logPrefix: '[t] ', log: (line) => lines.push(line) });
      assert.equal(prepared.imageId, IMAGE_ID);
    } finally {
      process.chdir(saved.cwd);
      if (saved.env !== undefined) process.env[IMAGE_REGISTRIES_ENV] = saved.env;
    }
    assert.ok(lines.some((line) => line.startsWith(`[t] env: pulled ${IMAGE_ID} from ${GOOD}/`)), lines.join('\n'));
    assert.ok(!lines.some((line) => /unpacking packages|writing the layer/.test(line)), lines.join('\n'));
  });

  it('another image under the tag is refused: env pull exits 2 with one line, a build falls back to the lock', () => {
    privateRemove();
    const pull = reprokit(['env', 'pull', LOCK, '--registry', BAD], { DOCKER_HOST: daemon.host });
    assert.equal(pull.status, 2, pull.stderr);
    const errors = pull.stderr.split('\n').filter((line) => line && !line.startsWith('[env] '));
    assert.equal(errors.length, 1, pull.stderr);
    assert.match(errors[0], new RegExp(`^reprokit: .*static-base/env\\.lock\\.json: no registry gave image ${IMAGE_ID} \\(${BAD}/reprokit/static-base:${envImageTag(IMAGE_ID)}: holds image sha256:[0-9a-f]{64}, not the pinned ${IMAGE_ID}: refused; .*\\): push it with`));
    assert.equal(privateHas(), '', 'the wrong image was not pulled');

    const build = reprokit(['env', 'build', LOCK, '--reuse'], { DOCKER_HOST: daemon.host, [IMAGE_REGISTRIES_ENV]: BAD });
    assert.equal(build.status, 0, build.stderr);
    assert.match(build.stderr, /holds image sha256:[0-9a-f]{64}, not the pinned .*: refused/);
    assert.match(build.stderr, new RegExp(`building ${IMAGE_ID} from .* instead`));
    assert.match(build.stderr, /writing the layer/, 'the lock build ran');
    assert.equal(build.stdout, `reprokit/static-base@${IMAGE_ID}\n`);
    assert.equal(privateHas(), IMAGE_ID);
  });

  it('a registry that wants a token: the manifest search and the docker pull both go through the token flow', async () => {
    privateRemove();
    const front = tokenRegistry(`p14-test-${process.pid}/reprokit/static-base`);
    await new Promise<void>((done) => front.server.listen(0, '127.0.0.1', done));
    try {
      const entry = `127.0.0.1:${(front.server.address() as AddressInfo).port}/p14-test-${process.pid}`;
      const result = await pullPinnedImage(privateDocker, 'reprokit/static-base', IMAGE_ID, [entry]);
      assert.equal(result.imageId, IMAGE_ID, result.refused.join('\n'));
      assert.match(result.from!, new RegExp(`^${entry}/reprokit/static-base@sha256:[0-9a-f]{64}$`));
      assert.equal(privateHas(), IMAGE_ID);
      // Challenged first, then tokens asked for (reprokit's, then docker's), then only authorized requests got through.
      assert.equal(front.seen[0].status, 401);
      assert.ok(front.tokenRequests.length >= 2, `${front.tokenRequests.length} token requests`);
      assert.ok(front.seen.some((s) => s.status === 200 && s.path.includes('/blobs/')), 'docker fetched blobs through the front');
      assert.ok(front.seen.filter((s) => s.status !== 401).every((s) => s.authorization === `Bearer ${front.TOKEN}`));
    } finally {
      front.server.closeAllConnections();
      await new Promise((done) => front.server.close(done));
    }
  });

  it('a base image pinned by manifest digest (FROM name@sha256:<manifest>) comes from the listed registry, then from docker', async () => {
    privateRemove();
    const manifestDigest = pushed[0].digest;
    const pin = `reprokit/static-base@${manifestDigest}`;
    const saved = process.env[IMAGE_REGISTRIES_ENV];
    const prepare = async (registries: string) => {
      process.env[IMAGE_REGISTRIES_ENV] = registries;
      const lines: string[] = [];
      const prepared = await prepareBuilder({ docker: privateDocker, image: pin, logPrefix: '[t] ', log: (line) => lines.push(line) });
      return { imageId: prepared.imageId, lines };
    };
    try {
      // Not there, and no registry listed: the name names none either, so nothing can be pulled.
      process.env[IMAGE_REGISTRIES_ENV] = '';
      await assert.rejects(prepareBuilder({ docker: privateDocker, image: pin, logPrefix: '', log: () => {} }), /is not present and names no registry to pull it from/);
      const first = await prepare(GOOD);
      assert.equal(first.imageId, IMAGE_ID, first.lines.join('\n'));
      assert.ok(first.lines.includes(`[t] pulled ${IMAGE_ID} from ${GOOD}/reprokit/static-base@${manifestDigest}`), first.lines.join('\n'));
      assert.equal(privateHas(), IMAGE_ID);
      // Then docker has it under the mirror's name: found by its manifest digest, no registry asked.
      const again = await prepare(`127.0.0.1:${await closedPort()}`);
      assert.equal(again.imageId, IMAGE_ID);
      assert.deepEqual(again.lines, []);
    } finally {
      if (saved === undefined) delete process.env[IMAGE_REGISTRIES_ENV];
      else process.env[IMAGE_REGISTRIES_ENV] = saved;
    }
  });

  it('a registry that is down: one line, exit 2, and the pull gives up within 2 s', async () => {
    privateRemove();
    const down = `127.0.0.1:${await closedPort()}`;
    const started = Date.now();
    const result = await pullPinnedImage(privateDocker, 'reprokit/static-base', IMAGE_ID, [down]);
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    assert.equal(result.imageId, undefined);
    // The pin is asked for first as a manifest digest, which is where an unreachable registry shows.
    assert.match(result.refused.join('\n'), new RegExp(`^${down}/reprokit/static-base: http://${down}/v2/reprokit/static-base/manifests/${IMAGE_ID}: .*refused`));
    const pull = reprokit(['env', 'pull', LOCK, '--registry', down], { DOCKER_HOST: daemon.host });
    assert.equal(pull.status, 2, pull.stderr);
    assert.equal(pull.stderr.split('\n').filter(Boolean).length, 1, pull.stderr);
    assert.match(pull.stderr, new RegExp(`^reprokit: .*no registry gave image ${IMAGE_ID} \\(${down}/reprokit/static-base: .*\\): push it with`));
  });

  it('docker down: one line, exit 2, within 2 s', async () => {
    const gone = `unix://${join(dir, 'no-daemon.sock')}`;
    const saved = process.env.DOCKER_HOST;
    process.env.DOCKER_HOST = gone;
    const started = Date.now();
    try {
      await assert.rejects(buildEnv(LOCK, { reuse: true, registries: [GOOD] }), /cannot reach the Docker daemon at unix:\/\/.*no-daemon\.sock/);
    } finally {
      if (saved === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = saved;
    }
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    const pull = reprokit(['env', 'pull', LOCK], { DOCKER_HOST: gone, [IMAGE_REGISTRIES_ENV]: GOOD });
    assert.equal(pull.status, 2, pull.stderr);
    assert.equal(pull.stderr.split('\n').filter(Boolean).length, 1, pull.stderr);
    assert.match(pull.stderr, /^reprokit: cannot reach the Docker daemon at unix:\/\/.*no-daemon\.sock/);
  });

  it('registry settings are checked: a bad entry names where it came from', async () => {
    const saved = process.env[IMAGE_REGISTRIES_ENV];
    process.env[IMAGE_REGISTRIES_ENV] = `${GOOD}, http://x`;
    try {
      await assert.rejects(imageRegistries(), new RegExp(`^UserError: ${IMAGE_REGISTRIES_ENV}: "http://x" is not a registry`));
      process.env[IMAGE_REGISTRIES_ENV] = '';
      assert.deepEqual(await imageRegistries(), []);
    } finally {
      if (saved === undefined) delete process.env[IMAGE_REGISTRIES_ENV];
      else process.env[IMAGE_REGISTRIES_ENV] = saved;
    }
  });
});
