import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordArtifact, writeManifest, readManifest, type Artifact, type PublishedLocation } from '../manifest/manifest';
import { pushOciImage } from '../oci/layout/push';
import { recordManifest } from '../manifest/record';
import { checkPublished } from './check';
import { projectWithManifest, tempDir } from '../testing/fixtures';
import { writeTestImage, type TestImage } from '../testing/images';
import { runCli as cli } from '../testing/run-cli';

// These servers listen on 127.0.0.1, an address a manifest's URL may not reach by default (net/
// address-policy.ts): the tests allow it as a user would, with REPROKIT_ALLOW_PRIVATE_NETWORK=1
// (the CLI children inherit it).
process.env.REPROKIT_ALLOW_PRIVATE_NETWORK = '1';

const ELF = '/bin/true';
const REGISTRY = '127.0.0.1:5000';
const tag = `${process.pid}`;

function rodataOffset(file: string): number {
  const out = execFileSync('readelf', ['-S', '-W', file], { encoding: 'utf8' });
  return parseInt(/\.rodata\s+PROGBITS\s+[0-9a-f]+\s+([0-9a-f]+)/.exec(out)![1], 16);
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port)));
}

/** A pacman package (zstd tar with .PKGINFO) and a repo-add style database listing it. */
function pacmanRepo(dir: string, elf: Buffer, repoName: string, listed?: Buffer): string {
  const root = join(dir, 'pkgroot');
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  writeFileSync(join(root, '.PKGINFO'), 'pkgname = tool\npkgver = 1-1\nbuilddate = 1795564800\n');
  writeFileSync(join(root, 'usr/bin/true'), elf, { mode: 0o755 });
  const pkg = join(dir, 'tool-1-1-x86_64.pkg.tar.zst');
  execFileSync('sh', ['-c', `tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - -C "${root}" .PKGINFO usr | zstd -q -19 -o "${pkg}"`]);
  const bytes = listed ?? readFileSync(pkg);
  const db = join(dir, 'db');
  mkdirSync(join(db, 'tool-1-1'), { recursive: true });
  const sha = require('node:crypto').createHash('sha256').update(bytes).digest('hex');
  writeFileSync(join(db, 'tool-1-1/desc'), `%FILENAME%\n${basename(pkg)}\n\n%NAME%\ntool\n\n%VERSION%\n1-1\n\n%CSIZE%\n${bytes.length}\n\n%SHA256SUM%\n${sha}\n\n`);
  execFileSync('sh', ['-c', `tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -czf "${dir}/${repoName}.db.tar.gz" -C "${db}" tool-1-1`]);
  symlinkSync(`${repoName}.db.tar.gz`, join(dir, `${repoName}.db`));
  return pkg;
}

async function deleteFromRegistry(repository: string, digest: string): Promise<void> {
  await fetch(`http://${REGISTRY}/v2/${repository}/manifests/${digest}`, { method: 'DELETE' }).catch(() => undefined);
}

