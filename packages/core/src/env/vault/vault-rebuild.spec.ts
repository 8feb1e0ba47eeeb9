// Issue 24's proof that a vault is enough: c-builder, a shipped lock, rebuilt to its recorded
// image ID through the real CLI and docker when the only source of its .debs is a vault in the
// shared registry on 127.0.0.1:5000 (repository vault-rebuild-<pid>, its manifest deleted
// afterwards): an empty .deb cache, apt with an empty index, Debian's archive and snapshot on a
// closed port, no vault but this one.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BuildEnvLock } from '../build-env';
import { DEB_VAULTS_ENV } from '../registry/image-registries';
import { VAULT_REPOSITORY, vaultTag } from './vault';
import { emptyAptConfig } from '../../testing/empty-apt';
import { tempDir } from '../../testing/fixtures';

const bin = join(__dirname, '..', '..', '..', 'bin', 'reprokit.js');
const LOCK = join(__dirname, '..', '..', '..', 'envs', 'c-builder', 'env.lock.json');
const ENTRY = `127.0.0.1:5000/vault-rebuild-${process.pid}`;

function reprokit(args: string[], env: Record<string, string> = {}): Promise<{ status: number | null; stdout: string; stderr: string; ms: number }> {
  const started = Date.now();
  return new Promise((done) => {
    const child = spawn(process.execPath, [bin, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => (stdout += chunk));
    child.stderr.on('data', (chunk) => (stderr += chunk));
    child.on('close', (status) => done({ status, stdout, stderr, ms: Date.now() - started }));
  });
}

/** Nothing but the vault: no cache, apt knowing no package, Debian's archive and snapshot unreachable. */
const onlyTheVault = () => ({
  APT_CONFIG: emptyAptConfig(),
  XDG_CACHE_HOME: tempDir('reprokit-cache-'),
  REPROKIT_DEBIAN_MIRROR: 'http://127.0.0.1:9',
  REPROKIT_DEBIAN_SECURITY_MIRROR: 'http://127.0.0.1:9',
  REPROKIT_SNAPSHOT_URL: 'http://127.0.0.1:9',
  [DEB_VAULTS_ENV]: ENTRY,
});

describe('c-builder rebuilt with its recorded image ID from a package vault alone (real registry, apt, docker)', () => {
  const lock = JSON.parse(readFileSync(LOCK, 'utf8')) as BuildEnvLock;
  let digest = '';
  before(async () => {
    // Filled as a team would, from wherever this machine gets the files (its cache, Debian's archive).
    const pushed = await reprokit(['env', 'vault', 'push', LOCK, '--registry', ENTRY]);
    assert.equal(pushed.status, 0, pushed.stderr);
    assert.match(pushed.stdout, new RegExp(`^${ENTRY}/${VAULT_REPOSITORY}:${vaultTag(lock)}@sha256:[0-9a-f]{64}\\n$`));
    digest = pushed.stdout.trim().split('@')[1];
  });
  after(async () => {
    if (digest) await fetch(`http://127.0.0.1:5000/v2/vault-rebuild-${process.pid}/${VAULT_REPOSITORY}/manifests/${digest}`, { method: 'DELETE' }).catch(() => undefined);
  });

  it('env check sees the vault as the only source of every package', async () => {
    const checked = await reprokit(['env', 'check', LOCK, '--json'], onlyTheVault());
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
    const [report] = JSON.parse(checked.stdout).locks;
    const served = Object.fromEntries(report.sources.map((source: { kind: string; serves: string[] }) => [source.kind, source.serves.length]));
    assert.deepEqual(served, { cache: 0, vault: lock.packages.length, suite: 0, apt: 0, snapshot: 0 });
  });

  it('env build takes all its packages from the vault and gives the recorded image ID', async () => {
    const built = await reprokit(['env', 'build', LOCK], onlyTheVault());
    assert.equal(built.status, 0, built.stderr);
    assert.equal(built.stdout, `reprokit/c-builder@${lock.imageId}\n`);
    assert.match(built.stderr, new RegExp(`^\\[env\\] ${lock.packages.length} of ${lock.packages.length} packages from vault ${ENTRY}$`, 'm'));
    assert.doesNotMatch(built.stderr, /with apt|suites' archives|snapshot URLs/, built.stderr);
    process.stderr.write(`# c-builder from the vault: ${lock.packages.length} packages, built in ${(built.ms / 1000).toFixed(1)} s\n`);
  });
});
