import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TempWorkspace } from './workspace';

// The one journey of the foundation issue, through real nx, real cargo and a real git repository.
describe('nx run asdf:reproduce in a temp workspace', () => {
  const ws = new TempWorkspace();
  const head = ws.git('rev-parse', 'HEAD');
  const manifest = () => JSON.parse(ws.read('packages/asdf/repro-manifest.json'));
  const noStack = (output: string) => assert.doesNotMatch(output, /^\s+at .*\(.*:\d+:\d+\)$/m, 'stack trace printed');

  it('builds asdf and prints the paper trail with the committed hash', () => {
    const { status, output } = ws.nx('run', 'asdf:reproduce');
    assert.equal(status, 0, output);
    const b2 = manifest().artifacts[0].blake2b512;
    assert.match(output, new RegExp(`commit: +${head} \\(clean\\)`));
    assert.match(output, /commit date: 2026-01-01T00:00:00Z/);
    assert.match(output, /^REPRODUCED asdf \(elf\)$/m);
    const image = JSON.parse(ws.read('nx.json')).plugins[0].options.elf.image;
    assert.ok(output.includes(`  built in ${image} (rustc-web `), output);
    assert.ok(output.includes(`\n${b2}  packages/asdf/dist/asdf\n`), output);
    assert.match(output, /6 of 6 artifacts REPRODUCED/);
  });

  it('verifies again on the second run, which is a cache hit', () => {
    const { status, output } = ws.nx('run', 'asdf:reproduce');
    assert.equal(status, 0, output);
    assert.match(output, /nx run asdf:elf +\[(local cache|existing outputs match the cache, left as is)\]/);
    assert.match(output, /^REPRODUCED asdf \(elf\)$/m);
  });

  it('the same binary verifies with the plain CLI and with run-many -t checksum', () => {
    const cli = ws.reprokit('verify', 'packages/asdf/repro-manifest.json');
    assert.equal(cli.status, 0, cli.output);
    assert.match(cli.output, /^asdf\s+elf\s+MATCH/m);
    const many = ws.nx('run-many', '-t', 'checksum', '--output-style=static');
    assert.equal(many.status, 0, many.output);
    assert.match(many.output, /1 match, 0 mismatch, 0 missing, 0 unexpected/);
  });

  it('run-many reproduces both example projects in parallel; re-recording in parallel changes no manifest', () => {
    const { status, output } = ws.nx('run-many', '-t', 'reproduce', '--parallel=2', '--output-style=static');
    assert.equal(status, 0, output);
    assert.match(output, /^REPRODUCED asdf \(elf\)$/m);
    assert.match(output, /^REPRODUCED hello \(elf\)$/m);
    assert.match(output, /built in reprokit\/c-builder@sha256:[0-9a-f]{64} \(gcc-12 /);
    const update = ws.nx('run-many', '-t', 'checksum', '--parallel=2', '--output-style=static', '--update');
    assert.equal(update.status, 0, update.output);
    assert.match(update.output, /packages\/hello-c\/repro-manifest.json unchanged/);
    assert.equal(ws.git('status', '--porcelain', '--', '*repro-manifest.json'), '');
  });

  it('declares sources, lockfiles, toolchain and its own code as inputs of elf; a README is not one', () => {
    const { status, output } = ws.nx('show', 'target', 'inputs', 'asdf:elf', '--json');
    assert.equal(status, 0, output);
    const text = output.slice(output.indexOf('{'));
    for (const input of ['packages/asdf/src/main.rs', 'packages/asdf/Cargo.lock', 'packages/asdf/Cargo.toml', 'packages/core/envs/rust-builder/env.lock.json', 'rustc -vV', 'packages/core/src/hash.ts', 'packages/nx/src/executors/elf/executor.ts']) {
      assert.ok(text.includes(input), `${input} is not an input of asdf:elf: ${text}`);
    }
    ws.write('packages/asdf/README.md', '# asdf\n');
    const after = ws.nx('run', 'asdf:reproduce');
    assert.equal(after.status, 0, after.output);
    assert.match(after.output, /nx run asdf:elf +\[(local cache|existing outputs match the cache, left as is)\]/);
  });

  it('fails naming the elf artifact after one byte of src/main.rs changes', () => {
    const source = ws.read('packages/asdf/src/main.rs');
    ws.write('packages/asdf/src/main.rs', source.replace('Hello', 'Jello'));
    const { status, output } = ws.nx('run', 'asdf:reproduce');
    assert.notEqual(status, 0, output);
    assert.doesNotMatch(output, /nx run asdf:elf +\[local cache\]/);
    assert.match(output, /^MISMATCH asdf \(elf\)$/m);
    assert.match(output, /asdf: differs in size, blake2b512, sha256|asdf: differs in blake2b512, sha256/);
    assert.ok(output.includes(`expected blake2b512 ${manifest().artifacts[0].blake2b512}`));
    // The image is built from the working tree, the Arch package from what git has: the
    // uncommitted change leaves the package as recorded.
    assert.match(output, /^MISMATCH asdf-image \(oci\)$/m);
    assert.match(output, /NOT REPRODUCED: 2 of 6 artifacts failed/);
    noStack(output);
    ws.write('packages/asdf/src/main.rs', source);
  });

  it('a changed image pin is a cache miss: the build runs, and refuses a pin its lock does not produce', () => {
    const nxJson = ws.read('nx.json');
    const pinned = JSON.parse(nxJson).plugins[0].options.elf.image as string;
    const other = pinned.replace(/@sha256:([0-9a-f])/, (_m, c) => `@sha256:${c === '0' ? '1' : '0'}`);
    ws.write('nx.json', nxJson.replace(pinned, other));
    const { status, output } = ws.nx('run', 'asdf:elf');
    assert.notEqual(status, 0, output);
    assert.doesNotMatch(output, /\[local cache\]|existing outputs match the cache/);
    assert.ok(output.includes(`the target pins ${other.split('@')[1]}: update the pin or the lock`), output);
    noStack(output);
    ws.write('nx.json', nxJson);
  });

  it('in host mode, refuses a toolchain other than the pinned one, naming both versions', () => {
    const nxJson = ws.read('nx.json');
    ws.write('nx.json', nxJson.replace('"version": "1.95.0"', '"version": "1.63.0"'));
    const { status, output } = ws.nx('run', 'asdf:elf:host');
    assert.notEqual(status, 0, output);
    assert.match(output, /toolchain mismatch: rustc is 1\.95\.0 but 1\.63\.0 is pinned/);
    noStack(output);
    ws.write('nx.json', nxJson);
  });

  it('a missing manifest is one line naming the path and the command that records it', () => {
    const saved = ws.read('packages/asdf/repro-manifest.json');
    ws.git('rm', '-q', 'packages/asdf/repro-manifest.json');
    const { status, output } = ws.nx('run', 'asdf:reproduce');
    assert.notEqual(status, 0);
    assert.match(output, /packages\/asdf\/repro-manifest\.json: manifest not found: record it with `npx nx run asdf:checksum --update`/);
    noStack(output);

    const recorded = ws.nx('run', 'asdf:checksum', '--update');
    assert.equal(recorded.status, 0, recorded.output);
    assert.deepEqual(manifest().artifacts, JSON.parse(saved).artifacts);
  });

  it('a broken manifest is one line naming the file and the JSON path', () => {
    const saved = ws.read('packages/asdf/repro-manifest.json');
    ws.write('packages/asdf/repro-manifest.json', saved.replace('"kind": "elf"', '"kind": "exe"'));
    const { status, output } = ws.nx('run', 'asdf:checksum');
    assert.notEqual(status, 0);
    assert.match(output, /packages\/asdf\/repro-manifest\.json: \$\.artifacts\[0\]\.kind: must be one of "elf", "oci", "arch", "npm", "file"/);
    noStack(output);
    ws.write('packages/asdf/repro-manifest.json', saved);
  });
});
