import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { formatChecksumLine, hashFile, hashStream } from './hash';
import { tempDir } from './testing/fixtures';

const dir = tempDir();
const files: Record<string, Buffer> = {
  empty: Buffer.alloc(0),
  small: Buffer.from('Hello, world!\n'),
  // Three full read chunks and a partial one, so chunk boundaries are exercised.
  multichunk: Buffer.from(Array.from({ length: 3 * (1 << 20) + 7 }, (_, i) => (i * 31 + 7) & 0xff)),
  'back\\slash': Buffer.from('x'),
  'new\nline': Buffer.from('y'),
};
for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);

const coreutils = (tool: string, name: string) => execFileSync(tool, [name], { cwd: dir, encoding: 'utf8' }).replace(/\n$/, '');

describe('hashFile and formatChecksumLine', () => {
  for (const name of Object.keys(files)) {
    it(`prints the same line as b2sum and sha256sum for ${JSON.stringify(name)}`, async () => {
      const { size, digests } = await hashFile(join(dir, name), ['blake2b512', 'sha256']);
      assert.equal(size, files[name].length);
      assert.equal(formatChecksumLine(digests.blake2b512!, name), coreutils('b2sum', name));
      assert.equal(formatChecksumLine(digests.sha256!, name), coreutils('sha256sum', name));
    });
  }

  it('computes BLAKE3 test vectors', async () => {
    const empty = await hashFile(join(dir, 'empty'), ['blake3']);
    assert.equal(empty.digests.blake3, 'af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262');
    const abc = await hashStream(Readable.from([Buffer.from('a'), Buffer.from('bc')]), ['blake3']);
    assert.equal(abc.digests.blake3, '6437b3ac38465133ffb63b75273a8db548c558465d79db03fd359c6cd5bd9d85');
  });

  it('hashes a stream like the same file', async () => {
    const fromFile = await hashFile(join(dir, 'multichunk'), ['blake2b512']);
    const fromStream = await hashStream(Readable.from([files.multichunk.subarray(0, 12345), files.multichunk.subarray(12345)]), ['blake2b512']);
    assert.deepEqual(fromStream, fromFile);
  });

  it('names a missing file in a user error', async () => {
    await assert.rejects(hashFile(join(dir, 'absent'), ['sha256']), { name: 'UserError', message: `${join(dir, 'absent')}: no such file or directory` });
  });
});
