import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { main } from '../cli';
import { tempDir } from '../testing/fixtures';
import { writeTestImage } from '../testing/images';
import { diffBuffersResult, diffPaths } from './diff';
import { parseElf } from './elf';
import { renderDiff } from './render';

// A real ELF every Debian machine has (coreutils): dynamic, PIE, with notes and a build-id.
const ELF = '/bin/true';

/** readelf's section table: name, type, offset, size, the tool reprokit must agree with. */
function readelfSections(file: string): { name: string; offset: number; size: number }[] {
  const out = execFileSync('readelf', ['-S', '-W', file], { encoding: 'utf8' });
  return [...out.matchAll(/^\s*\[\s*(\d+)\]\s+(\S+)?\s+(\S+)\s+[0-9a-f]+\s+([0-9a-f]+)\s+([0-9a-f]+)/gm)]
    .filter((m) => m[1] !== '0')
    .map((m) => ({ name: m[2], offset: parseInt(m[4], 16), size: parseInt(m[5], 16) }));
}

const where = (result: ReturnType<typeof diffPaths>) => result.differences.map((d) => d.where.join(': '));

test('ELF sections: names, offsets and sizes as readelf -S reads them', () => {
  const elf = parseElf(readFileSync(ELF), ELF);
  const ours = elf.sections.slice(1).map((s) => ({ name: s.name, offset: s.offset, size: s.size }));
  assert.deepEqual(ours, readelfSections(ELF));
});

test('one byte changed in .rodata: the diff names .rodata, the offset and nothing else', () => {
  const dir = tempDir();
  const rodata = readelfSections(ELF).find((s) => s.name === '.rodata')!;
  const bytes = readFileSync(ELF);
  const at = rodata.offset + 5;
  bytes[at] ^= 0xff;
  writeFileSync(join(dir, 'tampered'), bytes);
  const result = diffPaths(ELF, join(dir, 'tampered'));
  assert.equal(result.format, 'elf');
  assert.equal(result.same, false);
  assert.deepEqual(where(result), ['section .rodata']);
  assert.match(result.differences[0].what, new RegExp(`section offset 0x5 \\(file offset 0x${at.toString(16)}\\)`));
  assert.match(result.differences[0].detail!, /^- /m);
});

test('another build-id is reported as the build-id note, and the header as its fields', () => {
  const dir = tempDir();
  const note = readelfSections(ELF).find((s) => s.name === '.note.gnu.build-id')!;
  const bytes = readFileSync(ELF);
  bytes[note.offset + note.size - 1] ^= 1; // last byte of the build-id itself
  bytes.writeUInt32LE(0x1234, 48); // e_flags of ELF64
  writeFileSync(join(dir, 'other'), bytes);
  const result = diffPaths(ELF, join(dir, 'other'));
  const lines = result.differences.map((d) => `${d.where.join(': ')}: ${d.what}`);
  assert.ok(lines.some((line) => /^section \.note\.gnu\.build-id: build-id [0-9a-f]{40} -> build-id [0-9a-f]{40}$/.test(line)), lines.join('\n'));
  assert.ok(lines.some((line) => line.startsWith('ELF header: e_flags: 0x0 -> 0x1234')), lines.join('\n'));
});

test('a truncated ELF says so instead of failing', () => {
  const result = diffBuffersResult(readFileSync(ELF), readFileSync(ELF).subarray(0, 4096), ['a', 'b'], 'true');
  assert.match(result.differences[0].what, /^cannot read as elf: B: .*truncated or corrupt/);
  assert.match(result.differences[1].what, /^bytes differ \(\d+ vs 4096 bytes\), first at offset 0x1000$/);
});

/** Two trees archived by GNU tar, the way a release tarball is made. */
function gnuTar(dir: string, name: string, files: Record<string, [string | Buffer, number]>, extra: string[] = []): string {
  const root = join(dir, `${name}-root`);
  for (const [path, [content, mode]] of Object.entries(files)) {
    mkdirSync(join(root, path, '..'), { recursive: true });
    writeFileSync(join(root, path), content, { mode });
  }
  const out = join(dir, `${name}.tar`);
  execFileSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', ...extra, '-cf', out, '-C', root, '.']);
  return out;
}

