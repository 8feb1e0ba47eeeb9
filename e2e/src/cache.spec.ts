import assert from 'node:assert/strict';
import { chmodSync, cpSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TempWorkspace } from './workspace';

// Nx caching of the inferred targets, through real nx: every declared input misses, an unrelated
// file hits, a poisoned cache entry cannot pass reproduce, and affected is exact.
describe('caching and affected in a temp workspace', () => {
  const ws = new TempWorkspace();
  const FROM_CACHE = /nx run asdf:elf[^\n]*  \[(local cache|existing outputs match the cache, left as is)\]/;
  const elf = (...args: string[]) => ws.nx('run', 'asdf:elf', ...args);

  function assertMiss(change: string, run = elf) {
    const { status, output } = run();
    assert.equal(status, 0, output);
    assert.doesNotMatch(output, FROM_CACHE, `${change} should miss the cache`);
    const again = run();
    assert.match(again.output, FROM_CACHE, `the run after ${change} should hit the cache`);
  }

  it('builds once, then hits', () => {
    assert.equal(elf().status, 0);
    assert.match(elf().output, FROM_CACHE);
  });

  it('misses when a source file changes', () => {
    ws.write('packages/asdf/src/extra.rs', '// not even used by main.rs\n');
    assertMiss('a new file under src/');
  });

  it('misses when a file the sources include_str! from outside src/ changes', () => {
    ws.write('packages/asdf/NOTES.txt', 'first\n');
    ws.write('packages/asdf/src/extra.rs', 'pub const NOTES: &str = include_str!("../NOTES.txt");\n');
    assertMiss('include_str! of a new file');
    ws.write('packages/asdf/NOTES.txt', 'second\n');
    assertMiss('the included file');
  });

  it('misses when Cargo.lock changes', () => {
    ws.write('packages/asdf/Cargo.lock', ws.read('packages/asdf/Cargo.lock') + '\n');
    assertMiss('Cargo.lock');
  });

  it('misses when the environment lock changes', () => {
    const path = 'packages/core/envs/rust-builder/env.lock.json';
    ws.write(path, ws.read(path).replace(/\n$/, '\n\n'));
    assertMiss('env.lock.json');
  });

  it('misses when an executor option changes', () => {
    assertMiss('--sourceDateEpoch', () => elf('--sourceDateEpoch=86400'));
  });

  it('misses when the host toolchain reports another version', () => {
    const bin = join(ws.root, 'fake-bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'rustc'), '#!/bin/sh\necho "rustc 9.9.9 (fake)"; echo "release: 9.9.9"\n');
    chmodSync(join(bin, 'rustc'), 0o755);
    const saved = process.env.PATH;
    process.env.PATH = `${bin}:${saved}`;
    try {
      assertMiss('rustc -vV');
    } finally {
      process.env.PATH = saved;
    }
  });

  it('misses when the builder identity changes: the provenance a cache hit restores names the builder that asks', () => {
    const saved = process.env.REPROKIT_BUILDER_ID;
    process.env.REPROKIT_BUILDER_ID = 'https://rebuilders.example/cache-test';
    try {
      assertMiss('REPROKIT_BUILDER_ID');
      const statement = ws.read('packages/asdf/dist/.reprokit/asdf.intoto.json');
      assert.match(statement, /"id": "https:\/\/rebuilders\.example\/cache-test"/);
    } finally {
      if (saved === undefined) delete process.env.REPROKIT_BUILDER_ID;
      else process.env.REPROKIT_BUILDER_ID = saved;
    }
  });

  it('hits when only a README changes', () => {
    ws.write('packages/asdf/README.md', '# asdf\n');
    assert.match(elf().output, FROM_CACHE);
  });

  it('fails reproduce when an artifact was altered inside the cache, although the build hits', () => {
    const cacheDir = join(ws.root, '.nx', 'cache');
    const entries = readdirSync(cacheDir, { recursive: true }).map(String).filter((p) => p.endsWith(join('packages', 'asdf', 'dist', 'asdf')));
    assert.ok(entries.length > 0, 'no cached asdf binary found');
    for (const entry of entries) {
      const file = join(cacheDir, entry);
      const bytes = readFileSync(file);
      bytes[bytes.length - 1] ^= 0xff;
      writeFileSync(file, bytes);
    }
    rmSync(join(ws.root, 'packages/asdf/dist'), { recursive: true, force: true });
    // The build restores the poisoned binary from the cache; reproduce then re-hashes it. (Its other
    // task dependencies, the oci and arch builds, are left out: they are not what this checks, and
    // building them cold cost two minutes of the suite.)
    const restored = elf();
    assert.equal(restored.status, 0, restored.output);
    assert.match(restored.output, FROM_CACHE);
    const { status, output } = ws.nx('run', 'asdf:reproduce', '--excludeTaskDependencies');
    assert.notEqual(status, 0, output);
    assert.match(output, /^MISMATCH asdf \(elf\)$/m);
  });

  it('affected picks exactly the projects a change touches', () => {
    // A second Cargo project, so there is something not to pick.
    cpSync(join(ws.root, 'packages/asdf'), join(ws.root, 'packages/qwer'), { recursive: true, filter: (src) => !/\/(dist|target)$/.test(src) });
    ws.write('packages/qwer/project.json', JSON.stringify({ name: 'qwer', projectType: 'application' }));
    ws.write('packages/qwer/Cargo.toml', ws.read('packages/qwer/Cargo.toml').replace('name = "asdf"', 'name = "qwer"'));
    ws.write('packages/qwer/Cargo.lock', ws.read('packages/qwer/Cargo.lock').replace('name = "asdf"', 'name = "qwer"'));
    rmSync(join(ws.root, 'packages/qwer/repro-manifest.json'));
    const base = ws.commit('two projects');
    const affected = (...extra: string[]) => ws.nx('show', 'projects', '--affected', '-t', 'reproduce', `--base=${base}`, ...extra).output.trim().split('\n').filter((l) => /^[a-z]+$/.test(l)).sort();
    assert.deepEqual(affected(), []);
    ws.write('packages/qwer/src/main.rs', ws.read('packages/qwer/src/main.rs').replace('Hello', 'Hallo'));
    assert.deepEqual(affected(), ['qwer']);
    ws.write('packages/asdf/src/main.rs', ws.read('packages/asdf/src/main.rs') + '\n');
    assert.deepEqual(affected(), ['asdf', 'qwer']);
  });
});