describe('reprokit published against real servers on 127.0.0.1', () => {
  const dir = tempDir();
  const served = join(dir, 'served');
  const project = join(dir, 'project');
  const manifestPath = join(project, 'repro-manifest.json');
  let port = 0;
  let proxyPort = 0;
  const proxied: string[] = [];
  const servers: Server[] = [];
  let image: TestImage;
  let badImage: TestImage;
  const pushed: [string, string][] = [];
  const dockerTags: string[] = [];
  let closedPort = 0;

  before(async () => {
    // The workspace: its file:// locations (served/) must lie inside it.
    writeFileSync(join(dir, 'nx.json'), '{}\n');
    mkdirSync(join(project, 'dist'), { recursive: true });
    mkdirSync(join(served, 'tools'), { recursive: true });
    mkdirSync(join(served, 'badrepo'), { recursive: true });
    const elf = readFileSync(ELF);
    const tampered = Buffer.from(elf);
    tampered[rodataOffset(ELF) + 3] ^= 0x20;
    copyFileSync(ELF, join(project, 'dist/tool'));
    writeFileSync(join(served, 'tool'), elf);
    writeFileSync(join(served, 'tampered'), tampered);
    writeFileSync(join(served, 'truncated'), elf.subarray(0, elf.length >> 1));
    writeFileSync(join(served, 'bigger'), Buffer.concat([elf, Buffer.alloc(4096)]));
    // The package the project built and a good repository serving it; a repository serving a
    // tampered build whose own database agrees with it (a consistent but different publication).
    const pkg = pacmanRepo(join(served, 'tools'), elf, 'tools');
    copyFileSync(pkg, join(project, 'dist', basename(pkg)));
    pacmanRepo(join(served, 'badrepo'), tampered, 'tools');

    mkdirSync(join(dir, 'img'));
    mkdirSync(join(dir, 'badimg'));
    const localTag = `i14-test-image:${tag}`;
    image = writeTestImage(join(dir, 'img'), { true: elf, 'etc/motd': 'hello\n' }, undefined, localTag);
    badImage = writeTestImage(join(dir, 'badimg'), { true: elf, 'etc/motd': 'HELLO\n' }, undefined, localTag);
    execFileSync('cp', ['-r', image.layout, join(project, 'dist/image.oci')]);
    copyFileSync(image.archive, join(project, 'dist/image.tar'));

    // One static server with the cases the issue lists.
    let flaky = 0;
    const server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname);
      if (path === '/loop') return res.writeHead(302, { location: '/loop' }).end();
      if (path === '/moved') return res.writeHead(301, { location: '/tool' }).end();
      if (path === '/slow') {
        res.writeHead(200, { 'content-length': String(statSync(ELF).size) });
        res.write(readFileSync(ELF).subarray(0, 100));
        return; // never finishes: the client's timeout must
      }
      if (path === '/flaky' && flaky++ === 0) return res.writeHead(503).end('busy');
      const file = join(served, path === '/flaky' ? 'tool' : path);
      try {
        const body = readFileSync(file);
        res.writeHead(200, { 'content-length': String(body.length) }).end(body);
      } catch {
        res.writeHead(404).end('not found');
      }
    });
    servers.push(server);
    port = await listen(server);
    // A forward proxy as squid is one: CONNECT tunnels (what undici uses for http and https alike), recorded.
    const proxy = createServer((_req, res) => res.writeHead(405).end());
    proxy.on('connect', (req, socket: import('node:net').Socket, head: Buffer) => {
      proxied.push(req.url!);
      const [host, targetPort] = req.url!.split(':');
      const upstream = require('node:net').connect(Number(targetPort), host, () => {
        socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on('error', () => socket.destroy());
      socket.on('error', () => upstream.destroy());
    });
    servers.push(proxy);
    proxyPort = await listen(proxy);
    const closed = createServer();
    closedPort = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));

    // The registry: reprokit's push (MATCH), docker's push of the same image (recompressed), another image.
    const push = async (img: TestImage, repository: string) => {
      await pushOciImage(img.files, img.layers, `${REGISTRY}/${repository}`, tag);
      pushed.push([repository, img.files.manifestDigest]);
    };
    await push(image, 'i14-test-image');
    await push(badImage, 'i14-test-other');
    execFileSync('docker', ['load', '-q', '-i', image.archive]);
    dockerTags.push(localTag);
    const dockerRef = `${REGISTRY}/i14-test-docker:${tag}`;
    execFileSync('docker', ['tag', image.files.imageId, dockerRef]);
    dockerTags.push(dockerRef);
    execFileSync('docker', ['push', '-q', dockerRef]);
    // docker's push stored its own manifest (recompressed layers): delete that one too afterwards.
    const head = await fetch(`http://${REGISTRY}/v2/i14-test-docker/manifests/${tag}`, { method: 'HEAD', headers: { accept: 'application/vnd.docker.distribution.manifest.v2+json' } });
    pushed.push(['i14-test-docker', head.headers.get('docker-content-digest')!]);

    const base = `http://127.0.0.1:${port}`;
    const artifacts: Artifact[] = [];
    const add = async (name: string, file: string, kind: Artifact['kind'], published: PublishedLocation[], extra: Partial<Artifact> = {}) => {
      const artifact = await recordArtifact(manifestPath, { name, kind, file: join(project, 'dist', file), environment: { type: 'host', toolchain: 'test' }, ...(extra as object) });
      artifacts.push({ ...artifact, published });
    };
    await add('tool', 'tool', 'elf', ['tool', 'tampered', 'truncated', 'bigger', 'missing', 'loop', 'moved', 'slow', 'flaky'].map((p) => ({ url: `${base}/${p}` })).concat([{ url: `file://${served}/tool` }, { url: `http://127.0.0.1:${closedPort}/tool` }]));
    await add('image', 'image.tar', 'oci', [
      { oci: `${REGISTRY}/i14-test-image:${tag}` },
      { oci: `${REGISTRY}/i14-test-image@${image.files.manifestDigest}` },
      { oci: dockerRef },
      { oci: `${REGISTRY}/i14-test-other:${tag}` },
      { oci: `127.0.0.1:${closedPort}/i14-test-down:${tag}` },
    ], { image: { id: image.files.imageId, manifestDigest: image.files.manifestDigest, diffIds: image.layers.map((l) => l.diffId), layout: join(project, 'dist/image.oci') } });
    await add('tool.pkg', basename(pkg), 'arch', [
      { pacman: `${base}/$repo`, repo: 'tools' },
      { pacman: `file://${served}/tools`, repo: 'tools' },
      { pacman: `${base}/badrepo`, repo: 'tools' },
      { pacman: `${base}/tools`, repo: 'nope' },
    ]);
    writeManifest(manifestPath, { manifestVersion: 1, project: 'tool', outputDir: 'dist', recorded: { commit: 'none', commitDate: 'none', recordedAt: '2026-11-25T00:00:00Z', reprokitVersion: '0', tools: {} }, artifacts });
  });

  after(async () => {
    // The slow server's connection is still open: close it, or the runner waits on it.
    for (const server of servers) {
      server.closeAllConnections();
      server.close();
    }
    for (const [repository, digest] of pushed) await deleteFromRegistry(repository, digest);
    for (const ref of dockerTags) {
      const removed = spawnSync('docker', ['rmi', ref], { encoding: 'utf8' });
      if (removed.status !== 0) process.stderr.write(`could not remove ${ref}: ${removed.stderr}`);
    }
  });

  let result: { status: number | null; stdout: string; stderr: string; ms: number };
  let checks: { artifact: string; location: string; status: string; reason?: string; note?: string; diff?: { differences: { where: string[]; what: string }[] } }[];
  const find = (location: string) => {
    const check = checks.find((c) => c.location === location);
    assert.ok(check, `no check for ${location}`);
    return check;
  };

  it('checks every location once: exit 1 because some differ', async () => {
    result = await cli(['published', manifestPath, '--json', '--timeout', '1']);
    assert.equal(result.status, 1, result.stderr);
    assert.ok(result.stdout, result.stderr);
    checks = JSON.parse(result.stdout).checks;
    assert.equal(checks.length, 20);
  });

  it('release files: MATCH, a tampered byte named by ELF section, truncated, too big, 404, redirect loop, slow, retried 503', () => {
    const base = `http://127.0.0.1:${port}`;
    assert.equal(find(`${base}/tool`).status, 'match');
    assert.equal(find(`${base}/moved`).status, 'match');
    assert.equal(find(`${base}/flaky`).status, 'match', 'a 503 is retried');
    assert.equal(find(`file://${served}/tool`).status, 'match');
    const tampered = find(`${base}/tampered`);
    assert.equal(tampered.status, 'differs');
    assert.deepEqual(tampered.diff!.differences.map((d) => d.where.join(': ')), ['section .rodata']);
    const truncated = find(`${base}/truncated`);
    assert.equal(truncated.status, 'differs');
    assert.match(truncated.reason!, /^\d+ bytes, the manifest records \d+$/);
    assert.match(truncated.diff!.differences[0].what, /^cannot read as elf: B: .*truncated or corrupt$/);
    assert.match(find(`${base}/bigger`).reason!, /^larger than the \d+ bytes the manifest records/);
    assert.deepEqual([find(`${base}/missing`).status, find(`${base}/missing`).reason], ['unreachable', `${base}/missing: HTTP 404`]);
    assert.match(find(`${base}/loop`).reason!, /more than 5 redirects \(a redirect loop\)/);
    assert.match(find(`${base}/slow`).reason!, /timed out during the download after 100 bytes$/);
    assert.match(find(`http://127.0.0.1:${closedPort}/tool`).reason!, /connection refused \(after 3 attempts\)$/);
  });

  it('registry: reprokit push MATCH (by tag and by digest), docker push "same image, recompressed layers", another image DIFFERS naming the layer and the file', () => {
    assert.equal(find(`${REGISTRY}/i14-test-image:${tag}`).status, 'match');
    assert.equal(find(`${REGISTRY}/i14-test-image:${tag}`).note, undefined);
    assert.equal(find(`${REGISTRY}/i14-test-image@${image.files.manifestDigest}`).status, 'match');
    const recompressed = find(`${REGISTRY}/i14-test-docker:${tag}`);
    assert.equal(recompressed.status, 'match');
    assert.match(recompressed.note!, /^same image, recompressed layers \(manifest sha256:[0-9a-f]{64}, reprokit's is /);
    const other = find(`${REGISTRY}/i14-test-other:${tag}`);
    assert.equal(other.status, 'differs');
    assert.equal(other.reason, `image ID ${badImage.files.imageId}, the manifest records ${image.files.imageId}`);
    const lines = other.diff!.differences.map((d) => `${d.where.join(': ')}: ${d.what}`);
    assert.ok(lines.some((line) => /^layer 1 \(sha256:[0-9a-f]{12}…\): etc\/motd: text differs/.test(line)), lines.join('\n'));
    assert.ok(!lines.some((line) => line.includes(': true:')), 'the unchanged binary is not reported');
  });

  it('pacman repositories over http and file://: MATCH; a repository serving another build names the entry and section', () => {
    const base = `http://127.0.0.1:${port}`;
    assert.equal(find(`${base}/$repo (tools)`).status, 'match');
    assert.equal(find(`file://${served}/tools (tools)`).status, 'match');
    const wrongRepo = find(`${base}/tools (nope)`);
    assert.deepEqual([wrongRepo.status, wrongRepo.reason], ['unreachable', `${base}/tools/nope.db: HTTP 404`]);
    const bad = find(`${base}/badrepo (tools)`);
    assert.equal(bad.status, 'differs');
    assert.match(bad.reason!, /tools\.db: %SHA256SUM% [0-9a-f]{64}, the manifest records/);
    const lines = bad.diff!.differences.map((d) => `${d.where.join(': ')}: ${d.what}`);
    assert.ok(lines.some((line) => line.startsWith('usr/bin/true: section .rodata: content differs')), lines.join('\n'));
  });

  it('registry down: one line, within 2 s', async () => {
    const down = find(`127.0.0.1:${closedPort}/i14-test-down:${tag}`);
    assert.equal(down.status, 'unreachable');
    assert.match(down.reason!, /connection refused/);
    const only = join(dir, 'down.json');
    const manifest = await readManifest(manifestPath);
    manifest.artifacts = manifest.artifacts.filter((a) => a.name === 'image').map((a) => ({ ...a, published: [{ oci: `127.0.0.1:${closedPort}/i14-test-down:${tag}` }] }));
    writeManifest(only, manifest);
    // Timed in process: a loaded CI machine can take a second just to start node.
    const started = Date.now();
    const inProcess = await checkPublished(only);
    const ms = Date.now() - started;
    assert.ok(ms < 2000, `${ms} ms`);
    assert.equal(inProcess.exitCode, 2);
    const run = await cli(['published', only]);
    assert.equal(run.status, 2);
    const lines = run.stdout.trim().split('\n');
    assert.equal(lines[0], `UNREACHABLE image 127.0.0.1:${closedPort}/i14-test-down:${tag}: http://127.0.0.1:${closedPort}/v2/i14-test-down/manifests/${tag}: connection refused (after 3 attempts)`);
    assert.equal(lines.length, 2);
  });

  it('HTTP_PROXY is used for http URLs unless NO_PROXY names the host', async () => {
    const only = join(dir, 'proxy.json');
    const manifest = await readManifest(manifestPath);
    manifest.artifacts = manifest.artifacts.filter((a) => a.name === 'tool').map((a) => ({ ...a, published: [{ url: `http://127.0.0.1:${port}/tool` }] }));
    writeManifest(only, manifest);
    const via = await cli(['published', only], { HTTP_PROXY: `http://127.0.0.1:${proxyPort}` });
    assert.equal(via.status, 0, via.stdout + via.stderr);
    assert.deepEqual(proxied, [`127.0.0.1:${port}`]);
    const direct = await cli(['published', only], { HTTP_PROXY: `http://127.0.0.1:${proxyPort}`, NO_PROXY: '127.0.0.1' });
    assert.equal(direct.status, 0);
    assert.equal(proxied.length, 1);
  });

  it('text report: one line per location, the explanation indented under a DIFFERS', () => {
    // Rendered from the same run's JSON would repeat the code: run the text form once.
    return cli(['published', manifestPath, '--timeout', '1']).then((run) => {
      assert.equal(run.status, 1);
      const top = run.stdout.split('\n').filter((line) => line && !line.startsWith(' '));
      assert.equal(top.length, 21);
      assert.ok(top.includes(`MATCH       tool http://127.0.0.1:${port}/tool`));
      assert.ok(run.stdout.includes(`DIFFERS     tool http://127.0.0.1:${port}/tampered: sha256 `));
      assert.match(run.stdout, /\n {4}section \.rodata: content differs/);
      assert.match(top.at(-1)!, /: 20 published locations, \d+ match, \d+ differ, \d+ unreachable$/);
    });
  });
});

