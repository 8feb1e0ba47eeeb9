import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync, chmodSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { sourceCopyList } from './source-copy';

describe('sourceCopyList', () => {
  const root = tempDir();
  mkdirSync(join(root, 'src', 'b'), { recursive: true });
  chmodSync(join(root, 'src'), 0o750);
  writeFileSync(join(root, 'Makefile'), '');
  writeFileSync(join(root, 'src', 'a.c'), '');
  writeFileSync(join(root, 'src', 'B.c'), '');
  symlinkSync('a.c', join(root, 'src', 'link'));
  mkdirSync(join(root, 'dist'));
  writeFileSync(join(root, 'dist', 'out'), '');

  it('lists parents before children, each directory in C-locale name order, leaving out excluded top-level entries', () => {
    assert.equal(sourceCopyList(root, { exclude: ['dist'], order: 'name' }), 'f Makefile\nd 750 src\nf src/B.c\nf src/a.c\nd 755 src/b\nl src/link\n');
  });

  it('reverses each directory for the file-order variation, parents still first', () => {
    assert.equal(sourceCopyList(root, { exclude: ['dist'], order: 'reverse' }), 'd 750 src\nl src/link\nd 755 src/b\nf src/a.c\nf src/B.c\nf Makefile\n');
  });

  it('refuses names with a newline and special files, naming them', () => {
    const bad = tempDir();
    writeFileSync(join(bad, 'a\nb'), '');
    assert.throws(() => sourceCopyList(bad, { exclude: [], order: 'name' }), /a\nb: a file name with a newline cannot be copied/);
    rmSync(join(bad, 'a\nb'));
    assert.equal(spawnSync('mkfifo', [join(bad, 'pipe')]).status, 0);
    assert.throws(() => sourceCopyList(bad, { exclude: [], order: 'name' }), /pipe: a special file \(not a file, directory or symlink\) cannot be copied/);
  });
});