test('tar: content, mode, mtime and entries only on one side are named by entry; a gzip wrapper shows its mtime', () => {
  const dir = tempDir();
  const a = gnuTar(dir, 'a', { 'usr/bin/tool': ['#!/bin/sh\necho 1\n', 0o755], 'etc/conf': ['x=1\n', 0o644], 'old': ['', 0o644] });
  const b = gnuTar(dir, 'b', { 'usr/bin/tool': ['#!/bin/sh\necho 2\n', 0o755], 'etc/conf': ['x=1\n', 0o600], 'new': ['', 0o644] });
  const result = diffPaths(a, b);
  const lines = result.differences.map((d) => `${d.where.join(': ')}: ${d.what}`);
  assert.deepEqual(lines.filter((line) => !line.startsWith('(entry order)')), [
    'etc/conf: mode 0644 -> 0600',
    'old: only in A (file, 0 bytes)',
    'usr/bin/tool: text differs (3 vs 3 lines)',
    'new: only in B (file, 0 bytes)',
  ]);
  assert.match(result.differences[2].detail!, /^-echo 1\n\+echo 2$/m);
  // The same archive gzipped with and without a name and timestamp (gzip -n).
  writeFileSync(join(dir, 'a1.tar.gz'), execFileSync('gzip', ['-n', '-c', a]));
  const stamped = execFileSync('gzip', ['-c', a]);
  stamped.writeUInt32LE(1_700_000_000, 4);
  writeFileSync(join(dir, 'a2.tar.gz'), stamped);
  const gz = diffPaths(join(dir, 'a1.tar.gz'), join(dir, 'a2.tar.gz'));
  assert.equal(gz.format, 'gzip');
  // What `gzip -n` leaves out: the name (flag FNAME) and the timestamp.
  assert.deepEqual(gz.differences.map((d) => `${d.where.join(': ')}: ${d.what}`), ['gzip header: flags: 0x0 -> 0x8', 'gzip header: mtime: 0 -> 1700000000', 'gzip header: name: (none) -> a.tar']);
});

test('tar: owner, mtime and PAX records', () => {
  const dir = tempDir();
  const plain = '--pax-option=delete=atime,delete=ctime';
  // GNU tar writes a PAX header only when an entry needs one: a name past ustar's 100 bytes does.
  const f = 'f'.repeat(120);
  const a = gnuTar(dir, 'a', { [f]: ['same\n', 0o644] }, ['--format=pax', plain]);
  const b = gnuTar(dir, 'b', { [f]: ['same\n', 0o644] }, ['--format=pax', plain, '--mtime=@86400', '--owner=7', '--pax-option=reprokit.note:=hello']);
  const lines = diffPaths(a, b).differences.map((d) => `${d.where.join(': ')}: ${d.what}`);
  assert.ok(lines.includes(`${f}: owner 0:0 -> 7:0`), lines.join('\n'));
  assert.ok(lines.includes(`${f}: mtime 0 (1970-01-01T00:00:00Z) -> 86400 (1970-01-02T00:00:00Z)`), lines.join('\n'));
  assert.ok(lines.includes(`${f}: PAX reprokit.note (none) -> hello`), lines.join('\n'));
  assert.ok(lines.includes('.: owner 0:0 -> 7:0'), 'the root entry is named .');
});

test('a truncated tar is named as truncated', () => {
  const dir = tempDir();
  const a = gnuTar(dir, 'a', { f: ['x'.repeat(5000), 0o644] });
  writeFileSync(join(dir, 'cut.tar'), readFileSync(a).subarray(0, 2048));
  const result = diffPaths(a, join(dir, 'cut.tar'));
  assert.match(result.differences[0].what, /^cannot read as tar: B: truncated tar archive/);
});

