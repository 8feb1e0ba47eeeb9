import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tarEntries } from './tar-reader';
import { TarWriter, writeDirectoryTar } from './tar-writer';

describe('tarEntries', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reprokit-tar-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const meta = { mode: 0o644, uid: 0, gid: 0 };
  const archive = (name: string, write: (tar: TarWriter) => void) => {
    const path = join(dir, name);
    const fd = openSync(path, 'w');
    const tar = new TarWriter(fd, 0);
    write(tar);
    tar.finish();
    closeSync(fd);
    return path;
  };
  const names = (path: string, safe = true) => [...tarEntries(path, path, { safe })].map((entry) => entry.path);

  it('reads back what writeDirectoryTar wrote: names, types, modes, owners, contents', () => {
    const root = join(dir, 'tree');
    mkdirSync(join(root, 'a', 'b'), { recursive: true });
    writeFileSync(join(root, 'a', 'b', 'file'), 'content\n', { mode: 0o640 });
    writeFileSync(join(root, 'x'.repeat(120)), 'long\n');
    writeDirectoryTar(root, join(dir, 'tree.tar'), 7);
    // Content is read while iterating: the file is closed when the iteration ends.
    const entries = Array.from(tarEntries(join(dir, 'tree.tar'), 'tree.tar', { safe: true }), (e) => ({ ...e, text: e.content().toString() }));
    assert.deepEqual(
      entries.map((e) => [e.path, e.type, e.mode.toString(8), e.mtime, e.size]),
      [
        ['a', 'directory', '755', 7, 0],
        ['a/b', 'directory', '755', 7, 0],
        ['a/b/file', 'file', '640', 7, 8],
        ['x'.repeat(120), 'file', '644', 7, 5],
      ],
    );
    assert.equal(entries[2].text, 'content\n');
  });

  it('reads GNU tar’s pax and gnu formats with names over 100 bytes', () => {
    const root = join(dir, 'gnu');
    const long = 'd'.repeat(60) + '/' + 'f'.repeat(80);
    mkdirSync(join(root, 'd'.repeat(60)), { recursive: true });
    writeFileSync(join(root, long), 'gnu\n');
    for (const format of ['pax', 'gnu']) {
      const path = join(dir, `${format}.tar`);
      execFileSync('tar', [`--format=${format}`, '-cf', path, '-C', root, long]);
      const read = Array.from(tarEntries(path, path), (entry) => [entry.path, entry.content().toString()]);
      assert.deepEqual(read, [[long, 'gnu\n']]);
    }
  });

  it('refuses, naming the archive and the entry, what would land outside the root', () => {
    const cases: [string, (tar: TarWriter) => void, RegExp][] = [
      ['dotdot.tar', (tar) => tar.buffer('a/../../etc/passwd', Buffer.from('x'), meta), /dotdot\.tar: a\/\.\.\/\.\.\/etc\/passwd: the name climbs out/],
      ['absolute.tar', (tar) => tar.buffer('/etc/passwd', Buffer.from('x'), meta), /absolute\.tar: \/etc\/passwd: absolute name/],
      ['symlink.tar', (tar) => tar.symlink('usr/lib/evil', '../../../etc', meta), /symlink\.tar: usr\/lib\/evil: symlink to \.\.\/\.\.\/\.\.\/etc leads out of the root/],
      ['hardlink.tar', (tar) => tar.hardlink('x', '../outside', meta), /hardlink\.tar: x: hard link to \.\.\/outside leads out/],
      ['dangling.tar', (tar) => tar.hardlink('x', 'nothing', meta), /dangling\.tar: x: hard link to nothing, which the archive does not hold before it/],
    ];
    for (const [name, write, message] of cases) {
      const path = archive(name, write);
      assert.throws(() => names(path), { message });
      assert.equal(names(path, false).length, 1, 'only the safe mode refuses');
    }
  });

  it('accepts links that stay inside: absolute targets resolve from the image root', () => {
    const path = archive('inside.tar', (tar) => {
      tar.symlink('bin', 'usr/bin', meta);
      tar.symlink('usr/lib/x/link', '../../share/y', meta);
      tar.symlink('etc/localtime', '/usr/share/zoneinfo/UTC', meta);
      tar.buffer('f', Buffer.from('1'), meta);
      tar.hardlink('g', 'f', meta);
    });
    assert.deepEqual(names(path), ['bin', 'usr/lib/x/link', 'etc/localtime', 'f', 'g']);
  });

  it('ignores global pax headers (as docker’s Go reader does), and copies content to a file in pieces', () => {
    const path = join(dir, 'global.tar');
    execFileSync('python3', ['-c', `
import io, sys, tarfile
t = tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT, pax_headers={'path': 'evil', 'size': '7', 'uid': '5', 'comment': 'x'})
info = tarfile.TarInfo('l'); info.type = tarfile.SYMTYPE; info.linkname = 'a'; t.addfile(info)
for n in ['a', 'b']:
    info = tarfile.TarInfo(n); info.size = 3; t.addfile(info, io.BytesIO(n.encode() * 3))
t.close()`, path]);
    const copies = Array.from(tarEntries(path, path, { safe: true }), (entry) => {
      entry.copyTo(join(dir, `copy-${entry.path}`));
      return [entry.path, entry.size, entry.uid, entry.link, readFileSync(join(dir, `copy-${entry.path}`), 'utf8')];
    });
    assert.deepEqual(copies, [['l', 0, 0, 'a', ''], ['a', 3, 0, undefined, 'aaa'], ['b', 3, 0, undefined, 'bbb']]);
  });

  it('reports a truncated archive and a corrupt header', () => {
    const path = archive('whole.tar', (tar) => tar.buffer('file', Buffer.alloc(2000, 1), meta));
    const bytes = readFileSync(path);
    writeFileSync(join(dir, 'cut.tar'), bytes.subarray(0, 1024));
    assert.throws(() => names(join(dir, 'cut.tar')), { message: /cut\.tar: truncated tar archive \(file is cut short\)/ });
    const corrupt = Buffer.from(bytes);
    corrupt[0] = 'g'.charCodeAt(0);
    writeFileSync(join(dir, 'corrupt.tar'), corrupt);
    assert.throws(() => names(join(dir, 'corrupt.tar')), { message: /corrupt\.tar: gile: corrupt tar header \(bad checksum/ });
  });
});
