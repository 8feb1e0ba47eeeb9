import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TempWorkspace } from './workspace';

// The Arch package journey through real nx, real makepkg in the arch-builder container and a git
// repository whose history is not this repository's (other commits, other dates).
describe('nx run asdf:arch in a temp workspace', () => {
  const ws = new TempWorkspace();
  const PACKAGE = 'packages/asdf/dist/arch/asdf-0.1.1-1-x86_64.pkg.tar.zst';
  const recorded = (name: string) => JSON.parse(ws.read('packages/asdf/repro-manifest.json')).artifacts.find((a: { name: string }) => a.name === name);
  const sha256 = (path: string) => createHash('sha256').update(readFileSync(join(ws.root, path))).digest('hex');
  const noStack = (output: string) => assert.doesNotMatch(output, /^\s+at .*\(.*:\d+:\d+\)$/m, 'stack trace printed');

  // The first build also takes the verify option (a rebuild right after, with its verdict): one makepkg
  // less in the suite than building, then building again with --verify.
  it('builds the package, source tarball and repository whose hashes the committed manifest records; the verify option rebuilds it and prints the verdict', () => {
    const { status, output } = ws.nx('run', 'asdf:arch', '--verify');
    assert.equal(status, 0, output);
    assert.match(output, /^REPRODUCIBLE asdf 0\.1\.1-1$/m);
    assert.match(output, /built packages\/asdf\/dist\/arch\/asdf-0\.1\.1-1-x86_64\.pkg\.tar\.zst in reprokit\/arch-builder@sha256:[0-9a-f]{64} \(SOURCE_DATE_EPOCH=\d+, builddir \/build\)/);
    for (const name of ['asdf.pkg', 'asdf.source', 'asdf.db', 'asdf.files']) {
      const artifact = recorded(name);
      assert.equal(sha256(join('packages/asdf', artifact.path)), artifact.sha256, name);
    }
    assert.equal(recorded('asdf.pkg').path, 'dist/arch/asdf-0.1.1-1-x86_64.pkg.tar.zst');
  });

  it('reprokit arch verify rebuilds it from its .BUILDINFO: REPRODUCIBLE, exit 0', () => {
    const { status, output } = ws.reprokit('arch', 'verify', PACKAGE);
    assert.equal(status, 0, output);
    assert.match(output, /^REPRODUCIBLE asdf 0\.1\.1-1$/m);
    assert.ok(output.includes(`  rebuilt: sha256:${recorded('asdf.pkg').sha256}`), output);
  });

  it('the second run is a cache hit; the inputs are the project, the commit, the env lock and the makepkg scripts', () => {
    const again = ws.nx('run', 'asdf:arch', '--verify');
    assert.equal(again.status, 0, again.output);
    assert.match(again.output, /nx run asdf:arch --verify +\[(local cache|existing outputs match the cache, left as is)\]/);
    const { status, output } = ws.nx('show', 'target', 'inputs', 'asdf:arch', '--json');
    assert.equal(status, 0, output);
    const text = output.slice(output.indexOf('{'));
    for (const input of ['packages/asdf/PKGBUILD', 'packages/asdf/Cargo.lock', 'packages/asdf/src/main.rs', 'packages/core/envs/arch-builder/env.lock.json', 'packages/core/arch/makepkg.conf', 'git log -1 --format=%H:%ct', 'packages/nx/src/executors/arch/executor.ts']) {
      assert.ok(text.includes(input), `${input} is not an input of asdf:arch: ${text}`);
    }
    assert.ok(!JSON.parse(text).files.includes('packages/asdf/repro-manifest.json'), 'the manifest is not an input');
  });

  it('a PKGBUILD without package() fails in one line naming packages/asdf/PKGBUILD', () => {
    const pkgbuild = ws.read('packages/asdf/PKGBUILD');
    ws.write('packages/asdf/PKGBUILD', pkgbuild.replace(/package\(\) \{[^}]*\}\n/, ''));
    ws.commit('no package()');
    const { status, output } = ws.nx('run', 'asdf:arch');
    assert.notEqual(status, 0, output);
    assert.match(output, /\[asdf:arch\] error: packages\/asdf\/PKGBUILD: makepkg: Missing package\(\) function in PKGBUILD$/m);
    noStack(output);
    ws.write('packages/asdf/PKGBUILD', pkgbuild);
    ws.commit('package() back');
  });
});
