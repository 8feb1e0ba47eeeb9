// Tests against the real Docker daemon that tools/setup starts. They fail, never skip, without it.
import assert from 'node:assert/strict';
import { chmodSync, closeSync, mkdirSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Docker from 'dockerode';
import { readBuildEnvLock } from '../env/build-env';
import { connectDocker, ensureImage, loadDockerArchive, parsePinnedImageRef, pushImage, runInContainer } from './docker';
import { writeDockerArchive } from '../oci/layout/image-files';
import { imageConfigBytes, sha256Digest } from '../env/oci-config';
import { TarWriter } from '../archive/tar-writer';
import { tempDir } from '../testing/fixtures';

const LOCK = join(__dirname, '..', '..', 'envs', 'rust-builder', 'env.lock.json');

async function withDockerHost<T>(host: string, body: () => Promise<T>): Promise<T> {
  const saved = process.env.DOCKER_HOST;
  process.env.DOCKER_HOST = host;
  try {
    return await body();
  } finally {
    if (saved === undefined) delete process.env.DOCKER_HOST;
    else process.env.DOCKER_HOST = saved;
  }
}

describe('connectDocker', () => {
  it('names the socket and how to start the daemon when nothing listens, within 2 s', async () => {
    const started = Date.now();
    await withDockerHost('unix:///tmp/reprokit-no-such-docker.sock', () =>
      assert.rejects(connectDocker(), {
        name: 'UserError',
        message: /^cannot reach the Docker daemon at unix:\/\/\/tmp\/reprokit-no-such-docker\.sock \(ENOENT\): start it with `bash tools\/setup`/,
      }),
    );
    assert.ok(Date.now() - started < 2000);
  });

  it('gives up on a daemon that accepts but never answers after 2 s', async () => {
    const socket = join(tempDir(), 'silent.sock');
    const server = createServer(() => {}).listen(socket);
    await new Promise((ready) => server.once('listening', ready));
    const started = Date.now();
    try {
      await withDockerHost(`unix://${socket}`, () => assert.rejects(connectDocker(), { message: /no answer within 2000 ms/ }));
      const elapsed = Date.now() - started;
      assert.ok(elapsed >= 1900 && elapsed < 3000, `took ${elapsed} ms`);
    } finally {
      server.close();
    }
  });
});

describe('pinned image references', () => {
  it('refuses a tag-only reference, naming the rule', async () => {
    assert.throws(() => parsePinnedImageRef('rust:1.54-alpine'), { message: /^image "rust:1\.54-alpine" is not pinned by digest \(rule docker-image-digest/ });
    assert.throws(() => parsePinnedImageRef('rust@sha256:abc'), { name: 'UserError' });
    const docker = await connectDocker();
    await assert.rejects(ensureImage(docker, 'reprokit/rust-builder:latest'), { message: /not pinned by digest/ });
  });

  it('accepts name@sha256 and splits it', () => {
    const digest = 'sha256:' + 'a'.repeat(64);
    assert.deepEqual(parsePinnedImageRef(`127.0.0.1:5000/x/y@${digest}`), { name: '127.0.0.1:5000/x/y', digest });
  });
});

describe('containers (real daemon, rust-builder image)', () => {
  let docker: Docker;
  let image: string;
  before(async () => {
    docker = await connectDocker();
    const lock = await readBuildEnvLock(LOCK);
    image = await ensureImage(docker, `reprokit/rust-builder@${lock.imageId}`);
  });

  const capture = async (cmd: string[]) => {
    const lines: string[] = [];
    await runInContainer(docker, { image, cmd, user: '1000:1000', env: {}, mounts: [], workdir: '/', logPrefix: '[t] ', log: (line) => lines.push(line) });
    return lines;
  };

  it('runs as a non-root user with the output streamed behind the prefix', async () => {
    assert.deepEqual(await capture(['id', '-u']), ['[t] 1000']);
  });

  it('has no network: only loopback, and the host registry on 127.0.0.1:5000 is out of reach', async () => {
    const host = await fetch('http://127.0.0.1:5000/v2/').then((r) => r.status, () => 0);
    assert.equal(host, 200, 'the registry must answer on the host (run tools/setup)');
    const lines = await capture([
      'bash',
      '-c',
      'n=0; while read -r line; do case $line in *:*) n=$((n+1));; esac; done < /proc/net/dev; echo $n; if exec 3<>/dev/tcp/127.0.0.1/5000; then echo connected; else echo refused; fi 2>/dev/null',
    ]);
    assert.equal(lines[0], '[t] 1', `interfaces: ${lines.join(' | ')}`);
    assert.equal(lines.at(-1), '[t] refused');
  });

  it('refuses to run as root', async () => {
    await assert.rejects(runInContainer(docker, { image, cmd: ['true'], user: '0:0', env: {}, mounts: [], workdir: '/', logPrefix: '' }), {
      message: 'refusing to build as root (user 0:0)',
    });
  });

  it('reports exit code and last lines of a failed command and leaves no container behind', async () => {
    const before = await docker.listContainers({ all: true });
    await assert.rejects(capture(['sh', '-c', 'echo first; echo boom >&2; exit 3']), (error: Error) => {
      assert.equal(error.name, 'UserError');
      const [head, ...last] = error.message.split('\n');
      assert.match(head, /^`sh -c echo first; echo boom >&2; exit 3` failed with exit 3 in sha256:[0-9a-f]{64}; last lines:$/);
      // stdout and stderr are two streams: their relative order is not kept.
      assert.deepEqual(last.sort(), ['  boom', '  first']);
      return true;
    });
    // Left behind = there now and not before; containers of earlier tests may still be going away
    // (the daemon removes build containers itself), so the counts alone can differ.
    const known = new Set(before.map((container) => container.Id));
    const after = await docker.listContainers({ all: true });
    assert.deepEqual(after.filter((container) => !known.has(container.Id)).map((container) => container.Names), []);
  });

  it('removes the container when the build is interrupted with Ctrl-C (SIGINT)', async () => {
    const script = `require(${JSON.stringify(join(__dirname, 'docker.js'))}).connectDocker().then((docker) =>
      require(${JSON.stringify(join(__dirname, 'docker.js'))}).runInContainer(docker, { image: ${JSON.stringify(image)},
        cmd: ['sh', '-c', 'echo started; sleep 60'], user: '1000:1000', env: {}, mounts: [], workdir: '/', logPrefix: '[sigint-test] ',
        log: (line) => console.log(line) }));`;
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((started) => child.stdout.on('data', (text: Buffer) => String(text).includes('started') && started()));
    const labelled = () => docker.listContainers({ all: true, filters: { label: ['dev.reprokit.run=[sigint-test]'] } });
    assert.equal((await labelled()).length, 1);
    child.kill('SIGINT');
    const signal = await new Promise((exit) => child.once('exit', (_code, signal) => exit(signal)));
    assert.equal(signal, 'SIGINT');
    assert.equal((await labelled()).length, 0);
  });

  it('mounts sources read-only and one directory writable', async () => {
    const src = tempDir();
    const out = tempDir();
    writeFileSync(join(src, 'input'), 'x');
    chmodSync(src, 0o755);
    chmodSync(out, 0o777);
    const lines: string[] = [];
    await runInContainer(docker, {
      image,
      cmd: ['sh', '-c', 'touch /src/new 2>/dev/null && echo src-writable; cp /src/input /out/copied && echo out-ok; touch /etc/x 2>/dev/null && echo root-writable; true'],
      user: '1000:1000',
      env: {},
      mounts: [
        { host: src, container: '/src', readOnly: true },
        { host: out, container: '/out', readOnly: false },
      ],
      workdir: '/',
      logPrefix: '',
      log: (line) => lines.push(line),
    });
    assert.deepEqual(lines, ['out-ok']);
  });
});

describe('registry round trip (127.0.0.1:5000)', () => {
  const dir = tempDir();
  let docker: Docker;
  let imageId: string;
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('pushes a tiny image and pulls it back by manifest digest alone', async () => {
    docker = await connectDocker();
    // A one-file image, unique to this run so the pull below really goes to the registry.
    const layerPath = join(dir, 'layer.tar');
    const fd = openSync(layerPath, 'w');
    const tar = new TarWriter(fd, 0);
    tar.buffer('hello.txt', Buffer.from(`hello ${Date.now()} ${process.pid}\n`), { mode: 0o644, uid: 0, gid: 0 });
    const layer = tar.finish();
    closeSync(fd);
    const config = imageConfigBytes({ architecture: 'amd64', env: {}, user: '1000:1000', diffIds: [`sha256:${layer.sha256}`], createdBy: 'test', created: 0 });
    imageId = sha256Digest(config);
    mkdirSync(join(dir, 'archive'));
    const archive = join(dir, 'archive', 'image.tar');
    writeDockerArchive(archive, config, [{ path: layerPath, diffId: `sha256:${layer.sha256}`, size: layer.size }], 'reprokit/test-tiny:x');
    await loadDockerArchive(docker, archive);
    const pushed = await pushImage(docker, imageId, '127.0.0.1:5000/reprokit/test-tiny', 'x');
    assert.match(pushed, /^127\.0\.0\.1:5000\/reprokit\/test-tiny@sha256:[0-9a-f]{64}$/);
    await docker.getImage(imageId).remove({ force: true });
    assert.equal(await ensureImage(docker, pushed), imageId);
    await docker.getImage(imageId).remove({ force: true });
  });
});
