// installGlobalPackages against the real `npm install -g --prefix` of the same tarballs: the tree,
// every mode, every link target and every file's bytes must be what npm lays out.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { TarWriter } from '../../archive/tar-writer';
import { fetchNpmTarball, resolveNpmVersion } from '../../npm/registry-tarball';
import { tempDir } from '../../testing/fixtures';
import { installGlobalPackages } from './npm-global-install';

/** A package whose tarball has what pacote rewrites: odd modes, a CRLF #! line, .gitignore files, links. */
function oddTarball(dir: string): string {
  const tar = join(dir, 'odd.tar');
  const fd = openSync(tar, 'w');
  const w = new TarWriter(fd, 1);
  const file = (name: string, body: string, mode: number) => w.buffer(name, Buffer.from(body), { mode, uid: 1234, gid: 1234 });
  w.directory('package', { mode: 0o700, uid: 0, gid: 0 });
  file('package/package.json', JSON.stringify({ name: '@odd/tool', version: '1.0.0', bin: 'cli.js' }), 0o600);
  file('package/cli.js', '#!/usr/bin/env node\r\nconsole.log(1)\r\n', 0o644);
  file('package/lib/a.js', 'a', 0o400);
  file('package/lib/run.sh', 'echo', 0o750);
  file('package/lib/.gitignore', 'x', 0o644);
  file('package/sub/.npmignore', 'y', 0o644);
  file('package/sub/.gitignore', 'z', 0o644);
  w.symlink('package/lib/link', 'a.js', { mode: 0o777, uid: 0, gid: 0 });
  w.finish();
  closeSync(fd);
  const tgz = join(dir, 'odd-1.0.0.tgz');
  writeFileSync(tgz, gzipSync(readFileSync(tar)));
  return tgz;
}

/** path → mode, link target or sha256 of the content, for every entry below `dir`. */
function tree(dir: string, prefix = '', out = new Map<string, string>()): Map<string, string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const stat = lstatSync(path);
    const mode = (stat.mode & 0o7777).toString(8);
    if (stat.isSymbolicLink()) out.set(prefix + name, `link ${readlinkSync(path)}`);
    else if (stat.isDirectory()) {
      out.set(prefix + name + '/', `dir ${mode}`);
      tree(path, `${prefix}${name}/`, out);
    } else out.set(prefix + name, `file ${mode} ${createHash('sha256').update(readFileSync(path)).digest('hex')}`);
  }
  return out;
}

describe('installGlobalPackages', () => {
  it('lays out registry tarballs exactly as `npm install -g` does (npm itself, and a package pacote rewrites)', async () => {
    const dir = tempDir();
    const npm = await fetchNpmTarball(await resolveNpmVersion('npm', '11.21.3'), 'test');
    const odd = oddTarball(dir);
    const prefix = join(dir, 'npm-prefix');
    const installed = spawnSync('npm', ['install', '-g', '--prefix', prefix, '--ignore-scripts', '--offline', '--no-audit', '--no-fund', odd, npm], { encoding: 'utf8' });
    assert.equal(installed.status, 0, installed.stderr);
    const root = join(dir, 'root');
    mkdirSync(root);
    const ours = await installGlobalPackages(root, [
      { name: '@odd/tool', version: '1.0.0', tarball: odd },
      { name: 'npm', version: '11.21.3', tarball: npm },
    ], dir);
    assert.deepEqual(ours, ['@odd/tool@1.0.0', 'npm@11.21.3']);
    const expected = tree(prefix);
    // npm's record of what it installed, not part of the packages.
    expected.delete('lib/node_modules/.package-lock.json');
    const actual = tree(join(root, 'usr/local'));
    assert.deepEqual([...actual].filter(([path, what]) => expected.get(path) !== what), []);
    assert.deepEqual([...expected].filter(([path]) => !actual.has(path)), []);
    // What the comparison covers, spelled out: the CRLF line fixed, .gitignore renamed unless an .npmignore exists.
    assert.equal(readFileSync(join(root, 'usr/local/lib/node_modules/@odd/tool/cli.js'), 'utf8'), '#!/usr/bin/env node\nconsole.log(1)\r\n');
    assert.equal(actual.get('bin/tool'), 'link ../lib/node_modules/@odd/tool/cli.js');
    assert.equal(actual.get('lib/node_modules/@odd/tool/lib/.npmignore')?.split(' ')[1], '644');
    assert.equal(readFileSync(join(root, 'usr/local/lib/node_modules/@odd/tool/sub/.npmignore'), 'utf8'), 'y');
    assert.equal(actual.get('lib/node_modules/@odd/tool/lib/run.sh')?.split(' ')[1], '754');
    assert.equal(actual.get('lib/node_modules/npm/node_modules/.bin/semver'), 'link ../semver/bin/semver.js');
  });
});
