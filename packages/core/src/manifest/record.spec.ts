import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { writeBuildRecord } from '../build/build-record';
import { formatChecksumLine, hashFile } from '../hash';
import { readManifest } from './manifest';
import { recordManifest } from './record';
import { projectWithManifest } from '../testing/fixtures';

describe('recordManifest', () => {
  it('records size, hashes and environment of each built artifact', async () => {
    const { manifestPath, artifact } = await projectWithManifest('abc');
    const manifest = await readManifest(manifestPath);
    const { digests } = await hashFile(artifact, ['blake2b512', 'sha256']);
    assert.deepEqual(manifest.artifacts, [
      { name: 'hello', kind: 'file', path: 'dist/hello', size: 3, blake2b512: digests.blake2b512, sha256: digests.sha256, environment: { type: 'host', toolchain: 'fake 1.0.0' } },
    ]);
    assert.equal(manifest.recorded.commit, 'none');
    assert.match(formatChecksumLine(manifest.artifacts[0].blake2b512, 'x'), /^[0-9a-f]{128}  x$/);
  });

  it('leaves the file untouched when nothing changed, rewrites it when an artifact did', async () => {
    const { manifestPath, dir, artifact } = await projectWithManifest();
    const before = readFileSync(manifestPath, 'utf8');
    const mtime = statSync(manifestPath).mtimeMs;
    const again = await recordManifest({ manifestPath, project: 'hello', outputDir: 'dist', workspaceRoot: dir });
    assert.equal(again.changed, false);
    assert.equal(readFileSync(manifestPath, 'utf8'), before);
    assert.equal(statSync(manifestPath).mtimeMs, mtime);

    writeFileSync(artifact, 'changed');
    writeBuildRecord(join(dir, 'dist'), { name: 'extra', kind: 'file', file: 'hello', environment: { type: 'host', toolchain: 't' }, sourceDateEpoch: 0 });
    const changed = await recordManifest({ manifestPath, project: 'hello', outputDir: 'dist', workspaceRoot: dir });
    assert.equal(changed.changed, true);
    assert.deepEqual((await readManifest(manifestPath)).artifacts.map((a) => [a.name, a.size]), [['extra', 7], ['hello', 7]]);
  });

  it('refuses to record when no build left records', async () => {
    const { manifestPath, dir } = await projectWithManifest();
    await assert.rejects(recordManifest({ manifestPath, project: 'hello', outputDir: 'nothing-here', workspaceRoot: dir }), {
      message: `${join(dir, 'nothing-here')}: no build records found: build the project's artifacts first`,
    });
  });
});
