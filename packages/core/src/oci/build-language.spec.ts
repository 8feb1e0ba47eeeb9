import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tarEntries } from '../archive/tar-reader';
import { buildImageArtifact } from './image-artifact';

// The Dockerfile forms of issue 16 through real docker: RUN in the final stage, heredocs, wildcards,
// RUN --mount, ADD of a local tar and of a checksummed URL (served on 127.0.0.1), SHELL, VOLUME,
// STOPSIGNAL, HEALTHCHECK. Each image is built twice from scratch and must get the same ID.
const ENVS = join(__dirname, '..', '..', 'envs');
const C_BUILDER = (JSON.parse(readFileSync(join(ENVS, 'c-builder', 'env.lock.json'), 'utf8')) as { imageId: string }).imageId;
const ENV_LOCKS = [join(ENVS, 'c-builder', 'env.lock.json')];

describe('Dockerfiles as people write them (docker)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reprokit-lang-'));
  const tags: string[] = [];
  const download = Buffer.from('downloaded bytes\n');
  let server: Server;
  let port = 0;
  before(async () => {
    server = createServer((request, response) => {
      if (request.url === '/files/tool.txt') response.end(download);
      else if (request.url === '/moved') response.writeHead(302, { location: '/files/tool.txt' }).end();
      else response.writeHead(404).end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    port = (server.address() as { port: number }).port;
  });
  after(() => {
    server.close();
    rmSync(dir, { recursive: true, force: true });
    for (const tag of tags) spawnSync('docker', ['image', 'rm', '--force', tag], { stdio: 'ignore' });
  });

  const build = (context: string, name: string) => {
    const tag = `reprokit-test/lang-${name}:${process.pid}`;
    tags.push(tag);
    return buildImageArtifact({
      dockerfile: join(context, 'Dockerfile'),
      context,
      sourceDateEpoch: 1700000000,
      workDir: join(dir, `work-${name}`),
      envLocks: ENV_LOCKS,
      name,
      outputDir: join(dir, `out-${name}`),
      tag,
      logPrefix: '',
      log: () => {},
    });
  };
  const layerNames = (layout: string, diffId: string) => [...tarEntries(join(layout, 'blobs', 'sha256', diffId.slice(7)), diffId)].map((entry) => entry.path);
  const run = (tag: string, ...cmd: string[]) => execFileSync('docker', ['run', '--rm', '--network', 'none', '--user', '0', tag, ...cmd], { encoding: 'utf8' });

  it('RUN in the final stage, a wildcard COPY and a heredoc: the same image ID twice, one layer per RUN, no /tmp', async () => {
    const context = join(dir, 'final-run');
    mkdirSync(join(context, 'src'), { recursive: true });
    writeFileSync(join(context, 'src', 'a.c'), 'int a;\n');
    writeFileSync(join(context, 'src', 'b.c'), 'int b;\n');
    writeFileSync(join(context, 'src', 'notes.md'), 'not copied\n');
    writeFileSync(
      join(context, 'Dockerfile'),
      [
        `FROM reprokit/c-builder@${C_BUILDER}`,
        'USER root',
        'WORKDIR /opt/app',
        'COPY src/*.c ./',
        'RUN <<EOF',
        'set -e',
        'cat a.c b.c > all.c',
        'echo scratch > /tmp/leftover',
        'rm /etc/rmt',
        'EOF',
        'ENV LEVEL=3',
        'COPY <<EOF /etc/app.conf',
        'level=$LEVEL',
        'EOF',
        'USER 1000:1000',
        'CMD ["cat", "/opt/app/all.c"]',
        '',
      ].join('\n'),
    );
    const first = await build(context, 'final-run-1');
    rmSync(join(dir, 'work-final-run-1'), { recursive: true, force: true });
    const second = await build(context, 'final-run-2');
    assert.equal(second.image.id, first.image.id);
    assert.equal(second.image.manifestDigest, first.image.manifestDigest);
    const runLayer = layerNames(first.layout, first.image.diffIds.at(-2)!);
    assert.ok(runLayer.includes('opt/app/all.c') && runLayer.includes('etc/.wh.rmt'), runLayer.join(' '));
    assert.ok(!runLayer.some((name) => name.startsWith('tmp/')), 'nothing the RUN left in /tmp');
    assert.equal(execFileSync('docker', ['run', '--rm', '--network', 'none', first.image.id], { encoding: 'utf8' }), 'int a;\nint b;\n');
    assert.equal(run(first.image.id, 'cat', '/etc/app.conf'), 'level=3\n', 'an unquoted heredoc delimiter expands ENV');
    assert.equal(run(first.image.id, 'sh', '-c', 'ls /opt/app; test -e /etc/rmt || echo gone'), 'a.c\nall.c\nb.c\ngone\n');
  });

  it('SHELL, RUN --mount=cache|tmpfs|bind, ADD of a local tar and a checksummed URL, VOLUME, STOPSIGNAL, HEALTHCHECK', async () => {
    const context = join(dir, 'more');
    mkdirSync(join(context, 'payload', 'etc'), { recursive: true });
    writeFileSync(join(context, 'payload', 'etc', 'from-tar'), 'unpacked\n');
    execFileSync('tar', ['-C', join(context, 'payload'), '--owner=0', '--group=0', '-czf', join(context, 'payload.tar.gz'), 'etc']);
    writeFileSync(join(context, 'input.txt'), 'bound\n');
    const checksum = `sha256:${createHash('sha256').update(download).digest('hex')}`;
    writeFileSync(
      join(context, 'Dockerfile'),
      [
        `FROM reprokit/c-builder@${C_BUILDER} AS build`,
        'RUN --mount=type=cache,target=/cache,uid=1000 echo cached > /cache/x',
        'RUN --mount=type=cache,target=/cache,uid=1000 --mount=type=bind,source=input.txt,target=/in.txt cat /cache/x /in.txt > /home/build/out.txt',
        `FROM reprokit/c-builder@${C_BUILDER}`,
        'SHELL ["/bin/sh", "-e", "-c"]',
        'USER root',
        'ADD payload.tar.gz /',
        `ADD --checksum=${checksum} http://127.0.0.1:${port}/moved /opt/tool.txt`,
        'COPY --from=build /home/build/out.txt /opt/',
        'RUN --mount=type=tmpfs,target=/scratch echo temp > /scratch/t && cat /scratch/t /opt/out.txt > /opt/combined.txt',
        'VOLUME /data',
        'STOPSIGNAL SIGINT',
        'HEALTHCHECK --interval=30s CMD test -e /opt/combined.txt',
        '',
      ].join('\n'),
    );
    const first = await build(context, 'more-1');
    const second = await build(context, 'more-2');
    assert.equal(second.image.id, first.image.id);
    assert.equal(run(first.image.id, 'cat', '/etc/from-tar', '/opt/tool.txt', '/opt/combined.txt'), 'unpacked\ndownloaded bytes\ntemp\ncached\nbound\n');
    assert.equal(run(first.image.id, 'stat', '-c', '%a %u', '/opt/tool.txt'), '600 0\n', 'a download is 0600 root, as with docker');
    assert.equal(run(first.image.id, 'sh', '-c', 'test -e /scratch/t || test -e /cache || echo no-mount-leftovers'), 'no-mount-leftovers\n');
    const config = JSON.parse(execFileSync('docker', ['image', 'inspect', '--format', '{{json .Config}}', first.image.id], { encoding: 'utf8' }));
    assert.deepEqual([config.Shell, config.Volumes, config.StopSignal, config.Healthcheck], [['/bin/sh', '-e', '-c'], { '/data': {} }, 'SIGINT', { Test: ['CMD-SHELL', 'test -e /opt/combined.txt'], Interval: 30e9 }]);

    // Other bytes behind the URL: refused before the image exists, naming the line.
    writeFileSync(join(context, 'Dockerfile'), readFileSync(join(context, 'Dockerfile'), 'utf8').replace(checksum, `sha256:${'0'.repeat(64)}`));
    await assert.rejects(build(context, 'more-bad'), { message: /Dockerfile:8: ADD: http:\/\/127\.0\.0\.1:\d+\/moved has sha256:[0-9a-f]{64}, not sha256:0{64} as --checksum says: refusing it$/ });
  });

  it('refuses a bad line before building anything, even after stages that would take long', async () => {
    const context = join(dir, 'late-error');
    mkdirSync(context, { recursive: true });
    writeFileSync(join(context, 'Dockerfile'), `FROM reprokit/c-builder@${C_BUILDER} AS build\nRUN sleep 30\nFROM scratch\nCOPY --from=build /x /x\nONBUILD RUN true\n`);
    const started = Date.now();
    await assert.rejects(build(context, 'late'), { message: /Dockerfile:5: ONBUILD is refused/ });
    assert.ok(Date.now() - started < 10_000, 'nothing was built');
  });
});
