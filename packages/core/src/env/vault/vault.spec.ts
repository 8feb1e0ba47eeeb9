// The package vault with real parts: the shared registry on 127.0.0.1:5000 (repositories
// vault-test-<pid>…, their manifests deleted afterwards), the real CLI, apt with an empty index,
// docker, and static-base's real lock. Servers that lie are made here, on loopback ports.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BuildEnvLock } from '../build-env';
import { readBuildEnvLock } from '../build-env';
import { debVaults, DEB_VAULTS_ENV } from '../registry/image-registries';
import { DEB_MEDIA_TYPE, OCI_MANIFEST_TYPE, VAULT_ARTIFACT_TYPE, VAULT_REPOSITORY, vaultManifest, vaultTag } from './vault';
import { emptyAptConfig } from '../../testing/empty-apt';
import { tempDir } from '../../testing/fixtures';
import { tokenRegistry } from '../../testing/token-registry';

const bin = join(__dirname, '..', '..', '..', 'bin', 'reprokit.js');
const LOCK = join(__dirname, '..', '..', '..', 'envs', 'static-base', 'env.lock.json');
const REGISTRY = '127.0.0.1:5000';
const ENTRY = `${REGISTRY}/vault-test-${process.pid}`;

/** The CLI in a child process, asynchronously: this process's servers answer meanwhile. */
function reprokit(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => done({ status, stdout, stderr }));
  });
}

/** apt knows no package, the cache is empty, Debian's archive and snapshot are a closed port, no vault from the environment. */
const gone = () => ({ APT_CONFIG: emptyAptConfig(), XDG_CACHE_HOME: tempDir('reprokit-cache-'), REPROKIT_SNAPSHOT_URL: 'http://127.0.0.1:9', REPROKIT_DEBIAN_MIRROR: 'http://127.0.0.1:9', [DEB_VAULTS_ENV]: '' });