test('pacman package (zstd): .PKGINFO fields, .BUILDINFO lists and the ELF inside, by entry and section', () => {
  const dir = tempDir();
  const pkginfo = (date: number) => `# Generated by makepkg 6.0.2\npkgname = tool\npkgver = 1-1\nbuilddate = ${date}\nsize = 100\n`;
  const buildinfo = (pkgs: string[]) => `format = 2\npkgname = tool\n${pkgs.map((p) => `installed = ${p}`).join('\n')}\n`;
  const elf = readFileSync(ELF);
  const tampered = Buffer.from(elf);
  const rodata = readelfSections(ELF).find((s) => s.name === '.rodata')!;
  tampered[rodata.offset] ^= 1;
  const a = gnuTar(dir, 'a', { '.PKGINFO': [pkginfo(1), 0o644], '.BUILDINFO': [buildinfo(['gcc-12', 'make-4']), 0o644], 'usr/bin/true': [elf, 0o755] });
  const b = gnuTar(dir, 'b', { '.PKGINFO': [pkginfo(2), 0o644], '.BUILDINFO': [buildinfo(['gcc-13', 'make-4']), 0o644], 'usr/bin/true': [tampered, 0o755] });
  for (const side of [a, b]) execFileSync('zstd', ['-q', '-19', '--rm', side, '-o', `${side.replace(/\.tar$/, '')}.pkg.tar.zst`]);
  const result = diffPaths(join(dir, 'a.pkg.tar.zst'), join(dir, 'b.pkg.tar.zst'));
  assert.equal(result.format, 'zstd');
  const lines = result.differences.map((d) => `${d.where.join(': ')}: ${d.what}`);
  assert.ok(lines.includes('.PKGINFO: builddate: 1 -> 2'), lines.join('\n'));
  assert.ok(lines.includes('.BUILDINFO: installed: 1 removed, 1 added'), lines.join('\n'));
  assert.ok(lines.some((line) => line.startsWith('usr/bin/true: section .rodata: content differs')), lines.join('\n'));
});

test('OCI layouts and docker-archives: image ID, config fields, and the layer file that differs', () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'a'));
  mkdirSync(join(dir, 'b'));
  const a = writeTestImage(join(dir, 'a'), { app: 'hello\n', 'etc/motd': 'hi\n' });
  const b = writeTestImage(join(dir, 'b'), { app: 'hello\n', 'etc/motd': 'ho\n' }, '2026-11-26T00:00:00Z');
  for (const [x, y, source] of [[a.layout, b.layout, 'oci-layout'], [a.archive, b.archive, 'docker-archive']] as const) {
    const result = diffPaths(x, y);
    const lines = result.differences.map((d) => `${d.where.join(': ')}: ${d.what}`);
    assert.ok(lines.includes(`${source}: config: image ID ${a.files.imageId} -> ${b.files.imageId}`), lines.join('\n'));
    assert.ok(lines.includes(`${source}: config: $.created: "2026-11-25T00:00:00Z" -> "2026-11-26T00:00:00Z"`), lines.join('\n'));
    assert.ok(lines.some((line) => new RegExp(`^${source}: layer 1 \\([^)]*\\): etc/motd: text differs`).test(line)), lines.join('\n'));
    assert.ok(!lines.some((line) => line.includes(': app:')), 'the unchanged file is not reported');
  }
  assert.equal(diffPaths(a.layout, a.layout).same, true);
});

test('JSON by field with a unified diff, text as a unified diff, binary as a hex window', () => {
  const j = diffBuffersResult(Buffer.from('{"a":1,"b":[1,2]}'), Buffer.from('{"a":1,"b":[1,3]}'), ['x', 'y'], 'x.json');
  assert.equal(j.format, 'json');
  assert.deepEqual(j.differences.map((d) => `${d.where.join(': ')}: ${d.what}`), ['$.b[1]: 2 -> 3']);
  assert.match(j.differences[0].detail!, /^-\s+2\n\+\s+3$/m);
  const t = diffBuffersResult(Buffer.from('one\ntwo\nthree\n'), Buffer.from('one\n2\nthree\n'), ['x', 'y'], 'x.txt');
  assert.equal(t.differences[0].detail, '--- A\n+++ B\n@@ -1,3 +1,3 @@\n one\n-two\n+2\n three');
  const bin = diffBuffersResult(Buffer.from([0, 1, 2, 3, 0xff]), Buffer.from([0, 1, 9, 3, 0xff]), ['x', 'y'], 'x.bin');
  assert.equal(bin.differences[0].what, 'bytes differ (5 bytes), first at offset 0x2');
  assert.equal(bin.differences[0].detail, '- 00000000  00 01 02 03 ff                                   .....\n+ 00000000  00 01 09 03 ff                                   .....');
});

