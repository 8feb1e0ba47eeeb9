// env check and the pins finding with real parts: the CLI, apt (the host's index, or an empty
// one), the shared registry on 127.0.0.1:5000 as a vault (repository vault-check-<pid>), and a
// mirror on a loopback port that records every request, to show nothing is downloaded.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { basename, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { serializeBuildEnvLock, type BuildEnvLock, type LockedPackage } from '../build-env';
import { DEB_VAULTS_ENV } from '../registry/image-registries';
import { SNAPSHOT_ORIGIN } from '../debs/deb-sources';
import { emptyAptConfig } from '../../testing/empty-apt';
import { tempDir } from '../../testing/fixtures';

const bin = join(__dirname, '..', '..', '..', 'bin', 'reprokit.js');
const STATIC_BASE = join(__dirname, '..', '..', '..', 'envs', 'static-base', 'env.lock.json');
const ENTRY = `127.0.0.1:5000/vault-check-${process.pid}`;

function reprokit(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env }, cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/** No cache, apt knowing nothing, Debian's archive and snapshot on a closed port, no vault from the environment. */
const bare = () => ({ APT_CONFIG: emptyAptConfig(), XDG_CACHE_HOME: tempDir('reprokit-cache-'), REPROKIT_SNAPSHOT_URL: 'http://127.0.0.1:9', REPROKIT_DEBIAN_MIRROR: 'http://127.0.0.1:9', [DEB_VAULTS_ENV]: '' });

