import assert from 'node:assert/strict';
import { chmodSync, cpSync, readFileSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { repoRoot, TempWorkspace } from './workspace';

// antirez/kilo, unmodified (e2e/fixtures/kilo/SOURCE): its makefile writes `kilo` next to kilo.c,
// as most makefiles do. reprokit builds it in a writable copy of the project, by default for make.
describe('an unmodified in-tree makefile project (kilo) reproduces', () => {
  const ws = new TempWorkspace();
  const dir = join(ws.root, 'packages/kilo');
  cpSync(join(repoRoot, 'e2e/fixtures/kilo'), dir, { recursive: true });
  ws.write(
    'packages/kilo/project.json',
    JSON.stringify({ name: 'kilo', targets: { elf: { executor: '@reprokit/nx:elf', options: { binary: 'kilo', command: ['make'], artifact: '/src/kilo' } } } }, null, 2),
  );
  ws.commit('kilo');
  // A leftover of a build on the host (ignored by kilo's .gitignore), newer than kilo.c: make in a
  // plain copy of the directory would call it up to date and ship it.
  ws.write('packages/kilo/kilo', '#!/bin/sh\necho not built by reprokit\n');
  utimesSync(join(dir, 'kilo'), 2_000_000_000, 2_000_000_000);

  it('records the binary make built in the copy, not the leftover; the project is left as it was', () => {
    const { status, output } = ws.nx('run', 'kilo:checksum', '--update');
    assert.equal(status, 0, output);
    assert.match(output, /building in a copy of the project \(6 files, mtime \d+\)/);
    assert.match(output, /cc -o kilo kilo\.c -Wall -W -pedantic -std=c99/);
    assert.ok(readFileSync(join(dir, 'dist/kilo')).subarray(0, 4).equals(Buffer.from('\x7fELF', 'latin1')));
    const manifest = JSON.parse(ws.read('packages/kilo/repro-manifest.json'));
    assert.match(manifest.artifacts[0].environment.toolchain, /^gcc-\d+ /);
    assert.equal(ws.read('packages/kilo/kilo'), '#!/bin/sh\necho not built by reprokit\n');
    assert.equal(ws.git('status', '--porcelain', '--', 'packages/kilo', ':(exclude)packages/kilo/repro-manifest.json'), '');
  });

  it('rebuilds to the same binary from a checkout with other mtimes and modes', () => {
    ws.commit('kilo: record artifact hashes');
    utimesSync(join(dir, 'kilo.c'), 1_000, 1_000);
    chmodSync(join(dir, 'Makefile'), 0o600);
    const { status, output } = ws.nx('run', 'kilo:reproduce', '--skip-nx-cache');
    assert.equal(status, 0, output);
    assert.match(output, /building in a copy of the project/);
    assert.match(output, /^REPRODUCED kilo \(elf\)$/m);
  });

  it('the whole project is an input of the build, its outputs and the manifest are not', () => {
    const { status, output } = ws.nx('show', 'target', 'inputs', 'kilo:elf', '--json');
    assert.equal(status, 0, output);
    const files: string[] = JSON.parse(output.slice(output.indexOf('{'))).files;
    for (const file of ['packages/kilo/kilo.c', 'packages/kilo/Makefile', 'packages/kilo/LICENSE', 'packages/kilo/project.json']) assert.ok(files.includes(file), file);
    assert.ok(!files.some((file) => file.startsWith('packages/kilo/dist/') || file === 'packages/kilo/repro-manifest.json'), files.join(' '));
  });

  it('with inTree off the project is mounted read-only: make takes a host leftover for up to date, or cannot write', () => {
    chmodSync(join(dir, 'Makefile'), 0o644);
    const readOnly = () => ws.nx('run', 'kilo:elf', '--inTree=false', '--artifact=kilo', '--skip-nx-cache');
    // The mount shows the host's leftover too: make takes it for up to date.
    const stale = readOnly();
    assert.notEqual(stale.status, 0);
    assert.match(stale.output, /make: Nothing to be done for 'all'/);
    rmSync(join(dir, 'kilo'));
    const { status, output } = readOnly();
    assert.notEqual(status, 0);
    assert.match(output, /kilo: Read-only file system/);
  });

  it('an artifact option below /out that an in-tree make missed: the error names the file it left and the option to write', () => {
    const { status, output } = ws.nx('run', 'kilo:elf', '--artifact=kilo', '--skip-nx-cache');
    assert.notEqual(status, 0);
    assert.match(output, /artifact kilo: the build reported success but left no such file in \/out; it left \/src\/kilo: write "artifact": "\/src\/kilo"/);
  });
});
