// Real makepkg in the real arch-builder container, through the Docker daemon tools/setup starts.
// These tests fail, never skip, without docker.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { before, describe, it } from 'node:test';
import { readBuildEnvLock } from '../env/build-env';
import { connectDocker, runInContainer } from '../docker/docker';
import { hashFile } from '../hash';
import { recordManifest } from '../manifest/record';
import { tempDir } from '../testing/fixtures';
import { buildArchPackages, checkBuildPaths, makepkgFailure, type MakepkgBuild, type MakepkgResult } from './makepkg-build';
import { readPackageArchive } from './package-archive';
import { renderArchVerify, verifyArchPackage } from './verify-package';

const ENV_LOCK = join(__dirname, '..', '..', 'envs', 'arch-builder', 'env.lock.json');
const ASDF = join(__dirname, '..', '..', '..', 'asdf');
const COMMIT_DATE = '2026-01-01T00:00:00Z';
const EPOCH = Date.parse(COMMIT_DATE) / 1000;

function git(cwd: string, ...args: string[]): void {
  const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@t.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@t.invalid', GIT_AUTHOR_DATE: COMMIT_DATE, GIT_COMMITTER_DATE: COMMIT_DATE };
  const result = spawnSync('git', args, { cwd, env, encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
}

/** asdf's sources and PKGBUILD (or another) in a fresh git repository, committed. */
function asdfProject(pkgbuild?: string): string {
  const dir = join(tempDir(), 'asdf');
  mkdirSync(join(dir, 'src'), { recursive: true });
  for (const file of ['Cargo.toml', 'Cargo.lock', 'src/main.rs', 'PKGBUILD']) cpSync(join(ASDF, file), join(dir, file));
  if (pkgbuild !== undefined) writeFileSync(join(dir, 'PKGBUILD'), pkgbuild);
  git(dir, 'init', '-q');
  git(dir, 'add', '-A');
  git(dir, 'commit', '-q', '-m', 'asdf');
  return dir;
}

const lines: string[] = [];
let image: string;

function build(projectDir: string, overrides: Partial<MakepkgBuild> = {}): Promise<MakepkgResult> {
  return buildArchPackages({
    projectDir,
    pkgbuildLabel: 'asdf/PKGBUILD',
    environment: 'container',
    image,
    envLock: ENV_LOCK,
    sourceTarball: 'src.tgz',
    builddir: '/build',
    startdir: '/startdir',
    outputDir: join(projectDir, 'dist'),
    workDir: join(projectDir, 'target', 'reprokit-arch'),
    logPrefix: '[test] ',
    log: (line) => lines.push(line),
    ...overrides,
  });
}

/** Runs a command in the builder image with `dir` at /p, returning its output lines. */
async function inBuilder(dir: string, script: string): Promise<string[]> {
  const output: string[] = [];
  await runInContainer(await connectDocker(), {
    // The image ID: what docker knows reprokit's images by.
    image: image.split('@')[1],
    cmd: ['bash', '-euo', 'pipefail', '-c', script],
    user: '1000:1000',
    env: { TZ: 'UTC', LC_ALL: 'C', HOME: '/tmp' },
    mounts: [{ host: dir, container: '/p', readOnly: false }],
    workdir: '/tmp',
    logPrefix: '',
    log: (line) => output.push(line),
  });
  return output;
}

/** The package unpacked, `edit` run on its files (as a shell script), packed again as makepkg packs it. */
async function repack(packageFile: string, edit: string): Promise<string> {
  const dir = join(dirname(packageFile), 'repacked');
  mkdirSync(dir, { recursive: true, mode: 0o777 });
  spawnSync('chmod', ['777', dir]);
  cpSync(packageFile, join(dir, 'in.pkg.tar.zst'));
  await inBuilder(
    dir,
    `mkdir /tmp/x && cd /tmp/x && bsdtar -xf /p/in.pkg.tar.zst && ${edit}
     printf '%s\\0' .BUILDINFO .MTREE .PKGINFO usr usr/bin usr/bin/asdf |
       bsdtar --uid 0 --gid 0 --uname root --gname root --no-fflags -cnf - --null -T - | zstd -q -c -T1 > /p/out.pkg.tar.zst`,
  );
  // Where arch verify finds the project's manifest above it, under the package's own name.
  const tampered = join(dirname(dirname(dirname(packageFile))), 'tampered', basename(packageFile));
  mkdirSync(dirname(tampered), { recursive: true });
  cpSync(join(dir, 'out.pkg.tar.zst'), tampered);
  return tampered;
}

// Without docker: how failures and paths are reported.
describe('makepkgFailure', () => {
  const build = { pkgbuildLabel: 'packages/x/PKGBUILD', startdir: '/startdir' };
  it("makes makepkg's error one line naming the project's PKGBUILD", () => {
    assert.equal(
      makepkgFailure(['[x] ==> Making package', '[x] ==> ERROR: Missing package() function in /startdir/PKGBUILD.'], build, 'fallback'),
      'packages/x/PKGBUILD: makepkg: Missing package() function in PKGBUILD',
    );
    assert.equal(
      makepkgFailure(["[x] /startdir/PKGBUILD: line 12: syntax error near unexpected token `}'", '[x] ==> ERROR: Failed to source /startdir/PKGBUILD'], build, 'fallback'),
      "packages/x/PKGBUILD:12: syntax error near unexpected token `}'",
    );
    assert.equal(makepkgFailure(['[x] cargo: error'], build, 'the container failed'), 'the container failed');
  });
});

describe('checkBuildPaths', () => {
  it('accepts plain absolute directories apart from each other and from the image', () => {
    checkBuildPaths({ builddir: '/build', startdir: '/startdir' }, 'f');
    checkBuildPaths({ builddir: '/srv/build', startdir: '/srv/start' }, 'f');
  });

  it('refuses relative, odd, overlapping and reserved paths, naming the field', () => {
    assert.throws(() => checkBuildPaths({ builddir: 'build', startdir: '/s' }, 'p:.BUILDINFO'), { message: 'p:.BUILDINFO: builddir "build" is not a plain absolute path' });
    assert.throws(() => checkBuildPaths({ builddir: '/b/../etc', startdir: '/s' }, 'f'), { message: /builddir "\/b\/\.\.\/etc" is not a plain absolute path/ });
    assert.throws(() => checkBuildPaths({ builddir: '/', startdir: '/s' }, 'f'), { message: /is not a plain absolute path/ });
    assert.throws(() => checkBuildPaths({ builddir: '/tmp/build', startdir: '/s' }, 'f'), { message: 'f: builddir /tmp/build overlaps the builder\'s /tmp' });
    assert.throws(() => checkBuildPaths({ builddir: '/build', startdir: '/usr' }, 'f'), { message: "f: startdir /usr overlaps the builder's /usr" });
    assert.throws(() => checkBuildPaths({ builddir: '/build', startdir: '/build/start' }, 'f'), { message: 'f: builddir /build and startdir /build/start overlap' });
  });
});

describe('makepkg in the arch-builder image', () => {
  let project: string;
  let first: MakepkgResult;

  before(async () => {
    const lock = await readBuildEnvLock(ENV_LOCK);
    image = `reprokit/arch-builder@${lock.imageId}`;
    project = asdfProject();
    first = await build(project, { repo: 'test' });
    await recordManifest({ manifestPath: join(project, 'repro-manifest.json'), project: 'asdf', outputDir: 'dist', workspaceRoot: project });
  });

  it('two builds give the same package, source tarball and repository, byte for byte', async () => {
    const second = await build(project, { repo: 'test', outputDir: join(project, 'dist2'), workDir: join(project, 'target', 'second') });
    const hashes = async (result: MakepkgResult) =>
      Promise.all([result.packages[0].file, result.source.file, ...result.repoFiles].map(async (file) => [basename(file), (await hashFile(file, ['sha256'])).digests.sha256]));
    const [a, b] = [await hashes(first), await hashes(second)];
    assert.deepEqual(a.map(([name]) => name), ['asdf-0.1.1-1-x86_64.pkg.tar.zst', 'asdf-0.1.1-1-src.tgz', 'test.db.tar.gz', 'test.files.tar.gz']);
    assert.deepEqual(a, b);
    assert.equal(first.sourceDateEpoch, EPOCH);
    assert.ok(first.environment.type === 'container' && first.environment.toolchain === 'makepkg 6.0.2-3', JSON.stringify(first.environment));
  });

  it('bsdtar lists usr/bin/asdf with mode 0755, owned by root, at the commit date', async () => {
    const listing = await inBuilder(join(project, 'dist', 'arch'), 'bsdtar -tvf /p/asdf-0.1.1-1-x86_64.pkg.tar.zst');
    const line = listing.find((l) => l.endsWith(' usr/bin/asdf'));
    assert.ok(line, listing.join('\n'));
    // bsdtar prints the year for a date more than six months from now, else the time.
    const date = new Date(EPOCH * 1000);
    const month = date.toLocaleString('en-US', { month: 'short', timeZone: 'UTC' });
    assert.match(line, new RegExp(`^-rwxr-xr-x +0 root +root +\\d+ ${month} +${date.getUTCDate()} +(${date.getUTCFullYear()}|00:00) usr/bin/asdf$`));
    const entry = readPackageArchive(first.packages[0].file).entries.find((e) => e.path === 'usr/bin/asdf')!;
    assert.equal(entry.mode, 0o755);
    assert.equal(entry.mtime, EPOCH);
  });

  it('the repository database lists the package with its sha256', async () => {
    const desc = await inBuilder(join(project, 'dist', 'arch'), 'bsdtar -xOf /p/test.db.tar.gz asdf-0.1.1-1/desc');
    const sha256 = (await hashFile(first.packages[0].file, ['sha256'])).digests.sha256;
    assert.equal(desc[desc.indexOf('%SHA256SUM%') + 1], sha256);
    assert.equal(desc[desc.indexOf('%FILENAME%') + 1], 'asdf-0.1.1-1-x86_64.pkg.tar.zst');
  });

  it('records the build environment: .BUILDINFO has builddir, startdir and the image packages as installed', () => {
    const { buildinfo } = readPackageArchive(first.packages[0].file);
    assert.equal(buildinfo.builddate, EPOCH);
    assert.equal(buildinfo.builddir, '/build');
    assert.equal(buildinfo.startdir, '/startdir');
    assert.equal(buildinfo.packager, 'reprokit <reprokit@localhost>');
    assert.ok(buildinfo.installed?.some((p) => /^makepkg-6\.0\.2-3-amd64$/.test(p)), String(buildinfo.installed));
    assert.equal(buildinfo.pkgbuild_sha256sum, createHash('sha256').update(readFileSync(join(project, 'PKGBUILD'))).digest('hex'));
  });

  it('arch verify rebuilds the package from its .BUILDINFO: REPRODUCIBLE', async () => {
    const result = await verifyArchPackage({ packageFile: first.packages[0].file, log: (line) => lines.push(line) });
    assert.equal(result.reproducible, true, renderArchVerify(result));
    assert.match(renderArchVerify(result), /^REPRODUCIBLE asdf 0\.1\.1-1\n/);
  });

  it('a package whose payload was changed and repacked is NOT REPRODUCIBLE, naming usr/bin/asdf', async () => {
    const tampered = await repack(first.packages[0].file, `printf 'backdoor' >> usr/bin/asdf && touch -d @${EPOCH} usr/bin/asdf`);
    const result = await verifyArchPackage({ packageFile: tampered, log: (line) => lines.push(line) });
    assert.equal(result.reproducible, false);
    assert.deepEqual(result.entries.map((e) => [e.path, e.fields.map((f) => f.key)]), [['usr/bin/asdf', ['content', 'size']]]);
    const report = renderArchVerify(result);
    assert.match(report, /^NOT REPRODUCIBLE asdf 0\.1\.1-1\n/);
    assert.match(report, /^ {2}usr\/bin\/asdf: content [0-9a-f]{64} -> [0-9a-f]{64}, size \d+ -> \d+$/m);
    // reprokit diff, down into the package: the entry, then inside the ELF.
    assert.deepEqual(result.diff?.differences.map((d) => d.where[0]).filter((w, i, all) => all.indexOf(w) === i), ['usr/bin/asdf'], report);
    assert.match(report, /^what differs \(reprokit diff package rebuild\):\n {2}usr\/bin\/asdf: /m);
  });

  it('a .BUILDINFO with a changed builddate is reported as differing', async () => {
    const tampered = await repack(first.packages[0].file, `sed -i 's/^builddate = .*/builddate = ${EPOCH + 86400}/' .BUILDINFO && touch -d @${EPOCH} .BUILDINFO`);
    const result = await verifyArchPackage({ packageFile: tampered, log: (line) => lines.push(line) });
    assert.equal(result.reproducible, false);
    assert.equal(result.builddate, EPOCH + 86400);
    const report = renderArchVerify(result);
    assert.ok(report.includes(`.BUILDINFO builddate = ${EPOCH + 86400} but .PKGINFO builddate = ${EPOCH}`), report);
    assert.ok(result.pkginfo.some((f) => f.key === 'builddate' && f.expected === EPOCH && f.actual === EPOCH + 86400), report);
    assert.ok(result.entries.some((e) => e.path === 'usr/bin/asdf' && e.fields.some((f) => f.key === 'mtime')), report);
  });
});

describe('makepkg errors and isolation', () => {
  before(async () => {
    image = `reprokit/arch-builder@${(await readBuildEnvLock(ENV_LOCK)).imageId}`;
  });
  const pkgbuild = (body: string) => `pkgname=asdf\npkgver=0.1.1\npkgrel=1\narch=(x86_64)\nsource=(src.tgz)\nsha256sums=(SKIP)\n${body}`;

  it('a PKGBUILD syntax error is one line naming the PKGBUILD and the line', async () => {
    const project = asdfProject(pkgbuild('build() {\n  cargo build --release --locked --offline\n\npackage() {\n  true\n}\n}}\n'));
    await assert.rejects(build(project), (error: Error) => {
      assert.equal(error.name, 'UserError');
      assert.match(error.message, /^asdf\/PKGBUILD:\d+: syntax error/);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  });

  it('a PKGBUILD without package() is one line naming the PKGBUILD', async () => {
    const project = asdfProject(pkgbuild('build() {\n  true\n}\n'));
    await assert.rejects(build(project), { name: 'UserError', message: 'asdf/PKGBUILD: makepkg: Missing package() function in PKGBUILD' });
  });

  it('the build has no network: only the loopback interface, and no route', async () => {
    const project = asdfProject(
      pkgbuild(
        `package() {\n  mkdir -p "$pkgdir/usr/share/asdf"\n  ls /sys/class/net > "$pkgdir/usr/share/asdf/interfaces"\n` +
          `  tail -n +2 /proc/net/route | wc -l > "$pkgdir/usr/share/asdf/routes"\n}\n`,
      ),
    );
    const result = await build(project);
    const entries = readPackageArchive(result.packages[0].file).entries;
    const sha = (text: string) => createHash('sha256').update(text).digest('hex');
    assert.equal(entries.find((e) => e.path === 'usr/share/asdf/interfaces')?.sha256, sha('lo\n'));
    assert.equal(entries.find((e) => e.path === 'usr/share/asdf/routes')?.sha256, sha('0\n'));
  });
});
