import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserError } from '../../errors';
import { checkResolved } from '../../npm/npm-ci-fetch';
import { npmFetchKey, readPackageLock } from '../../npm/package-lock';
import { findNpmInstalls } from './npm-installs';

const fail = (message: string): never => {
  throw new UserError(message);
};
const dirs = (script: string, workdir = '/app') => findNpmInstalls(script, workdir, fail).map((install) => install.dir);

describe('findNpmInstalls', () => {
  it('finds npm ci and a lockfile npm install behind &&, continuations, env and sudo, in the directory cd moved to', () => {
    assert.deepEqual(dirs('npm ci'), ['/app']);
    assert.deepEqual(dirs('apt-get update && \\\n  cd web && npm ci --omit dev'), ['/app/web']);
    assert.deepEqual(dirs('env NODE_ENV=production npm install --production'), ['/app']);
    assert.deepEqual(dirs('sudo -u node npm i && npm run build'), ['/app']);
    assert.deepEqual(dirs('npm --prefix /srv/api ci', '/'), ['/srv/api']);
    assert.deepEqual(dirs('npm run build && npm test && npm install -g pnpm'), []);
  });

  it('refuses npm install of a package no lockfile pins, and an install after a cd reprokit cannot evaluate', () => {
    assert.throws(() => dirs('npm install express'), /installs express, which no lockfile pins.*commit package-lock.json/);
    assert.throws(() => dirs('cd $APP && npm ci'), /cd into a directory reprokit does not evaluate/);
  });
});

const lock = (value: unknown) => Buffer.from(JSON.stringify(value));
const ms = { version: '2.1.3', resolved: 'https://registry.npmjs.org/ms/-/ms-2.1.3.tgz', integrity: 'sha512-6FlzubTLZG3J2a/NVCAleEhjzq5oxgHyaCU9yYXvcLsvoVaHJq/s5xXI6/XXP6tz7R9xAOtHnSO/tXtF3WRTlA==' };

describe('readPackageLock', () => {
  it('lists the tarballs of lockfileVersion 3 and 1 locks, skipping workspace folders, links and bundled packages', () => {
    const v3 = readPackageLock(lock({ lockfileVersion: 3, packages: { '': {}, 'packages/a': { version: '1.0.0' }, 'node_modules/a': { resolved: 'packages/a', link: true }, 'node_modules/ms': ms, 'node_modules/x/node_modules/y': { version: '1.0.0', inBundle: true } } }), 'package-lock.json');
    assert.deepEqual(v3.tarballs.map((t) => t.path), ['node_modules/ms']);
    const v1 = readPackageLock(lock({ lockfileVersion: 1, dependencies: { debug: { ...ms, dependencies: { ms } } } }), 'package-lock.json');
    assert.deepEqual(v1.tarballs.map((t) => t.path).sort(), ['node_modules/debug', 'node_modules/debug/node_modules/ms']);
  });

  it('refuses a tarball without integrity, naming the field and what to do', () => {
    assert.throws(() => readPackageLock(lock({ lockfileVersion: 3, packages: { 'node_modules/ms': { ...ms, integrity: undefined } } }), 'Dockerfile:4: /app/package-lock.json'), /^UserError: Dockerfile:4: \/app\/package-lock.json: packages\["node_modules\/ms"\]\.integrity: missing .*commit the new package-lock.json/);
  });

  it('refuses install paths that escape, a huge lock, another lockfileVersion, and reads a deeply nested one', () => {
    assert.throws(() => readPackageLock(lock({ lockfileVersion: 3, packages: { 'node_modules/../../etc': ms } }), 'l'), /leaves the project's directory/);
    assert.throws(() => readPackageLock(Buffer.alloc((128 << 20) + 1, 0x20), 'l'), /over 128 MiB/);
    assert.throws(() => readPackageLock(lock({ lockfileVersion: 4, packages: {} }), 'l'), /lockfileVersion: 4, expected 1, 2 or 3/);
    // 20000 levels of lockfileVersion 1 nesting: walked without recursion.
    const entry = JSON.stringify(ms).slice(0, -1);
    const deep = `{"lockfileVersion":1,"dependencies":${`{"ms":${entry},"dependencies":`.repeat(20000)}{}${'}}'.repeat(20000)}}`;
    assert.equal(readPackageLock(Buffer.from(deep), 'l').tarballs.length, 20000);
  });

  it('keys the fetch by the lock bytes and the registry', () => {
    const a = readPackageLock(lock({ lockfileVersion: 3, packages: { 'node_modules/ms': ms } }), 'l');
    const b = readPackageLock(lock({ lockfileVersion: 3, packages: { 'node_modules/ms': { ...ms, version: '2.1.2' } } }), 'l');
    assert.notEqual(npmFetchKey(a, 'https://registry.npmjs.org/'), npmFetchKey(b, 'https://registry.npmjs.org/'));
    assert.notEqual(npmFetchKey(a, 'https://registry.npmjs.org/'), npmFetchKey(a, 'https://npm.example.com/'));
    assert.equal(npmFetchKey(a, 'https://registry.npmjs.org/'), npmFetchKey(readPackageLock(lock({ lockfileVersion: 3, packages: { 'node_modules/ms': ms } }), 'l'), 'https://registry.npmjs.org/'));
  });
});

describe('checkResolved', () => {
  it('refuses resolved URLs on loopback and link-local addresses, not the configured registry', async () => {
    const where = 'Dockerfile:4: /app/package-lock.json';
    await assert.rejects(checkResolved([{ resolved: 'http://127.0.0.1:4873/ms/-/ms-2.1.3.tgz', field: 'packages["node_modules/ms"]' }], 'https://registry.npmjs.org/', where), /packages\["node_modules\/ms"\]\.resolved: .*127\.0\.0\.1.*loopback.*REPROKIT_ALLOW_PRIVATE_NETWORK/);
    await assert.rejects(checkResolved([{ resolved: 'http://169.254.169.254/latest/ms.tgz', field: 'f' }], 'https://registry.npmjs.org/', where), /link-local/);
    await checkResolved([{ resolved: 'http://127.0.0.1:4873/ms/-/ms-2.1.3.tgz', field: 'f' }], 'http://127.0.0.1:4873/', where);
  });
});
