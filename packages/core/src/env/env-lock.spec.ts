// `reprokit env lock` against Debian's real archive, with reprokit's own apt index (not the host's).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { lockBuildEnv, readBuildEnvLock } from './build-env';
import { poolUrl, suiteDropsVersions } from './debs/apt-config';
import { tempDir } from '../testing/fixtures';

const cli = join(__dirname, '..', '..', 'bin', 'reprokit.js');

function spec(dir: string, suites: string[] | undefined, packages: string[]): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, 'env.json');
  writeFileSync(path, JSON.stringify({ name: 'probe', ...(suites ? { suites } : {}), packages }));
  return path;
}

describe('reprokit env lock', () => {
  it('resolves from the frozen release pocket alone, whatever the host has, and records each package\'s suite', async () => {
    const dir = tempDir();
    const path = spec(dir, undefined, ['dash', 'linux-libc-dev']);
    // The host's own sources list names bookworm-security, which has a newer linux-libc-dev: it must not count.
    const lines: string[] = [];
    const { lock, moving } = await lockBuildEnv(path, { log: (line) => lines.push(line) });
    assert.deepEqual(lock.suites, ['bookworm']);
    assert.ok(lock.packages.length >= 2);
    for (const p of lock.packages) assert.equal(p.suite, 'bookworm', p.name);
    assert.equal(moving.size, 0);
    assert.ok(!lines.some((line) => line.startsWith('warning:')), lines.join('\n'));
    // The version is bookworm's own: what its Packages index says, not what the host's apt would install.
    const kernel = lock.packages.find((p) => p.name === 'linux-libc-dev')!;
    const head = await fetch(poolUrl('bookworm', kernel.filename), { method: 'HEAD' });
    assert.equal(head.status, 200, `bookworm's archive serves ${kernel.filename}`);
    assert.equal(Number(head.headers.get('content-length')), kernel.size);
    const committed = await readBuildEnvLock(join(dir, 'env.lock.json'));
    assert.deepEqual(committed.packages.map((p) => p.suite), lock.packages.map((p) => p.suite));
  });

  it('with a security suite, records it per package and warns once, naming the count and what keeps them buildable', () => {
    const dir = tempDir();
    const path = spec(dir, ['bookworm', 'bookworm-security'], ['linux-libc-dev', 'dash']);
    const result = spawnSync(process.execPath, [cli, 'env', 'lock', path], { encoding: 'utf8' });
    assert.equal(result.status, 0, result.stderr);
    const lock = JSON.parse(readFileSync(join(dir, 'env.lock.json'), 'utf8'));
    const bySuite = (suite: string) => lock.packages.filter((p: { suite: string }) => p.suite === suite).map((p: { name: string }) => p.name);
    // Which packages the security suite has newer versions of changes with every update; that it has a
    // newer linux-libc-dev than the frozen pocket (6.1.192-x against 6.1.1xx) is what broke the old locks.
    const security = bySuite('bookworm-security');
    assert.ok(security.includes('linux-libc-dev'), JSON.stringify(security));
    assert.ok(bySuite('bookworm').includes('dash'), 'dash is only in the release pocket');
    assert.equal(security.length + bySuite('bookworm').length, lock.packages.length);
    const warnings = result.stderr.split('\n').filter((line) => line.includes('warning:'));
    assert.equal(warnings.length, 1, result.stderr);
    assert.match(warnings[0], new RegExp(`^\\[env\\] warning: ${security.length} from bookworm-security: bookworm-security drops superseded versions within days, .*\`reprokit env vault push .*env\\.lock\\.json --registry REGISTRY\``));
  });

  it('names the suites when apt cannot resolve a package from them', () => {
    const dir = tempDir();
    const path = spec(dir, ['bookworm'], ['no-such-package-anywhere']);
    const result = spawnSync(process.execPath, [cli, 'env', 'lock', path], { encoding: 'utf8' });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /^reprokit: .*env\.json: \$\.packages: apt cannot resolve them from bookworm: Unable to locate package no-such-package-anywhere$/m);
    assert.doesNotMatch(result.stderr, /\n\s+at /);
  });

  it('knows which suites drop superseded versions', () => {
    assert.deepEqual(['bookworm', 'bookworm-security', 'bookworm-updates', 'bookworm-backports', 'trixie', 'bookworm-proposed-updates'].map(suiteDropsVersions), [false, true, true, true, false, true]);
  });
});