describe('env check: which packages each source can serve now, downloading nothing', () => {
  const lock = JSON.parse(readFileSync(STATIC_BASE, 'utf8')) as BuildEnvLock;
  const [netbase] = lock.packages;
  // A package Debian never had: no source can serve it.
  const nowhere: LockedPackage = { name: 'reprokit-nowhere', version: '1.0', architecture: 'all', filename: 'pool/main/r/reprokit-nowhere/reprokit-nowhere_1.0_all.deb', size: 10, sha256: randomBytes(32).toString('hex') };
  const dir = tempDir('reprokit-check-');
  const rotten = join(dir, 'rotten', 'env.lock.json');
  const debs = join(dir, 'debs');
  const requests: string[] = [];
  let mirror: Server;
  let mirrorBase = '';
  let netbaseBytes: Buffer;
  let pushedDigest = '';

  before(async () => {
    mkdirSync(join(dir, 'rotten'));
    writeFileSync(rotten, serializeBuildEnvLock({ ...lock, name: 'rotten', packages: [...lock.packages, nowhere] }));
    // The real .deb, from wherever this machine gets it, and a vault holding it.
    const fetched = await reprokit(['env', 'fetch', STATIC_BASE, '--to', debs]);
    assert.equal(fetched.status, 0, fetched.stderr);
    netbaseBytes = readFileSync(join(debs, basename(netbase.filename)));
    const pushed = await reprokit(['env', 'vault', 'push', STATIC_BASE, '--registry', ENTRY]);
    assert.equal(pushed.status, 0, pushed.stderr);
    pushedDigest = pushed.stdout.trim().split('@')[1];
    // A server in Debian's layout and snapshot's: it has netbase, and records each method and path.
    mirror = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      const has = req.url === `/debian/${netbase.filename}` || req.url === netbase.snapshot!.slice(SNAPSHOT_ORIGIN.length);
      res.writeHead(has ? 200 : 404, has ? { 'content-length': netbaseBytes.length } : {}).end(has && req.method === 'GET' ? netbaseBytes : undefined);
    });
    await new Promise<void>((done) => mirror.listen(0, '127.0.0.1', done));
    mirrorBase = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}`;
  });
  after(async () => {
    if (pushedDigest) await fetch(`http://127.0.0.1:5000/v2/vault-check-${process.pid}/reprokit/debs/manifests/${pushedDigest}`, { method: 'DELETE' }).catch(() => undefined);
    mirror.closeAllConnections();
    await new Promise((done) => mirror.close(done));
  });

  it('lists each source for each lock, exits 1 naming the package no source serves, and only asks (HEAD)', async () => {
    const checked = await reprokit(['env', 'check', STATIC_BASE, rotten, '--debs', debs, '--vault', ENTRY, '--snapshot', mirrorBase, '--mirror', `${mirrorBase}/debian`], { ...bare(), REPROKIT_DEBIAN_MIRROR: `${mirrorBase}/debian` });
    assert.equal(checked.status, 1, checked.stderr);
    assert.equal(
      checked.stdout.replace(/cache \S+/g, 'cache <cache>'),
      [
        `${STATIC_BASE}: 1 packages, every one has a source`,
        '      0 of 1  cache <cache>',
        `      1 of 1  debs ${debs}`,
        `      1 of 1  vault ${ENTRY}`,
        `      1 of 1  the suites' archives (${mirrorBase}/debian)`,
        "      0 of 1  apt's index",
        `      1 of 1  snapshot ${mirrorBase}`,
        `      1 of 1  mirror ${mirrorBase}/debian`,
        `${rotten}: 2 packages, 1 with no source`,
        '      0 of 2  cache <cache>',
        `      1 of 2  debs ${debs}`,
        `      1 of 2  vault ${ENTRY}`,
        `      1 of 2  the suites' archives (${mirrorBase}/debian)`,
        "      0 of 2  apt's index",
        `      1 of 2  snapshot ${mirrorBase}`,
        `      1 of 2  mirror ${mirrorBase}/debian`,
        '  no source: reprokit-nowhere=1.0',
        '',
      ].join('\n'),
    );
    assert.ok(requests.length >= 3, requests.join('\n'));
    assert.deepEqual(requests.filter((request) => !request.startsWith('HEAD ')), [], 'nothing downloaded');
    // The package both locks share was asked about once per source (the suite's archive, the mirror), not once per lock.
    assert.equal(requests.filter((request) => request === `HEAD /debian/${netbase.filename}`).length, 2);
  });

  it('--json says the same; 0 when every package has a source; an unreachable source is named, not fatal', async () => {
    const json = await reprokit(['env', 'check', rotten, '--json', '--vault', ENTRY], bare());
    assert.equal(json.status, 1, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.equal(report.ok, false);
    assert.deepEqual(report.locks[0].unservable, ['reprokit-nowhere=1.0']);
    assert.deepEqual(
      report.locks[0].sources.map((source: { kind: string; serves: string[]; unreachable?: string }) => [source.kind, source.serves, source.unreachable]),
      [
        ['cache', [], undefined],
        ['vault', [`${netbase.name}=${netbase.version}`], undefined],
        ['suite', [], 'bad port'],
        ['apt', [], undefined],
        ['snapshot', [], 'bad port'],
      ],
    );
    // The host's apt: its index has the locked version (bookworm's netbase), asked by an index lookup.
    const hostApt = await reprokit(['env', 'check', STATIC_BASE], { ...bare(), APT_CONFIG: '' });
    assert.equal(hostApt.status, 0, hostApt.stdout + hostApt.stderr);
    assert.match(hostApt.stdout, /^ {6}1 of 1 {2}apt's index$/m);
    const closed = `127.0.0.1:${await closedPort()}`;
    const down = await reprokit(['env', 'check', STATIC_BASE, '--vault', closed, '--debs', debs], bare());
    assert.equal(down.status, 0, down.stderr);
    assert.match(down.stdout, new RegExp(`^ {6}0 of 1 {2}vault ${closed} \\(cannot be asked: ${closed}: connection refused\\)$`, 'm'));
  });

  it("a lock's npm tarballs too: reprokit's npm cache, then the registry by HEAD; one the registry never had is named", async () => {
    const nodeBuilder = JSON.parse(readFileSync(join(STATIC_BASE, '..', '..', 'node-builder', 'env.lock.json'), 'utf8')) as BuildEnvLock;
    const npm = nodeBuilder.npm!.find((p) => p.name === 'npm')!;
    const missing = { name: 'reprokit-nowhere-npm', version: '1.0.0', integrity: `sha512-${randomBytes(64).toString('base64')}`, size: 10 };
    const path = join(tempDir('reprokit-check-npm-'), 'env.lock.json');
    writeFileSync(path, serializeBuildEnvLock({ ...lock, npm: [npm, missing] }));
    const env = bare();
    // npm's tarball in reprokit's npm cache: the file named by its sha512, as env build leaves it.
    const npmCache = join(env.XDG_CACHE_HOME, 'reprokit', 'npm');
    mkdirSync(npmCache, { recursive: true });
    const cached = await reprokit(['env', 'check', path, '--json'], { ...env, npm_config_registry: 'https://registry.npmjs.org/' });
    assert.equal(cached.status, 1, cached.stderr);
    const report = JSON.parse(cached.stdout).locks[0];
    assert.equal(report.packages, 3);
    assert.deepEqual(report.unservable.filter((label: string) => label.includes('@')), ['reprokit-nowhere-npm@1.0.0']);
    const byKind = (kind: string) => report.sources.find((source: { kind: string }) => source.kind === kind);
    assert.deepEqual(byKind('npm-cache').serves, []);
    assert.deepEqual(byKind('npm-registry'), { kind: 'npm-registry', where: 'https://registry.npmjs.org/', asked: 2, serves: ['npm@11.21.3'] });
    // The same file in the cache, by its sha512: served from there (hashed, not taken by name).
    const tarball = await fetch(npm.tarball!);
    writeFileSync(join(npmCache, `${Buffer.from(npm.integrity.slice(7), 'base64').toString('hex')}.tgz`), Buffer.from(await tarball.arrayBuffer()));
    const again = JSON.parse((await reprokit(['env', 'check', path, '--json'], { ...env, npm_config_registry: 'https://registry.npmjs.org/' })).stdout).locks[0];
    assert.deepEqual(again.sources.find((source: { kind: string }) => source.kind === 'npm-cache').serves, ['npm@11.21.3']);
  });

  it('pins check reports a lock with unservable packages as a finding at the package, and an unreadable lock', async () => {
    const repo = tempDir('reprokit-check-pins-');
    spawnSync('git', ['init', '-q', repo]);
    mkdirSync(join(repo, 'envs', 'ok'), { recursive: true });
    mkdirSync(join(repo, 'envs', 'rotten'), { recursive: true });
    mkdirSync(join(repo, 'envs', 'broken'), { recursive: true });
    writeFileSync(join(repo, 'envs', 'ok', 'env.lock.json'), readFileSync(STATIC_BASE));
    writeFileSync(join(repo, 'envs', 'rotten', 'env.lock.json'), readFileSync(rotten));
    writeFileSync(join(repo, 'envs', 'broken', 'env.lock.json'), '{"lockVersion": 1}\n');
    // The vault the workspace lists is the only source.
    const pins = await reprokit(['pins', 'check', repo], { ...bare(), [DEB_VAULTS_ENV]: ENTRY });
    assert.equal(pins.status, 1, pins.stderr);
    const line = readFileSync(rotten, 'utf8').split('\n').findIndex((text) => text.includes('"name": "reprokit-nowhere"')) + 1;
    const findings = pins.stdout.trim().split('\n');
    assert.equal(findings.length, 2, pins.stdout);
    assert.equal(findings[0], `${repo}/envs/broken/env.lock.json:1:1 error pins-unparsable environment lock not checked: $.name: is required`);
    assert.equal(findings[1], `${repo}/envs/rotten/env.lock.json:${line}:7 error env-lock-unservable 1 of 2 packages have no source now: reprokit-nowhere=1.0 (asked: cache, vault, suite, apt, snapshot)`);
  });
});
