import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, readFileSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeDirectoryTar } from './tar-writer';
import { tempDir } from '../testing/fixtures';

function makeTree(mtime: number): string {
  const root = tempDir();
  const long = 'd'.repeat(60) + '/' + 'e'.repeat(60);
  mkdirSync(join(root, long), { recursive: true });
  writeFileSync(join(root, long, 'file-with-a-long-name-' + 'f'.repeat(40)), 'long\n');
  writeFileSync(join(root, 'b'), 'bee\n');
  writeFileSync(join(root, 'a'), 'a'.repeat(1000));
  linkSync(join(root, 'a'), join(root, 'c-hardlink'));
  symlinkSync('b', join(root, 'link-to-b'));
  for (const name of ['a', 'b']) utimesSync(join(root, name), mtime, mtime);
  return root;
}

describe('writeDirectoryTar', () => {
  it('gives the same bytes for the same tree, whatever the files’ mtimes', () => {
    const [one, two] = [makeTree(1000), makeTree(2000000000)].map((root) => {
      const out = join(tempDir(), 'layer.tar');
      const result = writeDirectoryTar(root, out, 0);
      return { result, bytes: readFileSync(out) };
    });
    assert.equal(one.result.sha256, two.result.sha256);
    assert.ok(one.bytes.equals(two.bytes));
    assert.equal(one.result.size, one.bytes.length);
    assert.equal(one.result.size % 512, 0);
  });

  it('is read back by GNU tar: sorted names, fixed mtime, long names, hard and symbolic links', () => {
    const out = join(tempDir(), 'layer.tar');
    writeDirectoryTar(makeTree(5), out, 7);
    const listing = spawnSync('tar', ['--numeric-owner', '--full-time', '-tvf', out], { encoding: 'utf8', env: { ...process.env, TZ: 'UTC' } });
    assert.equal(listing.status, 0, listing.stderr);
    const lines = listing.stdout.trim().split('\n');
    const names = lines.map((line) => line.split(/\s+/).slice(5).join(' '));
    assert.deepEqual(names, [
      'a',
      'b',
      'c-hardlink link to a',
      `${'d'.repeat(60)}/`,
      `${'d'.repeat(60)}/${'e'.repeat(60)}/`,
      `${'d'.repeat(60)}/${'e'.repeat(60)}/file-with-a-long-name-${'f'.repeat(40)}`,
      'link-to-b -> b',
    ]);
    for (const line of lines) assert.match(line, / 1970-01-01 00:00:07 /);
    assert.doesNotMatch(listing.stderr, /warning/i);
  });
});
