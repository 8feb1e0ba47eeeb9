import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { TarWriter } from '../archive/tar-writer';
import { tempDir } from '../testing/fixtures';
import { readPackageArchive } from './package-archive';
import { compareEntries, packageInconsistencies } from './verify-package';

const PKGINFO = 'pkgname = x\npkgbase = x\npkgver = 1.0-1\nbuilddate = 1000\npackager = p\nsize = 5\narch = x86_64\n';
const BUILDINFO = 'format = 2\npkgname = x\npkgbase = x\npkgver = 1.0-1\npkgarch = x86_64\npkgbuild_sha256sum = ' + '0'.repeat(64) + '\npackager = p\nbuilddate = 1000\nbuilddir = /build\n';
const long = 'usr/share/x/' + 'n'.repeat(120);

/** A package as makepkg lays it out, written with reprokit's tar writer (ustar, PAX for the long name). */
function writePackage(dir: string, options: { buildinfo?: string; payload?: string; mtime?: number } = {}): string {
  const tarPath = join(dir, 'p.tar');
  const fd = openSync(tarPath, 'w');
  const tar = new TarWriter(fd, options.mtime ?? 1000);
  const meta = { mode: 0o644, uid: 0, gid: 0 };
  tar.buffer('.BUILDINFO', Buffer.from(options.buildinfo ?? BUILDINFO), meta);
  tar.buffer('.PKGINFO', Buffer.from(PKGINFO), meta);
  tar.directory('usr', { ...meta, mode: 0o755 });
  tar.buffer('usr/bin/x', Buffer.from(options.payload ?? 'hello'), { ...meta, mode: 0o755 });
  tar.symlink('usr/bin/y', 'x', { ...meta, mode: 0o777 });
  tar.buffer(long, Buffer.from('long'), meta);
  tar.finish();
  closeSync(fd);
  const file = join(dir, `x-1.0-1-x86_64.pkg.tar.gz`);
  writeFileSync(file, gzipSync(readFileSync(tarPath)));
  return file;
}

describe('readPackageArchive', () => {
  it('reads entries with type, mode, owner, mtime and content hash, and parses the metadata', () => {
    const archive = readPackageArchive(writePackage(tempDir()));
    assert.deepEqual(
      archive.entries.map((e) => [e.path, e.type, e.mode.toString(8), e.uid, e.mtime]),
      [
        ['.BUILDINFO', 'file', '644', 0, 1000],
        ['.PKGINFO', 'file', '644', 0, 1000],
        ['usr', 'directory', '755', 0, 1000],
        ['usr/bin/x', 'file', '755', 0, 1000],
        ['usr/bin/y', 'symlink', '777', 0, 1000],
        [long, 'file', '644', 0, 1000],
      ],
    );
    assert.equal(archive.entries[3].sha256, createHash('sha256').update('hello').digest('hex'));
    assert.equal(archive.entries[4].link, 'x');
    assert.equal(archive.pkginfo.pkgname, 'x');
    assert.equal(archive.buildinfo.builddir, '/build');
  });

  it('names the package and the metadata line when .BUILDINFO is bad', () => {
    const file = writePackage(tempDir(), { buildinfo: BUILDINFO.replace('builddate = 1000', 'builddate = -1') });
    assert.throws(() => readPackageArchive(file), { name: 'UserError', message: 'x-1.0-1-x86_64.pkg.tar.gz:.BUILDINFO:8: builddate: must be integer' });
  });

  it('reports a truncated or corrupt package with its path', () => {
    const dir = tempDir();
    const file = writePackage(dir);
    const cut = join(dir, 'cut.pkg.tar.gz');
    writeFileSync(cut, readFileSync(file).subarray(0, 100));
    assert.throws(() => readPackageArchive(cut), { name: 'UserError', message: new RegExp(`^${cut}: not a valid gzip stream .*truncated or corrupt$`) });
    const zstd = join(dir, 'bad.pkg.tar.zst');
    writeFileSync(zstd, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]));
    assert.throws(() => readPackageArchive(zstd), { message: new RegExp(`^${zstd}: not a valid zstd stream`) });
    const tar = join(dir, 'short.pkg.tar');
    writeFileSync(tar, Buffer.alloc(512, 0x41));
    assert.throws(() => readPackageArchive(tar), { message: new RegExp(`^${tar}: `) });
    assert.throws(() => readPackageArchive(join(dir, 'none.pkg.tar.zst')), { message: /none\.pkg\.tar\.zst: no such file or directory$/ });
  });
});

describe('compareEntries and packageInconsistencies', () => {
  it('names the entry whose content differs, with its size', () => {
    const dir = tempDir();
    const a = readPackageArchive(writePackage(join(dir), {}));
    const other = tempDir();
    const b = readPackageArchive(writePackage(other, { payload: 'hellO!' }));
    const differences = compareEntries(a.entries, b.entries);
    assert.deepEqual(differences.map((d) => [d.path, d.status, d.fields.map((f) => f.key)]), [['usr/bin/x', 'differs', ['content', 'size']]]);
    assert.deepEqual(packageInconsistencies(a), []);
  });

  it('reports mtimes and a .BUILDINFO builddate that contradict the package', () => {
    const archive = readPackageArchive(writePackage(tempDir(), { buildinfo: BUILDINFO.replace('builddate = 1000', 'builddate = 2000') }));
    assert.deepEqual(packageInconsistencies(archive), [
      '.BUILDINFO builddate = 2000 but .PKGINFO builddate = 1000',
      '.BUILDINFO builddate = 2000 but 6 of 6 entries have another mtime (e.g. .BUILDINFO: 1000)',
    ]);
  });
});