/** A loopback port nobody listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  const port = await listen(server);
  await new Promise((done) => server.close(done));
  return port;
}

async function listen(server: Server): Promise<number> {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return (server.address() as AddressInfo).port;
}

describe('the package vault (env vault push; env fetch and env build --vault)', () => {
  let lock: BuildEnvLock;
  let pushed: Awaited<ReturnType<typeof reprokit>>;
  const manifests: string[] = [];
  // The vault every test reads, filled once, as a team would.
  before(async () => {
    lock = await readBuildEnvLock(LOCK);
    pushed = await reprokit(['env', 'vault', 'push', LOCK, '--registry', ENTRY]);
  });
  after(async () => {
    for (const url of manifests) await fetch(url, { method: 'DELETE' }).catch(() => undefined);
  });

  it('push stores every .deb as a blob and an artifact manifest tagged from the lock; a second push stores nothing again', async () => {
    assert.equal(pushed.status, 0, pushed.stderr);
    const tag = vaultTag(lock);
    assert.match(tag, /^static-base-[0-9a-f]{32}$/);
    const match = new RegExp(`^${ENTRY}/${VAULT_REPOSITORY}:${tag}@(sha256:[0-9a-f]{64})\\n$`).exec(pushed.stdout);
    assert.ok(match, pushed.stdout);
    const base = `http://${REGISTRY}/v2/vault-test-${process.pid}/${VAULT_REPOSITORY}`;
    manifests.push(`${base}/manifests/${match[1]}`);
    assert.match(pushed.stderr, new RegExp(`${lock.packages.length} packages stored, 0 already there`));
    const stored = await fetch(`${base}/manifests/${tag}`, { headers: { accept: OCI_MANIFEST_TYPE } });
    assert.equal(stored.status, 200);
    assert.equal(stored.headers.get('docker-content-digest'), match[1]);
    const bytes = Buffer.from(await stored.arrayBuffer());
    assert.deepEqual(bytes, vaultManifest(lock), 'the registry holds the manifest as reprokit made it');
    const json = JSON.parse(bytes.toString('utf8'));
    assert.equal(json.artifactType, VAULT_ARTIFACT_TYPE);
    assert.deepEqual(
      json.layers.map((layer: { mediaType: string; digest: string; size: number }) => [layer.mediaType, layer.digest, layer.size]),
      lock.packages.map((p) => [DEB_MEDIA_TYPE, `sha256:${p.sha256}`, p.size]),
    );
    for (const p of lock.packages) assert.equal((await fetch(`${base}/blobs/sha256:${p.sha256}`, { method: 'HEAD' })).status, 200, p.name);
    const again = await reprokit(['env', 'vault', 'push', LOCK, '--registry', ENTRY]);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(again.stdout, pushed.stdout, 'the same manifest digest');
    assert.match(again.stderr, new RegExp(`0 packages stored, ${lock.packages.length} already there`));
  });

  it('env fetch takes the .debs from the vault when the cache, apt and snapshot have none', async () => {
    const to = tempDir('reprokit-vault-fetch-');
    const fetched = await reprokit(['env', 'fetch', LOCK, '--to', to, '--vault', ENTRY], gone());
    assert.equal(fetched.status, 0, fetched.stderr);
    assert.match(fetched.stderr, new RegExp(`${lock.packages.length} of ${lock.packages.length} packages from vault ${ENTRY}`));
    assert.doesNotMatch(fetched.stderr, /with apt|snapshot URLs/);
    assert.equal(readdirSync(to).length, lock.packages.length + 1);
    const checked = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: to, encoding: 'utf8' });
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
  });

  it('env build rebuilds the recorded image ID from the vault listed in REPROKIT_DEB_VAULTS (real docker)', async () => {
    const closed = `127.0.0.1:${await closedPort()}`;
    const built = await reprokit(['env', 'build', LOCK], { ...gone(), [DEB_VAULTS_ENV]: `${closed}, ${ENTRY}` });
    assert.equal(built.status, 0, built.stderr);
    assert.equal(built.stdout, `reprokit/static-base@${lock.imageId}\n`);
    // The closed port first: named, skipped, then the vault that has them.
    assert.match(built.stderr, new RegExp(`vault ${closed} cannot be used \\(http://${closed}/v2/${VAULT_REPOSITORY}/blobs/sha256:[0-9a-f]{64}: connection refused.*\\): trying the next source`));
    assert.match(built.stderr, new RegExp(`packages from vault ${ENTRY}`));
  });

  it('a registry that wants a token: the vault is read through the token flow', async () => {
    const front = tokenRegistry(`vault-test-${process.pid}/${VAULT_REPOSITORY}`);
    const port = await listen(front.server);
    try {
      const to = tempDir('reprokit-vault-token-');
      const fetched = await reprokit(['env', 'fetch', LOCK, '--to', to, '--vault', `127.0.0.1:${port}/vault-test-${process.pid}`], gone());
      assert.equal(fetched.status, 0, fetched.stderr);
      assert.equal(front.seen[0].status, 401);
      assert.equal(front.tokenRequests.length, 1);
      assert.ok(front.seen.some((s) => s.status === 200 && s.path.includes('/blobs/sha256:') && s.authorization === `Bearer ${front.TOKEN}`));
    } finally {
      front.server.closeAllConnections();
      await new Promise((done) => front.server.close(done));
    }
  });

  it('a vault that serves other bytes, or more bytes than the lock says, stops everything before a build', async () => {
    const [p] = lock.packages;
    let body = randomBytes(p.size);
    const liar = createServer((req, res) => {
      if (req.url === `/v2/${VAULT_REPOSITORY}/blobs/sha256:${p.sha256}`) return res.writeHead(200, { 'content-length': body.length }).end(body);
      res.writeHead(404).end();
    });
    const port = await listen(liar);
    try {
      const other = await reprokit(['env', 'build', LOCK, '--vault', `127.0.0.1:${port}`], gone());
      assert.equal(other.status, 2, other.stderr);
      assert.match(other.stderr, new RegExp(`^reprokit: ${LOCK}: ${p.name} ${p.version}: http://127\\.0\\.0\\.1:${port}/v2/${VAULT_REPOSITORY}/blobs/sha256:${p.sha256} has sha256 [0-9a-f]{64} but the lock says ${p.sha256}: refusing to build$`, 'm'));
      assert.doesNotMatch(other.stderr, /unpacking|writing the layer|loading/);
      body = randomBytes(p.size + 1);
      const more = await reprokit(['env', 'fetch', LOCK, '--to', tempDir('reprokit-vault-more-'), '--vault', `127.0.0.1:${port}`], gone());
      assert.equal(more.status, 2, more.stderr);
      assert.match(more.stderr, new RegExp(`^reprokit: http://127\\.0\\.0\\.1:${port}/v2/${VAULT_REPOSITORY}/blobs/sha256:${p.sha256}: more than the ${p.size} bytes the lock says$`, 'm'));
      assert.doesNotMatch(other.stderr + more.stderr, /^\s+at /m);
    } finally {
      liar.closeAllConnections();
      await new Promise((done) => liar.close(done));
    }
  });

  it('the vaults come from --vault, else REPROKIT_DEB_VAULTS, else nx.json debVaults; a bad entry is one line naming where', async () => {
    const workspace = tempDir('reprokit-vault-ws-');
    mkdirSync(join(workspace, 'sub'));
    writeFileSync(join(workspace, 'nx.json'), JSON.stringify({ plugins: [{ plugin: '@reprokit/nx', options: { imageRegistries: ['127.0.0.1:5000'], debVaults: ['127.0.0.1:5000/team', 'ghcr.io/acme'] } }] }));
    const saved = process.env[DEB_VAULTS_ENV];
    try {
      delete process.env[DEB_VAULTS_ENV];
      assert.deepEqual(await debVaults(join(workspace, 'sub')), ['127.0.0.1:5000/team', 'ghcr.io/acme']);
      process.env[DEB_VAULTS_ENV] = 'a.example:5000, b.example';
      assert.deepEqual(await debVaults(workspace), ['a.example:5000', 'b.example']);
      process.env[DEB_VAULTS_ENV] = '';
      assert.deepEqual(await debVaults(workspace), []);
      delete process.env[DEB_VAULTS_ENV];
      writeFileSync(join(workspace, 'nx.json'), JSON.stringify({ plugins: [{ plugin: '@reprokit/nx', options: { debVaults: ['https://x'] } }] }));
      await assert.rejects(debVaults(workspace), /nx\.json: \$\.plugins\[0\]\.options\.debVaults\[0\]: "https:\/\/x" is not a registry/);
    } finally {
      if (saved === undefined) delete process.env[DEB_VAULTS_ENV];
      else process.env[DEB_VAULTS_ENV] = saved;
    }
    const bad = await reprokit(['env', 'fetch', LOCK, '--to', tempDir(), '--vault', 'not a registry']);
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /^reprokit: --vault: "not a registry" is not a registry/m);
  });
});
