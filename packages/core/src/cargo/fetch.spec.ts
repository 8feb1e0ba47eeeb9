import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { lockedCrates } from './fetch';

const LOCK = 'version = 4\n\n[[package]]\nname = "app"\nversion = "0.1.0"\ndependencies = ["itoa"]\n\n[[package]]\nname = "itoa"\nversion = "1.0.1"\nsource = "registry+https://github.com/rust-lang/crates.io-index"\nchecksum = "aa"\n';

describe('lockedCrates', () => {
  const root = mkdtempSync(join(tmpdir(), 'reprokit-locked-crates-'));
  after(() => rmSync(root, { recursive: true, force: true }));
  const dir = (name: string, files: Record<string, string>) => {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(join(root, name, path, '..'), { recursive: true });
      writeFileSync(join(root, name, path), content);
    }
    return join(root, name);
  };

  it('lists the crates the lock takes from a registry, keyed by the lock hash', () => {
    const locked = lockedCrates(dir('plain', { 'Cargo.lock': LOCK }));
    assert.deepEqual(locked.fetched, ['itoa 1.0.1']);
    assert.equal(locked.vendored, false);
    assert.match(locked.key, /^[0-9a-f]{64}$/);
    assert.equal(lockedCrates(dir('same', { 'Cargo.lock': LOCK })).key, locked.key, 'the same lock, the same cache');
    assert.notEqual(lockedCrates(dir('other', { 'Cargo.lock': LOCK + '\n' })).key, locked.key);
  });

  it('keys by the source configuration too, and fetches nothing for a vendored directory source', () => {
    const mirror = lockedCrates(dir('mirror', { 'Cargo.lock': LOCK, '.cargo/config.toml': '[source.crates-io]\nreplace-with = "m"\n[source.m]\nregistry = "sparse+http://127.0.0.1:1/"\n' }));
    assert.match(mirror.key, /^[0-9a-f]{64}-[0-9a-f]{16}$/);
    assert.equal(mirror.vendored, false);
    const vendored = lockedCrates(dir('vendored', { 'Cargo.lock': LOCK, '.cargo/config': '[source.crates-io]\nreplace-with = "v"\n[source.v]\ndirectory = "vendor"\n' }));
    assert.equal(vendored.vendored, true);
  });

  it('names the file and entry of a broken lock', () => {
    assert.throws(() => lockedCrates(dir('broken', { 'Cargo.lock': '[[package]]\nname = "x"\nsource = "registry+x"\n' })), /Cargo\.lock: package\[0\]: a package from registry\+x needs a name and a version/);
    assert.throws(() => lockedCrates(dir('bad-toml', { 'Cargo.lock': '[[package]\n' })), /Cargo\.lock:1:\d+: invalid TOML/);
    assert.throws(() => lockedCrates(dir('missing', {})), /Cargo\.lock/);
  });
});
