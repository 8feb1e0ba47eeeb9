// installGlobalPackages against the real `npm install -g --prefix` of the same tarballs: the tree,
// every mode, every link target and every file's bytes must be what npm lays out.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
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

  it('refuses a tarball entry climbing out of its root, a bin that leaves the package, and a link out of the root', async () => {
    const dir = tempDir();
    const pack = (name: string, build: (w: TarWriter) => void) => {
      const tar = join(dir, `${name}.tar`);
      const fd = openSync(tar, 'w');
      const w = new TarWriter(fd, 1);
      build(w);
      w.finish();
      closeSync(fd);
      writeFileSync(`${tar}.tgz`, gzipSync(readFileSync(tar)));
      return { name, version: '1.0.0', tarball: `${tar}.tgz` };
    };
    const meta = { mode: 0o644, uid: 0, gid: 0 };
    const json = (value: unknown) => Buffer.from(JSON.stringify(value));
    const climb = pack('climb', (w) => (w.buffer('package/package.json', json({ name: 'climb' }), meta), w.buffer('package/../../evil', Buffer.from('x'), meta)));
    const bin = pack('bin', (w) => w.buffer('package/package.json', json({ name: 'bin', bin: { x: '../../../etc/passwd' } }), meta));
    const link = pack('link', (w) => (w.buffer('package/package.json', json({ name: 'link' }), meta), w.symlink('package/x', '../../../../../etc', meta)));
    for (const [p, message] of [
      [climb, /^climb@1\.0\.0: package\/\.\.\/\.\.\/evil: the name climbs out of the root with \.\.$/],
      [bin, /^bin@1\.0\.0: package\.json: \$\.bin\["x"\] leaves the package$/],
      [link, /^link@1\.0\.0: package\/x: symlink to \.\.\/\.\.\/\.\.\/\.\.\/\.\.\/etc leads out of the root$/],
    ] as const) {
      const root = tempDir();
      await assert.rejects(installGlobalPackages(root, [p], dir), { name: 'UserError', message });
      assert.deepEqual(readdirSync(dirname(root)).filter((name) => name === 'evil'), []);
    }
  });
});
