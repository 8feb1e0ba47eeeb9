import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { checkToolchain, queryToolchain } from './toolchain';
import { tempDir } from '../testing/fixtures';

// A stand-in rustc that prints what rustc 1.63 prints, to test the pin against a version this
// machine does not have.
const dir = tempDir();
const fakeRustc = join(dir, 'rustc');
writeFileSync(fakeRustc, '#!/bin/sh\nprintf "rustc 1.63.0\\nbinary: rustc\\nrelease: 1.63.0\\nhost: x86_64-unknown-linux-gnu\\n"\n');
chmodSync(fakeRustc, 0o755);

describe('checkToolchain', () => {
  it('reads the release from rustc -vV', () => {
    assert.deepEqual(queryToolchain(fakeRustc), { version: '1.63.0', description: 'rustc 1.63.0' });
  });
  it('refuses another version, naming both', () => {
    assert.throws(() => checkToolchain({ tool: fakeRustc, version: '1.95.0' }), {
      name: 'UserError',
      message: `toolchain mismatch: ${fakeRustc} is 1.63.0 but 1.95.0 is pinned: install ${fakeRustc} 1.95.0 or change the pin`,
    });
  });
  it('accepts the pinned version', () => {
    assert.equal(checkToolchain({ tool: fakeRustc, version: '1.63.0' }).description, 'rustc 1.63.0');
  });
  it('says when the tool is not installed', () => {
    assert.throws(() => checkToolchain({ tool: join(dir, 'nope'), version: '1' }), { message: /^cannot run `.*nope` to check its version \(.*ENOENT\): install the pinned toolchain$/ });
  });
  it('reads the first version number of --version for other tools', () => {
    const gcc = join(dir, 'gcc');
    writeFileSync(gcc, '#!/bin/sh\necho "gcc (Debian 12.2.0-14) 12.2.0"\n');
    chmodSync(gcc, 0o755);
    assert.equal(queryToolchain(gcc).version, '12.2.0');
  });
});
