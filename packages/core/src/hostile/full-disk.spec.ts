// An output directory on a full filesystem (a 256 KiB tmpfs this test mounts): installing an
// artifact or replacing a manifest there gives one line and exit 2, and leaves no partial file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { cliHarness } from './hostile-fixtures';

describe('a full filesystem (tmpfs of 256 KiB)', () => {
  const dir = tempDir('reprokit-full-');
  const mount = join(dir, 'tmpfs');
  before(() => {
    mkdirSync(mount);
    const result = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=256k', 'reprokit-full', mount], { encoding: 'utf8' });
    assert.equal(result.status, 0, `mounting a tmpfs needs root: ${result.stderr}`);
  });
  after(() => {
    spawnSync('umount', [mount]);
    rmSync(dir, { recursive: true, force: true });
  });
  const run = (body: string) => spawnSync(process.execPath, ['-e', cliHarness(body)], { encoding: 'utf8', timeout: 30_000 });

  it('installing a 1 MiB artifact: one line naming it, no partial artifact, the previous one kept', () => {
    const built = join(dir, 'built');
    writeFileSync(built, Buffer.alloc(1 << 20, 1));
    const outputDir = join(mount, 'dist');
    mkdirSync(outputDir);
    writeFileSync(join(outputDir, 'hello'), 'previous build\n');
    const record = { name: 'hello', kind: 'file', file: 'hello', environment: { type: 'host', toolchain: 't' }, sourceDateEpoch: 0 };
    const result = run(`core('build/build-record.js').installArtifact(${JSON.stringify(built)}, ${JSON.stringify(outputDir)}, ${JSON.stringify(record)})`);
    assert.equal(result.status, 2, result.stderr);
    assert.equal(result.stderr, `reprokit: ${join(outputDir, 'hello')}: no space left on device\n`);
    assert.deepEqual(readdirSync(outputDir), ['hello']);
    assert.equal(readFileSync(join(outputDir, 'hello'), 'utf8'), 'previous build\n');
  });

  it('replacing a manifest on a full disk: one line, the old manifest intact, no temporary file', () => {
    const manifestDir = join(mount, 'project');
    mkdirSync(manifestDir);
    const manifestPath = join(manifestDir, 'repro-manifest.json');
    writeFileSync(manifestPath, '{"old": true}\n');
    // Fill what is left, so the new manifest cannot be written.
    spawnSync('sh', ['-c', `cat /dev/zero > ${join(mount, 'filler')}`]);
    const result = run(`core('manifest/json-file.js').writeFileAtomic(${JSON.stringify(manifestPath)}, JSON.stringify({ artifacts: 'x'.repeat(100000) }))`);
    assert.equal(result.status, 2, result.stderr);
    assert.equal(result.stderr, `reprokit: ${manifestPath}: no space left on device\n`);
    assert.deepEqual(readdirSync(manifestDir), ['repro-manifest.json']);
    assert.equal(readFileSync(manifestPath, 'utf8'), '{"old": true}\n');
    rmSync(join(mount, 'filler'));
  });

  it('a disk with room for part of the manifest: the short write is not renamed into place', () => {
    const manifestDir = join(mount, 'partial');
    mkdirSync(manifestDir);
    const manifestPath = join(manifestDir, 'repro-manifest.json');
    writeFileSync(manifestPath, '{"old": true}\n');
    // About 56 KiB stay free: the first write(2) of 200 KB writes part of it and returns.
    writeFileSync(join(mount, 'filler'), Buffer.alloc(200 << 10));
    const result = run(`core('manifest/json-file.js').writeFileAtomic(${JSON.stringify(manifestPath)}, JSON.stringify({ artifacts: 'x'.repeat(200000) }))`);
    assert.equal(result.status, 2, result.stderr);
    assert.equal(result.stderr, `reprokit: ${manifestPath}: no space left on device\n`);
    assert.deepEqual(readdirSync(manifestDir), ['repro-manifest.json']);
    assert.equal(readFileSync(manifestPath, 'utf8'), '{"old": true}\n');
    rmSync(join(mount, 'filler'));
  });
});
