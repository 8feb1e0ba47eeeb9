import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { describeDifference, firstDifferingOffset } from './compare';

describe('describeDifference', () => {
  const dir = tempDir();
  const file = (name: string, content: string | Buffer) => {
    writeFileSync(join(dir, name), content);
    return join(dir, name);
  };

  it('says nothing for identical files, and what reprokit diff finds otherwise', () => {
    const a = file('a', 'hello world');
    assert.equal(describeDifference(a, file('same', 'hello world')), undefined);
    assert.equal(describeDifference(a, file('b', 'hello World')), 'text differs (1 vs 1 lines) (text)');
    const binary = file('bin-a', Buffer.from([0, 1, 2, 3, 0xff, 0xfe]));
    assert.match(describeDifference(binary, file('bin-b', Buffer.from([0, 1, 2, 4, 0xff, 0xfe]))) ?? '', /\(binary\)$/);
  });

  it('finds a difference beyond the first read chunk', () => {
    const big = Buffer.alloc(3 << 20, 7);
    const a = file('big-a', big);
    big[(2 << 20) + 5] = 8;
    assert.equal(firstDifferingOffset(a, file('big-b', big)), (2 << 20) + 5);
  });

  it('names the first differing entry and field of two tar archives (GNU tar)', () => {
    const tree = join(dir, 'tree');
    mkdirSync(join(tree, 'share'), { recursive: true });
    writeFileSync(join(tree, 'share', 'x'), 'x\n');
    const tar = (name: string) => {
      const result = spawnSync('tar', ['--sort=name', '--mtime=@0', '--owner=0', '--group=0', '--numeric-owner', '--format=ustar', '-cf', join(dir, name), '-C', tree, '.']);
      assert.equal(result.status, 0, String(result.stderr));
      return join(dir, name);
    };
    const a = tar('a.tar');
    chmodSync(join(tree, 'share', 'x'), 0o664);
    assert.equal(describeDifference(a, tar('b.tar')), 'share/x: mode 0644 -> 0664 (tar)');
    chmodSync(join(tree, 'share', 'x'), 0o644);
    writeFileSync(join(tree, 'share', 'x'), 'y\n');
    assert.match(describeDifference(a, tar('c.tar')) ?? '', /^share\/x: text differs \(2 vs 2 lines\) \(tar\)$/);
  });

  it('names the ELF section that differs, the build ID note only when nothing else does (real gcc output)', () => {
    // The same file name in two directories: only the string (and the build ID digesting it) differs.
    const compile = (name: string, text: string) => {
      mkdirSync(join(dir, name));
      writeFileSync(join(dir, name, 'main.c'), `const char *s = "${text}";\nint main(void) { return s[0]; }\n`);
      const result = spawnSync('gcc', ['-O2', '-Wl,--build-id', '-o', 'main', 'main.c'], { cwd: join(dir, name) });
      assert.equal(result.status, 0, String(result.stderr));
      return join(dir, name, 'main');
    };
    const difference = describeDifference(compile('e1', 'same length A'), compile('e2', 'same length B'));
    assert.match(difference ?? '', /^section \.rodata: content differs \(sha256 [0-9a-f]+… -> [0-9a-f]+…\), first at section offset 0x[0-9a-f]+ \(file offset 0x[0-9a-f]+\) \(2 differences, elf\)$/);
  });
});
