import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { consumerWorkspace, installPackedReprokit } from './consumer-workspace';
import { repoRoot } from './workspace';

// core's test registry: verdaccio 6.8.0 on 127.0.0.1 (no uplinks), from the workspace's devDependencies.
interface Verdaccio {
  url: string;
  npmrc: string;
  stop(): Promise<void>;
}
const { startVerdaccio } = require(join(repoRoot, 'packages/core/dist/testing/verdaccio.js')) as { startVerdaccio(): Promise<Verdaccio> };

const b2 = (path: string) => createHash('blake2b512').update(readFileSync(path)).digest('hex');

// A library in a new user's Nx workspace: packed by the inferred npm target in the pinned
// node-builder, recorded, reproduced, and published to a real registry as recorded.
describe('an npm library in a new Nx workspace', () => {
  const workspace = consumerWorkspace('reprokit-npm-');
  const { root, sh, nx } = workspace;
  const lib = join(root, 'libs/lib');
  const tarball = join(lib, 'dist/lib-1.0.0.tgz');
  let registry: Verdaccio;

  before(async () => {
    mkdirSync(join(lib, 'src'), { recursive: true });
    writeFileSync(join(lib, 'package.json'), JSON.stringify({ name: 'lib', version: '1.0.0', main: 'lib/index.js', files: ['lib'], scripts: { prepack: 'node build.js' } }, null, 2) + '\n');
    // The build prepack runs: its output depends on the Node that runs it and on SOURCE_DATE_EPOCH.
    writeFileSync(join(lib, 'build.js'), "const fs = require('fs');\nfs.mkdirSync('lib', { recursive: true });\nfs.writeFileSync('lib/index.js', `// built by node ${process.version} at ${process.env.SOURCE_DATE_EPOCH}\\n` + fs.readFileSync('src/index.js', 'utf8'));\n");
    writeFileSync(join(lib, 'src/index.js'), "module.exports = () => 'hello from lib';\n");
    installPackedReprokit(workspace, { workspaces: ['libs/*'] });
    writeFileSync(join(root, '.gitignore'), 'node_modules/\n');
    const init = nx('g', '@reprokit/nx:init');
    assert.equal(init.status, 0, init.output);
    for (const args of [['init', '-q'], ['add', '-A'], ['-c', 'user.name=e2e', '-c', 'user.email=e2e@reprokit.invalid', 'commit', '-qm', 'lib']]) assert.equal(sh('git', args).status, 0);
    registry = await startVerdaccio();
  });
  after(() => registry?.stop());

  it('configuration records the tarball; nx run lib:npm gives the same bytes twice; reproduce; npm publish serves them', () => {
    const configured = nx('g', '@reprokit/nx:configuration', 'lib');
    assert.equal(configured.status, 0, configured.output);
    const manifest = JSON.parse(readFileSync(join(lib, 'repro-manifest.json'), 'utf8'));
    const nxJson = JSON.parse(readFileSync(join(root, 'nx.json'), 'utf8'));
    const image = nxJson.plugins.find((p: { plugin: string }) => p.plugin === '@reprokit/nx').options.npm.image;
    assert.equal(manifest.artifacts.length, 1);
    const [artifact] = manifest.artifacts;
    assert.equal(artifact.kind, 'npm');
    assert.equal(artifact.path, 'dist/lib-1.0.0.tgz');
    assert.equal(artifact.integrity, `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`);
    assert.deepEqual(artifact.environment, { type: 'container', image, toolchain: 'node 24.22.3, npm 11.21.3' });
    for (const args of [['add', '-A'], ['-c', 'user.name=e2e', '-c', 'user.email=e2e@reprokit.invalid', 'commit', '-qm', 'lib: record artifact hashes']]) assert.equal(sh('git', args).status, 0);

    const hashes = [];
    for (let i = 0; i < 2; i++) {
      const packed = nx('run', 'lib:npm', '--skip-nx-cache');
      assert.equal(packed.status, 0, packed.output);
      assert.match(packed.output, /> lib@1\.0\.0 prepack\n.*> node build\.js/s);
      hashes.push(b2(tarball));
    }
    assert.deepEqual(hashes, [artifact.blake2b512, artifact.blake2b512]);

    const reproduced = nx('run', 'lib:reproduce');
    assert.equal(reproduced.status, 0, reproduced.output);
    assert.match(reproduced.output, /REPRODUCED lib-1\.0\.0\.tgz \(npm\)/);
    assert.ok(reproduced.output.includes(`  integrity ${artifact.integrity}`), reproduced.output);

    const published = sh('npm', ['publish', tarball, '--userconfig', registry.npmrc, '--registry', registry.url]);
    assert.equal(published.status, 0, published.output);
    const viewed = sh('npm', ['view', 'lib@1.0.0', 'dist', '--json', '--userconfig', registry.npmrc, '--registry', registry.url]);
    const dist = JSON.parse(viewed.output) as { integrity: string; tarball: string };
    assert.equal(dist.integrity, artifact.integrity);
    assert.ok(dist.tarball.startsWith(registry.url));

    // The package's provenance names it by its sha512 too, as npm's own attestations do.
    const provenance = JSON.parse(readFileSync(join(lib, 'dist/.reprokit/lib-1.0.0.tgz.intoto.json'), 'utf8'));
    assert.equal(provenance.subject[0].digest.sha512, Buffer.from(artifact.integrity.slice(7), 'base64').toString('hex'));

    // Where it was published, recorded; the registry is the workspace's npm configuration (.npmrc).
    writeFileSync(join(root, '.npmrc'), `registry=${registry.url}\n`);
    const added = sh(process.execPath, [join(root, 'node_modules/.bin/reprokit'), 'published', 'add', 'libs/lib/repro-manifest.json', 'lib-1.0.0.tgz', '--npm', 'lib@1.0.0']);
    assert.equal(added.status, 0, added.output);
    for (const args of [['add', '-A'], ['-c', 'user.name=e2e', '-c', 'user.email=e2e@reprokit.invalid', 'commit', '-qm', 'lib: published']]) assert.equal(sh('git', args).status, 0);
    const match = nx('run', 'lib:published');
    assert.equal(match.status, 0, match.output);
    assert.match(match.output, /MATCH\b.*lib@1\.0\.0|lib@1\.0\.0.*\bMATCH/);

    // Nx caches the pack: the next run restores it; a changed source misses, and packs other bytes.
    assert.equal(nx('run', 'lib:npm').status, 0);
    const hit = nx('run', 'lib:npm');
    assert.equal(hit.status, 0, hit.output);
    assert.match(hit.output, /local cache|existing outputs match the cache/);
    writeFileSync(join(lib, 'src/index.js'), "module.exports = () => 'hello from a changed lib';\n");
    for (const args of [['add', '-A'], ['-c', 'user.name=e2e', '-c', 'user.email=e2e@reprokit.invalid', 'commit', '-qm', 'lib: changed']]) assert.equal(sh('git', args).status, 0);
    const miss = nx('run', 'lib:npm');
    assert.equal(miss.status, 0, miss.output);
    assert.doesNotMatch(miss.output, /local cache|existing outputs match the cache/);
    assert.notEqual(b2(tarball), artifact.blake2b512);
    const checked = nx('run', 'lib:checksum', '--excludeTaskDependencies');
    assert.notEqual(checked.status, 0);
    assert.match(checked.output, /lib-1\.0\.0\.tgz.*(mismatch|MISMATCH)/);

    // The same version republished from the changed tree: the registry no longer serves what the commit recorded.
    assert.equal(sh('npm', ['unpublish', 'lib@1.0.0', '--force', '--userconfig', registry.npmrc, '--registry', registry.url]).status, 0);
    const republished = sh('npm', ['publish', tarball, '--userconfig', registry.npmrc, '--registry', registry.url]);
    assert.equal(republished.status, 0, republished.output);
    const differs = nx('run', 'lib:published');
    assert.notEqual(differs.status, 0);
    assert.match(differs.output, /DIFFERS\b.*lib@1\.0\.0|lib@1\.0\.0.*\bDIFFERS/);
  });
});
