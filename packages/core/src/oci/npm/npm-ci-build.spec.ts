import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { defaultNodeBuilder } from '../../npm/npm-pack';
import { buildImageArtifact } from '../image-artifact';

// A small real Node app whose one dependency (ms, from the npm registry) comes from its lockfile:
// real docker, the real registry for the fetch, the node-builder the lock pins, no network in RUN.
describe('RUN npm ci from the stage package-lock.json (docker, npm registry)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'reprokit-npmci-'));
  const tag = `reprokit-test/npmci:${process.pid}`;
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    execFileSync('docker', ['image', 'rm', '--force', tag], { stdio: 'ignore' });
  });
  const context = join(dir, 'context');
  mkdirSync(context);
  const ms = (version: string, integrity: string) => ({ version, resolved: `https://registry.npmjs.org/ms/-/ms-${version}.tgz`, integrity, license: 'MIT' });
  const writeApp = (version: string, integrity: string) => {
    writeFileSync(join(context, 'package.json'), JSON.stringify({ name: 'npmci-fixture', version: '1.0.0', private: true, dependencies: { ms: version } }, null, 2) + '\n');
    const lock = { name: 'npmci-fixture', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'npmci-fixture', version: '1.0.0', dependencies: { ms: version } }, 'node_modules/ms': ms(version, integrity) } };
    writeFileSync(join(context, 'package-lock.json'), JSON.stringify(lock, null, 2) + '\n');
  };
  writeFileSync(join(context, 'index.js'), "console.log(require('ms')(60000));\n");
  writeFileSync(join(context, 'Dockerfile'), `FROM ${defaultNodeBuilder().image}\nUSER root\nWORKDIR /app\nCOPY package.json package-lock.json ./\nRUN npm ci\nCOPY index.js ./\nCMD ["node", "index.js"]\n`);
  const cacheRoot = join(dir, 'npm-cache');
  const build = async (name: string) => {
    const lines: string[] = [];
    const artifact = await buildImageArtifact({
      dockerfile: join(context, 'Dockerfile'),
      context,
      sourceDateEpoch: 1700000000,
      workDir: join(dir, `work-${name}`),
      name: 'npmci-image',
      outputDir: join(dir, `out-${name}`),
      tag,
      npmCacheRoot: cacheRoot,
      logPrefix: '',
      log: (line) => lines.push(line),
    });
    return { artifact, log: lines.join('\n') };
  };

  it('builds offline twice to the same image ID, ms works in it, npm left nothing else; a changed lock is a new fetch', async () => {
    writeApp('2.1.3', 'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==');
    const first = await build('one');
    assert.match(first.log, /npm packages: fetching 1 \(npm ci --ignore-scripts/);
    const second = await build('two');
    assert.match(second.log, /npm packages: 1 from the cache /);
    assert.equal(second.artifact.image.id, first.artifact.image.id);
    assert.deepEqual(readFileSync(second.artifact.file), readFileSync(first.artifact.file), 'the docker-archives are identical');
    assert.equal(execFileSync('docker', ['run', '--rm', '--network', 'none', tag], { encoding: 'utf8' }), '1m\n');
    // The layer has node_modules and nothing of npm's cache, logs or update check.
    const left = execFileSync('docker', ['run', '--rm', '--network', 'none', tag, 'sh', '-c', 'ls -A /app /app/node_modules; ls -A /root /var/cache 2>&1; ls -d /root/.npm /var/cache/reprokit-npm 2>&1 || true'], { encoding: 'utf8' });
    assert.match(left, /node_modules/);
    assert.doesNotMatch(left, /^\/root\/\.npm$|^\/var\/cache\/reprokit-npm$|_logs|_update-notifier/m);

    writeApp('2.1.2', 'sha512-sGkPx+VjMtmA6MX27oA4FBFELFCZZ4S4XqeGOXCv68tT+jb3vk/RyaKWP0PTKyWtmLSM0b+adUTEvbs1PEaH2w==');
    const changed = await build('three');
    assert.match(changed.log, /npm packages: fetching 1 /, 'another lock is another fetch key');
    assert.notEqual(changed.artifact.image.id, first.artifact.image.id);
  });

  it('refuses a lock entry without integrity with Dockerfile:LINE and the field, before any fetch', async () => {
    writeApp('2.1.3', '');
    await assert.rejects(build('four'), /Dockerfile:5: \/app\/package-lock.json: packages\["node_modules\/ms"\]\.integrity: missing/);
  });
});
