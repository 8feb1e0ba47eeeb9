import assert from 'node:assert/strict';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it, before, after } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { NPM_FIXTURES, npmFixtures } from '../testing/npm-fixtures';
import { fetchNpmTarball, parseNpmSpec, resolveNpmVersion, sha512Integrity } from './registry-tarball';

describe('npm registry tarballs', () => {
  let server: Server;
  let registry: string;
  const requests: string[] = [];
  const ms = readFileSync(join(NPM_FIXTURES, 'ms-2.1.3.tgz'));
  const msIntegrity = npmFixtures().get('ms-2.1.3.tgz')!;
  before(async () => {
    server = createServer((req, res) => {
      requests.push(req.url!);
      if (req.url === '/ms/2.1.3') {
        res.setHeader('content-type', 'application/json');
        return res.end(JSON.stringify({ name: 'ms', version: '2.1.3', dist: { integrity: msIntegrity, tarball: `${registry}ms/-/ms-2.1.3.tgz` } }));
      }
      if (req.url === '/ms/-/ms-2.1.3.tgz') return res.end(ms);
      if (req.url === '/liar/-/liar-1.0.0.tgz') return res.end(Buffer.concat([ms, Buffer.from('x')]));
      res.statusCode = 404;
      res.end('{}');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    registry = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  after(() => server.close());

  it('every fixture has the integrity the registry lists for it', async () => {
    const fixtures = npmFixtures();
    assert.ok(fixtures.size >= 5);
    for (const file of readdirSync(NPM_FIXTURES).filter((f) => f.endsWith('.tgz'))) {
      assert.equal(await sha512Integrity(join(NPM_FIXTURES, file)), fixtures.get(file), file);
    }
  });

  it('resolves a version, downloads it by integrity into the cache, then serves it from there', async () => {
    const cacheDir = tempDir();
    const pin = await resolveNpmVersion('ms', '2.1.3', registry);
    assert.equal(pin.integrity, msIntegrity);
    const path = await fetchNpmTarball(pin, 'test', { cacheDir, registry });
    assert.ok(readFileSync(path).equals(ms));
    assert.equal(path, join(cacheDir, `${Buffer.from(msIntegrity.slice(7), 'base64').toString('hex')}.tgz`));
    const before = requests.length;
    assert.equal(await fetchNpmTarball(pin, 'test', { cacheDir, registry }), path);
    assert.equal(requests.length, before, 'the second fetch asked the registry again');
  });

  it('refuses bytes with another integrity, and a cached file that was changed is fetched again', async () => {
    const cacheDir = tempDir();
    await assert.rejects(fetchNpmTarball({ name: 'liar', version: '1.0.0', integrity: msIntegrity }, 'lock.json', { cacheDir, registry }), /lock\.json: liar@1\.0\.0: .* has integrity sha512-.* but sha512-6Flz.* is pinned/);
    assert.deepEqual(readdirSync(cacheDir), [], 'a refused download stays out of the cache');
    const path = await fetchNpmTarball({ name: 'ms', version: '2.1.3', integrity: msIntegrity }, 'test', { cacheDir, registry });
    writeFileSync(path, 'tampered');
    assert.ok(readFileSync(await fetchNpmTarball({ name: 'ms', version: '2.1.3', integrity: msIntegrity }, 'test', { cacheDir, registry })).equals(ms));
  });

  it('refuses a download past the pinned size', async () => {
    await assert.rejects(fetchNpmTarball({ name: 'ms', version: '2.1.3', integrity: msIntegrity, size: 100 }, 'test', { cacheDir: tempDir(), registry }), /more than the 100 bytes expected/);
  });

  it('parses name@version, scoped names included, and refuses ranges', () => {
    assert.deepEqual(parseNpmSpec('@types/node@20.19.43', 'x'), { name: '@types/node', version: '20.19.43' });
    assert.throws(() => parseNpmSpec('ms@^2', 'env.json: $.npm[0]'), /env\.json: \$\.npm\[0\]: "ms@\^2" is not name@version/);
  });
});
