// Publishing exactly the recorded tarball: `npm publish <tgz>` to a real registry (verdaccio on
// 127.0.0.1), read back by the registry's own dist.integrity and dist.tarball.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { recordArtifact } from '../manifest/manifest';
import { tempDir } from '../testing/fixtures';
import { startVerdaccio, type Verdaccio } from '../testing/verdaccio';
import { defaultNodeBuilder, packNpmInContainer } from './npm-pack';

describe('npm publish of the recorded tarball', () => {
  let registry: Verdaccio;
  before(async () => {
    registry = await startVerdaccio();
  });
  after(() => registry?.stop());

  it('the registry serves the recorded bytes: dist.integrity is the manifest\'s integrity, dist.tarball the file', async () => {
    const dir = tempDir();
    // A prepack that would change the tarball if publishing ran it again: publishing a .tgz runs no script.
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@demo/published', version: '1.0.0', files: ['index.js'], scripts: { prepack: 'node -e "require(\'fs\').writeFileSync(\'index.js\', \'module.exports = 1;\\\\n\')"' } }));
    const packed = await packNpmInContainer({ projectDir: dir, workspaceRoot: dir, ...defaultNodeBuilder(), outputDir: join(dir, 'dist'), sourceDateEpoch: 1, logPrefix: '', log: () => {} });
    const artifact = await recordArtifact(join(dir, 'repro-manifest.json'), { name: packed.filename, kind: 'npm', file: packed.file, environment: { type: 'container', image: defaultNodeBuilder().image } });
    assert.equal(artifact.integrity, packed.integrity);
    writeFileSync(join(dir, 'index.js'), 'module.exports = "changed after the pack";\n');

    const published = spawnSync('npm', ['publish', packed.file, '--userconfig', registry.npmrc, '--registry', registry.url], { cwd: dir, encoding: 'utf8' });
    assert.equal(published.status, 0, published.stderr);

    const packument = (await (await fetch(`${registry.url}@demo%2fpublished`)).json()) as { versions: Record<string, { dist: { integrity: string; tarball: string } }> };
    const dist = packument.versions['1.0.0'].dist;
    assert.equal(dist.integrity, artifact.integrity);
    const served = Buffer.from(await (await fetch(dist.tarball)).arrayBuffer());
    assert.ok(served.equals(readFileSync(packed.file)), `${dist.tarball} serves other bytes than ${packed.file}`);
    // npm's own view of it agrees: what `npm view` shows a reviewer.
    const viewed = spawnSync('npm', ['view', '@demo/published@1.0.0', 'dist.integrity', '--userconfig', registry.npmrc, '--registry', registry.url], { encoding: 'utf8' });
    assert.equal(viewed.stdout.trim(), artifact.integrity);
  });
});
