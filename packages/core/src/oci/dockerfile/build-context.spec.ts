import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { BuildContext } from './build-context';
import { writeLayer } from '../layer';

describe('BuildContext', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reprokit-context-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const context = join(dir, 'ctx');
  mkdirSync(join(context, 'src/sub'), { recursive: true });
  mkdirSync(join(context, 'target/release'), { recursive: true });
  writeFileSync(join(context, 'src/main.rs'), 'fn main() {}\n');
  writeFileSync(join(context, 'src/sub/notes.md'), 'x\n');
  writeFileSync(join(context, 'README.md'), 'readme\n');
  writeFileSync(join(context, 'run.sh'), '#!/bin/sh\n');
  chmodSync(join(context, 'run.sh'), 0o775);
  chmodSync(join(context, 'README.md'), 0o664);
  writeFileSync(join(context, 'target/release/asdf'), 'binary');
  symlinkSync('src/main.rs', join(context, 'link'));
  writeFileSync(join(context, '.dockerignore'), '# outputs\ntarget\n*.md\n!README.md\n');
  const ctx = new BuildContext(context);

  it('applies .dockerignore: anchored patterns, excluded directories, ! re-includes', () => {
    assert.equal(ctx.isIgnored('target/release/asdf'), true);
    assert.equal(ctx.isIgnored('README.md'), false);
    assert.equal(ctx.isIgnored('src/sub/notes.md'), false, '*.md is the root’s only');
    assert.equal(ctx.isIgnored('src/main.rs'), false);
  });

  it('COPY . dest: the context’s files under dest, sorted, modes normalized, owner --chown', () => {
    const entries = ctx.copyEntries('.', '/app/', { uid: 1000, gid: 1000 }, undefined, 'Dockerfile:3');
    assert.deepEqual(
      entries.map((e) => [e.name, e.type, e.mode.toString(8), e.uid]),
      [
        ['app/.dockerignore', 'file', '644', 1000],
        ['app/README.md', 'file', '644', 1000],
        ['app/link', 'symlink', '777', 1000],
        ['app/run.sh', 'file', '755', 1000],
        ['app/src', 'directory', '755', 1000],
        ['app/src/main.rs', 'file', '644', 1000],
        ['app/src/sub', 'directory', '755', 1000],
        ['app/src/sub/notes.md', 'file', '644', 1000],
      ],
    );
  });

  it('COPY file: to dest, or into dest/ when it ends in a slash; refuses excluded and outside sources', () => {
    assert.equal(ctx.copyEntries('src/main.rs', '/bin/x', undefined, 0o700, 'D:1')[0].name, 'bin/x');
    const [entry] = ctx.copyEntries('src/main.rs', '/bin/', undefined, 0o700, 'D:1');
    assert.deepEqual([entry.name, entry.mode, entry.uid], ['bin/main.rs', 0o700, 0]);
    assert.throws(() => ctx.copyEntries('target/release/asdf', '/x', undefined, undefined, 'D:2'), { message: /^D:2: COPY target\/release\/asdf: not found .*excluded by \.dockerignore/ });
    assert.throws(() => ctx.copyEntries('../x', '/x', undefined, undefined, 'D:3'), { message: /^D:3: COPY \.\.\/x: outside the build context/ });
    assert.throws(() => ctx.copyEntries('nope', '/x', undefined, undefined, 'D:4'), { message: /^D:4: COPY nope: not found/ });
  });

  it('a layer of the same entries is the same bytes, whatever the files’ times; GNU tar reads it', () => {
    const entries = ctx.copyEntries('.', '/app/', undefined, undefined, 'D:1');
    const first = writeLayer(entries, join(dir, 'one.tar'), 1700000000);
    execFileSync('touch', ['-d', '2001-01-01', join(context, 'src/main.rs')]);
    const second = writeLayer(ctx.copyEntries('.', '/app/', undefined, undefined, 'D:1'), join(dir, 'two.tar'), 1700000000);
    assert.equal(second.diffId, first.diffId);
    const listing = execFileSync('tar', ['-tvf', first.path, '--numeric-owner'], { encoding: 'utf8' });
    assert.match(listing, /^-rw-r--r-- 0\/0 +13 2023-11-14 22:13 app\/src\/main\.rs$/m);
    writeFileSync(join(context, 'src/main.rs'), 'fn main() { }\n');
    assert.notEqual(writeLayer(ctx.copyEntries('.', '/app/', undefined, undefined, 'D:1'), join(dir, 'three.tar'), 1700000000).diffId, first.diffId);
  });
});
