import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { tempDir } from '../../testing/fixtures';
import { varyArchBuild } from './arch-vary';
import { varyOciBuild } from './oci-vary';
import { renderVaryReport } from '../report';

// Real builds (docker required: without it these tests fail): an image and an Arch package that
// are not reproducible, each because of one condition, and vary must name exactly that one.
const repo = join(__dirname, '..', '..', '..', '..', '..');
const plugin = JSON.parse(readFileSync(join(repo, 'nx.json'), 'utf8')).plugins.find((p: { plugin: string }) => p.plugin === '@reprokit/nx').options;
const EPOCH = 1795564800;
const log = () => {};
const dirs: string[] = [];
after(() => dirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

function git(cwd: string, ...args: string[]): void {
  const date = new Date(EPOCH * 1000).toISOString();
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t.invalid', GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date };
  const result = spawnSync('git', args, { cwd, env, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
}

describe('vary of image and Arch builds (docker)', () => {
  it('an image whose RUN records the host name is not reproducible under hostname, and only that', async () => {
    const dir = tempDir('reprokit-vary-oci-');
    dirs.push(dir);
    // The pinned c-builder (its ENV sets TZ and LC_ALL, so those two cannot vary for a RUN).
    writeFileSync(join(dir, 'Dockerfile'), `FROM ${plugin.elfCommand.image}\nRUN uname -n > /home/build/built-on\n`);
    const result = await varyOciBuild(
      {
        label: 'built-on:oci',
        dockerfile: join(dir, 'Dockerfile'),
        context: dir,
        sourceDateEpoch: EPOCH,
        envLocks: [join(repo, plugin.elfCommand.envLock)],
        name: 'built-on-image',
        tag: 'v17-vary-test:latest',
        workDir: join(dir, 'vary'),
      },
      { logPrefix: '[oci] ', log },
    );
    const text = renderVaryReport([result]);
    assert.equal(result.artifacts.length, 1, text);
    assert.equal(result.artifacts[0].reproducible, false, text);
    assert.deepEqual(result.artifacts[0].culprits.map((c) => c.variation), ['hostname'], text);
    assert.match(text, /^built-on:oci built-on-image: NOT REPRODUCIBLE under hostname$/m);
    assert.deepEqual(result.applied.map((a) => a.name), ['clock', 'hostname', 'home', 'environment', 'cpus'], text);
    const notApplied = Object.fromEntries(result.notApplied.map((n) => [n.name, n.reason]));
    assert.match(notApplied.timezone, /every RUN's environment sets TZ itself/);
    assert.match(notApplied['build-path'], /Dockerfile's \(WORKDIR, COPY\)/);
    assert.equal(result.keptIn, join(dir, 'vary'));
  });

  it('an Arch package recording the CPU count is not reproducible under cpus, and only that; its source tarball is not varied', async () => {
    const dir = join(tempDir('reprokit-vary-arch-'), 'cpus');
    dirs.push(join(dir, '..'));
    mkdirSync(dir);
    writeFileSync(
      join(dir, 'PKGBUILD'),
      [
        'pkgname=vary-cpus',
        'pkgver=1',
        'pkgrel=1',
        "pkgdesc='records the CPUs it was packaged with'",
        "arch=('x86_64')",
        "license=('MIT')",
        "source=('src.tgz')",
        "sha256sums=('SKIP')",
        'package() {',
        '  mkdir -p "$pkgdir/usr/share/vary-cpus"',
        '  nproc > "$pkgdir/usr/share/vary-cpus/cpus"',
        '}',
        '',
      ].join('\n'),
    );
    git(dir, 'init', '-q');
    git(dir, 'add', '-A');
    git(dir, 'commit', '-q', '-m', 'cpus');
    const result = await varyArchBuild(
      {
        label: 'vary-cpus:arch',
        projectDir: dir,
        pkgbuildLabel: 'PKGBUILD',
        image: plugin.arch.image,
        envLock: join(repo, plugin.arch.envLock),
        sourceDateEpoch: EPOCH,
        sourceTarball: 'src.tgz',
        builddir: '/build',
        startdir: '/startdir',
        workDir: join(dir, 'target', 'vary'),
      },
      { logPrefix: '[arch] ', log },
    );
    const text = renderVaryReport([result]);
    const byName = Object.fromEntries(result.artifacts.map((a) => [a.name, a]));
    assert.deepEqual(Object.keys(byName).sort(), ['vary-cpus.pkg', 'vary-cpus.source'], text);
    assert.deepEqual(byName['vary-cpus.pkg'].culprits.map((c) => c.variation), ['cpus'], text);
    assert.match(byName['vary-cpus.pkg'].culprits[0].difference, /usr\/share\/vary-cpus\/cpus/, text);
    assert.match(byName['vary-cpus.source'].notVaried ?? '', /source tarball from git on the host/);
    assert.deepEqual(result.applied.map((a) => a.name), ['clock', 'hostname', 'user', 'home', 'locale', 'timezone', 'environment', 'cpus', 'personality'], text);
    assert.deepEqual(result.notApplied.map((n) => n.name), ['build-path', 'umask', 'file-order', 'aslr'], text);
  });
});
