import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { projectWithManifest, tempDir } from './testing/fixtures';

const bin = join(__dirname, '..', 'bin', 'reprokit.js');
const reprokit = (...args: string[]) => spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8' });

/** A user error is one line (plus at most a usage hint), never a stack trace. */
function assertOneLineError(stderr: string, pattern: RegExp) {
  assert.doesNotMatch(stderr, /^\s+at /m, 'stack trace printed');
  assert.match(stderr.split('\n')[0], pattern);
}

describe('reprokit CLI', () => {
  it('hash prints b2sum lines and fails on a missing file after hashing the others', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a'), 'a');
    const result = reprokit('hash', join(dir, 'a'), join(dir, 'missing'));
    assert.equal(result.status, 2);
    assert.match(result.stdout, /^[0-9a-f]{128}  .*\/a\n$/);
    assertOneLineError(result.stderr, /^reprokit: .*\/missing: no such file or directory$/);
  });

  it('hash --algo sha256 matches sha256sum', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a'), 'abc');
    const result = reprokit('hash', '--algo', 'sha256', join(dir, 'a'));
    assert.equal(result.stdout, `ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad  ${join(dir, 'a')}\n`);
  });

  it('refuses an unknown algorithm with exit 2', () => {
    const result = reprokit('hash', '--algo', 'md5', 'x');
    assert.equal(result.status, 2);
    assertOneLineError(result.stderr, /^reprokit: --algo: unknown algorithm "md5"/);
  });

  it('verify exits 0 on a match, 1 on a mismatch, with --json a structured result', async () => {
    const { manifestPath, artifact } = await projectWithManifest();
    assert.equal(reprokit('verify', manifestPath).status, 0);
    writeFileSync(artifact, 'tampered');
    const result = reprokit('verify', manifestPath, '--json');
    assert.equal(result.status, 1);
    const json = JSON.parse(result.stdout);
    assert.equal(json.ok, false);
    assert.equal(json.checks[0].status, 'mismatch');
  });

  it('verify gives one line and exit 2 for a missing or broken manifest', async () => {
    const missing = reprokit('verify', '/nonexistent/repro-manifest.json');
    assert.equal(missing.status, 2);
    assertOneLineError(missing.stderr, /^reprokit: \/nonexistent\/repro-manifest.json: manifest not found$/);

    const { manifestPath } = await projectWithManifest();
    writeFileSync(manifestPath, readFileSync(manifestPath, 'utf8').replace(/"size": \d+/, '"size": -1'));
    const broken = reprokit('verify', manifestPath);
    assert.equal(broken.status, 2);
    assertOneLineError(broken.stderr, /^reprokit: .*repro-manifest.json: \$\.artifacts\[0\]\.size: must be >= 0$/);
  });

  it('an unknown option is a usage error, not a stack trace', () => {
    const result = reprokit('verify', '--frobnicate');
    assert.equal(result.status, 2);
    assertOneLineError(result.stderr, /^reprokit: Unknown option '--frobnicate'/);
  });

  it('arch verify and arch info: a package that is not one is one line naming it, exit 2; usage errors exit 2', () => {
    const file = join(tempDir(), 'broken.pkg.tar.zst');
    writeFileSync(file, Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0, 0]));
    for (const action of ['verify', 'info']) {
      const result = reprokit('arch', action, file);
      assert.equal(result.status, 2, result.stderr);
      assertOneLineError(result.stderr, new RegExp(`^reprokit: ${file}: not a valid zstd stream .*truncated or corrupt$`));
    }
    assertOneLineError(reprokit('arch', 'verify').stderr, /^reprokit: arch verify: name exactly one PKGFILE/);
    assert.equal(reprokit('arch', 'sign', file).status, 2);
  });
});
