import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { sourceFiles, writeSourceCopyTar } from './source-copy';
import { tempDir } from '../testing/fixtures';

/** GNU tar's verbose listing: mode, owner, size, mtime (seconds) and name of every entry, in archive order. */
function gnuTarListing(tar: string): string[] {
  const listed = spawnSync('tar', ['--numeric-owner', '--full-time', '-tvf', tar], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
  assert.equal(listed.status, 0, listed.stderr);
  return listed.stdout.trim().split('\n').map((line) => line.replace(/\s+/g, ' '));
}

function project(): string {
  const dir = tempDir('reprokit-src-');
  mkdirSync(join(dir, 'src/sub'), { recursive: true });
  mkdirSync(join(dir, 'dist'));
  mkdirSync(join(dir, 'target'));
  writeFileSync(join(dir, 'Makefile'), 'all:\n');
  writeFileSync(join(dir, 'configure'), '#!/bin/sh\n');
  chmodSync(join(dir, 'configure'), 0o700);
  writeFileSync(join(dir, 'src/a.c'), 'int a;\n');
  chmodSync(join(dir, 'src/a.c'), 0o600);
  writeFileSync(join(dir, 'src/sub/b.c'), 'int b;\n');
  symlinkSync('sub/b.c', join(dir, 'src/b-link.c'));
  writeFileSync(join(dir, 'dist/old'), 'built before\n');
  writeFileSync(join(dir, 'target/x'), 'work\n');
  writeFileSync(join(dir, 'repro-manifest.json'), '{}\n');
  utimesSync(join(dir, 'src/a.c'), 2_000_000_000, 2_000_000_000);
  return dir;
}

describe('writeSourceCopyTar', () => {
  it('archives the project sorted, with parents first, one mtime, the build user and modes 0644/0755, outputs and manifest left out', () => {
    const dir = project();
    const tar = join(tempDir(), 'src.tar');
    const result = writeSourceCopyTar(dir, tar, { mtime: 1_700_000_000, uid: 1000, gid: 1001, excluded: ['dist', 'target', 'repro-manifest.json'] });
    assert.equal(result.files, 5);
    assert.deepEqual(gnuTarListing(tar), [
      '-rw-r--r-- 1000/1001 5 2023-11-14 22:13:20 Makefile',
      '-rwxr-xr-x 1000/1001 10 2023-11-14 22:13:20 configure',
      'drwxr-xr-x 1000/1001 0 2023-11-14 22:13:20 src/',
      '-rw-r--r-- 1000/1001 7 2023-11-14 22:13:20 src/a.c',
      'lrwxrwxrwx 1000/1001 0 2023-11-14 22:13:20 src/b-link.c -> sub/b.c',
      'drwxr-xr-x 1000/1001 0 2023-11-14 22:13:20 src/sub/',
      '-rw-r--r-- 1000/1001 7 2023-11-14 22:13:20 src/sub/b.c',
    ]);
  });

  it('gives the same bytes for the same files, whatever their host mtimes and non-executable mode bits', () => {
    const [a, b] = [project(), project()];
    utimesSync(join(b, 'Makefile'), 5, 5);
    chmodSync(join(b, 'src/a.c'), 0o664);
    const [ta, tb] = [join(tempDir(), 'a.tar'), join(tempDir(), 'b.tar')];
    const options = { mtime: 1, uid: 1000, gid: 1000, excluded: ['dist', 'target'] };
    writeSourceCopyTar(a, ta, options);
    writeSourceCopyTar(b, tb, options);
    assert.ok(readFileSync(ta).equals(readFileSync(tb)));
    chmodSync(join(b, 'src/a.c'), 0o775);
    writeSourceCopyTar(b, tb, options);
    assert.ok(!readFileSync(ta).equals(readFileSync(tb)), 'an executable bit is part of the source');
  });

  it('in a git work tree takes what a checkout has: ignored leftovers stay out, untracked files are in', () => {
    const dir = project();
    writeFileSync(join(dir, '.gitignore'), '*.o\n/dist/\n');
    writeFileSync(join(dir, 'src/a.o'), 'stale object from a host build\n');
    const git = (...args: string[]) => assert.equal(spawnSync('git', args, { cwd: dir }).status, 0, args.join(' '));
    git('init', '-q');
    git('add', 'Makefile', 'src/a.c', '.gitignore');
    git('-c', 'user.name=t', '-c', 'user.email=t@reprokit.invalid', 'commit', '-qm', 'x');
    assert.deepEqual(sourceFiles(dir, ['target', 'repro-manifest.json']), ['.gitignore', 'Makefile', 'configure', 'src/a.c', 'src/b-link.c', 'src/sub/b.c']);
  });

  it('refuses a FIFO in the project, naming it', () => {
    const dir = project();
    assert.equal(spawnSync('mkfifo', [join(dir, 'src/pipe')]).status, 0);
    assert.throws(() => writeSourceCopyTar(dir, join(tempDir(), 'x.tar'), { mtime: 0, uid: 1000, gid: 1000, excluded: [] }), {
      message: new RegExp(`^${join(dir, 'src/pipe')}: device, socket or FIFO in the project`),
    });
  });

  it('writes every directory in reverse name order for vary\'s file-order variation, parents still first, the same entries', () => {
    const dir = project();
    const options = { mtime: 1_700_000_000, uid: 1000, gid: 1001, excluded: ['dist', 'target', 'repro-manifest.json'] };
    const tars = { name: join(tempDir(), 'name.tar'), reverse: join(tempDir(), 'reverse.tar') };
    writeSourceCopyTar(dir, tars.name, options);
    writeSourceCopyTar(dir, tars.reverse, { ...options, order: 'reverse' });
    const names = (tar: string) => gnuTarListing(tar).map((line) => line.split(' ').slice(5).join(' '));
    assert.deepEqual(names(tars.reverse), ['src/', 'src/sub/', 'src/sub/b.c', 'src/b-link.c -> sub/b.c', 'src/a.c', 'configure', 'Makefile']);
    assert.deepEqual([...names(tars.reverse)].sort(), [...names(tars.name)].sort());
  });
});