test('a gzip bomb stops at the limit', () => {
  const bomb = gzipSync(Buffer.alloc(64 << 20));
  const result = diffBuffersResult(bomb, gzipSync(Buffer.alloc(64 << 20, 1)), ['a', 'b'], 'x.gz', { maxBytes: 1 << 20 });
  assert.match(result.differences[0].what, /cannot read as gzip: A: decompresses to more than 1048576 bytes/);
});

test('CLI: exit 0 same, 1 different (text and --json), 2 for a missing file', async () => {
  const dir = tempDir();
  copyFileSync(ELF, join(dir, 'a'));
  const out: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((chunk: string) => (out.push(chunk), true)) as typeof process.stdout.write;
  try {
    assert.equal(await main(['diff', ELF, join(dir, 'a')]), 0);
    writeFileSync(join(dir, 'b'), 'not an elf');
    assert.equal(await main(['diff', '--json', ELF, join(dir, 'b')]), 1);
  } finally {
    process.stdout.write = write;
  }
  assert.match(out[0], /are identical/);
  assert.equal(JSON.parse(out[1]).differences[0].what, 'format elf -> text');
  const missing = spawnSync(process.execPath, [join(__dirname, '../../bin/reprokit.js'), 'diff', ELF, join(dir, 'nope')], { encoding: 'utf8' });
  assert.equal(missing.status, 2);
  assert.equal(missing.stderr, `reprokit: ${join(dir, 'nope')}: no such file or directory\n`);
  assert.match(renderDiff(diffPaths(ELF, join(dir, 'b'))), /differ \(elf\): 2 differences\n$/);
});

test('two 1 GiB files are compared in pieces: under 200 MB of memory, within 3x cmp, the first differing offset as cmp finds it', () => {
  const dir = tempDir();
  const a = join(dir, 'a.bin');
  const b = join(dir, 'b.bin');
  // Sparse files: 1 GiB each to read, nothing to write; one byte differs 100 bytes before the end.
  execFileSync('truncate', ['-s', '1G', a, b]);
  execFileSync('sh', ['-c', `printf X | dd of="${b}" bs=1 seek=${(1 << 30) - 100} conv=notrunc status=none`]);
  const timed = (command: string, args: string[]) => {
    const run = spawnSync('/usr/bin/time', ['-f', '%e %M', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 });
    const [seconds, kb] = run.stderr.trim().split('\n').at(-1)!.split(' ').map(Number);
    return { status: run.status, stdout: run.stdout, seconds, mb: kb / 1024 };
  };
  const cmp = timed('cmp', [a, b]);
  assert.match(cmp.stdout, new RegExp(`differ: byte ${(1 << 30) - 99},`));
  const ours = timed(process.execPath, [join(__dirname, '..', '..', 'bin', 'reprokit.js'), 'diff', a, b]);
  assert.equal(ours.status, 1);
  // cmp counts from 1, reprokit's offsets from 0, like xxd.
  assert.match(ours.stdout, new RegExp(`^bytes differ \\(1073741824 bytes\\), first at offset 0x${((1 << 30) - 100).toString(16)}$`, 'm'));
  assert.ok(ours.mb < 200, `${ours.mb.toFixed(0)} MB`);
  assert.ok(ours.seconds <= 3 * cmp.seconds + 0.5, `${ours.seconds} s, cmp ${cmp.seconds} s`);
});

test('diff follows the two paths it is given, as diff does: a symlink loop is one line, a FIFO is refused', async () => {
  const dir = tempDir();
  writeFileSync(join(dir, 'file'), 'x\n');
  execFileSync('ln', ['-s', 'loop', join(dir, 'loop')]);
  execFileSync('mkfifo', [join(dir, 'fifo')]);
  const real = spawnSync('diff', [join(dir, 'loop'), join(dir, 'file')], { encoding: 'utf8' });
  assert.equal(real.status, 2);
  assert.match(real.stderr, /Too many levels of symbolic links/);
  assert.throws(() => diffPaths(join(dir, 'loop'), join(dir, 'file')), /loop: too many levels of symbolic links$/);
  assert.throws(() => diffPaths(join(dir, 'fifo'), join(dir, 'file')), /fifo: is a FIFO, expected a file or directory to compare$/);
  execFileSync('ln', ['-s', 'file', join(dir, 'link')]);
  assert.equal(diffPaths(join(dir, 'link'), join(dir, 'file')).same, true);
});
