// A lock whose versions apt no longer offers, rebuilt through the real CLI, apt (with an empty
// index), docker, and a snapshot-style mirror on 127.0.0.1.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { BuildEnvLock } from '../build-env';
import { SNAPSHOT_ORIGIN } from './deb-sources';
import { emptyAptConfig } from '../../testing/empty-apt';
import { tempDir } from '../../testing/fixtures';
import { SnapshotMirror } from '../../testing/snapshot-mirror';

const bin = join(__dirname, '..', '..', '..', 'bin', 'reprokit.js');
const LOCK = join(__dirname, '..', '..', '..', 'envs', 'static-base', 'env.lock.json');

/** The CLI in a child process, asynchronously: the mirror answers from this process meanwhile. */
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

describe('an environment whose versions apt no longer offers (static-base, real docker)', () => {
  const lock = JSON.parse(readFileSync(LOCK, 'utf8')) as BuildEnvLock;
  const mirror = new SnapshotMirror();
  const archived = tempDir('reprokit-debs-');
  // apt knows no package, the cache is empty, snapshot.debian.org itself is never asked.
  // Nor does the suite's archive any more (a security suite after an update; a release once archived).
  const gone = () => ({ APT_CONFIG: emptyAptConfig(), XDG_CACHE_HOME: tempDir('reprokit-cache-'), REPROKIT_SNAPSHOT_URL: 'http://127.0.0.1:9', REPROKIT_DEBIAN_MIRROR: 'http://127.0.0.1:9' });
  before(() => mirror.start());
  after(() => mirror.stop());

  it('the committed lock records each .deb with its sha1 and a snapshot.debian.org URL', () => {
    for (const p of lock.packages) {
      assert.match(p.sha1 ?? '', /^[0-9a-f]{40}$/, p.name);
      assert.ok(p.snapshot === `${SNAPSHOT_ORIGIN}/file/${p.sha1}` || p.snapshot?.startsWith(`${SNAPSHOT_ORIGIN}/archive/`), p.snapshot);
    }
  });

  it('env fetch archives the exact .debs with a SHA256SUMS that sha256sum -c accepts', async () => {
    const fetched = await reprokit(['env', 'fetch', LOCK, '--to', archived]);
    assert.equal(fetched.status, 0, fetched.stderr);
    assert.deepEqual(readdirSync(archived).sort(), ['SHA256SUMS', ...lock.packages.map((p) => p.filename.split('/').pop()!)].sort());
    const checked = spawnSync('sha256sum', ['-c', 'SHA256SUMS'], { cwd: archived, encoding: 'utf8' });
    assert.equal(checked.status, 0, checked.stdout + checked.stderr);
  });

  it('rebuilds with its recorded image ID from a snapshot-style mirror', async () => {
    for (const p of lock.packages) mirror.files.set(p.snapshot!.slice(SNAPSHOT_ORIGIN.length), readFileSync(join(archived, p.filename.split('/').pop()!)));
    mirror.requests.length = 0;
    const built = await reprokit(['env', 'build', LOCK, '--snapshot', mirror.base], gone());
    assert.equal(built.status, 0, built.stderr);
    assert.equal(built.stdout, `reprokit/static-base@${lock.imageId}\n`);
    assert.match(built.stderr, /fetching 1 packages apt does not offer from their snapshot URLs/);
    assert.deepEqual(mirror.requests, lock.packages.map((p) => p.snapshot!.slice(SNAPSHOT_ORIGIN.length)));
  });

  it('refuses a .deb with other bytes before anything is built', async () => {
    const [p] = lock.packages;
    mirror.files.set(p.snapshot!.slice(SNAPSHOT_ORIGIN.length), randomBytes(p.size));
    const built = await reprokit(['env', 'build', LOCK, '--snapshot', mirror.base], gone());
    assert.equal(built.status, 2);
    assert.match(built.stderr, new RegExp(`^reprokit: ${LOCK}: ${p.name} ${p.version}: ${mirror.base}/\\S+ has sha256 [0-9a-f]{64} but the lock says ${p.sha256}: refusing to build$`, 'm'));
    assert.doesNotMatch(built.stderr, /unpacking|writing the layer|\bloading\b/);
    assert.doesNotMatch(built.stderr, /^\s+at /m);
  });

  it('rebuilds from the archived directory (--debs) alone, and says what to do when no source has the files', async () => {
    const fromDir = await reprokit(['env', 'build', LOCK, '--debs', archived], gone());
    assert.equal(fromDir.status, 0, fromDir.stderr);
    assert.equal(fromDir.stdout, `reprokit/static-base@${lock.imageId}\n`);
    const nowhere = await reprokit(['env', 'build', LOCK], gone());
    assert.equal(nowhere.status, 2);
    assert.match(nowhere.stderr, /no source has netbase=.*give a directory of the \.debs \(`--debs DIR`, made by `reprokit env fetch`\), a mirror \(`--mirror URL`\)/);
  });
});