describe('published locations in the manifest', () => {
  it('published add validates and records; checksum --update (recordManifest) keeps them', async () => {
    const { manifestPath, dir } = await projectWithManifest();
    const add = await cli(['published', 'add', manifestPath, 'hello', '--url', 'https://example.invalid/hello']);
    assert.equal(add.status, 0, add.stderr);
    assert.equal((await cli(['published', 'add', manifestPath, 'hello', '--url', 'https://example.invalid/hello'])).stdout, 'hello: https://example.invalid/hello already listed\n');
    const bad = await cli(['published', 'add', manifestPath, 'hello', '--url', 'ftp://x/y']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /\$\.artifacts\[0\]\.published\[1\]\.url: must match pattern/);
    const none = await cli(['published', 'add', manifestPath, 'nope', '--oci', 'x/y:1']);
    assert.equal(none.stderr, `reprokit: ${manifestPath}: no artifact named "nope" (hello)\n`);
    writeFileSync(join(dir, 'dist', 'hello'), 'changed\n');
    const { changed, manifest } = await recordManifest({ manifestPath, project: 'hello', workspaceRoot: dir });
    assert.equal(changed, true);
    assert.deepEqual(manifest.artifacts[0].published, [{ url: 'https://example.invalid/hello' }]);
    assert.deepEqual((await readManifest(manifestPath)).artifacts[0].published, [{ url: 'https://example.invalid/hello' }]);
  });

  it('no location at all is bad input (exit 2) that says how to add one', async () => {
    const { manifestPath } = await projectWithManifest();
    const run = await cli(['published', manifestPath]);
    assert.equal(run.status, 2);
    assert.equal(run.stderr, `reprokit: ${manifestPath}: no artifact lists where it was published: add one with \`reprokit published add ${manifestPath} ARTIFACT --url URL\`\n`);
  });
});
