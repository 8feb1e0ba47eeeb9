import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { installArtifact, removeBuildRecords } from '../build/build-record';
import { prepareBuilder } from '../build/container-build';
import { runInContainer } from '../docker/docker';
import type { RunnerOverrides } from '../build/runner-overrides';
import { UserError } from '../errors';
import type { Environment } from '../manifest/manifest';
import { MANIFEST_FILE } from '../manifest/manifest';
import { runStreamed } from '../build/run-streamed';
import { readPackageArchive, type PackageArchive } from './package-archive';
import { installRepository } from './repo-db';
import { createSourceTarball, type SourceTarball } from './source-tarball';

/** reprokit's makepkg.conf and the scripts that run makepkg, shipped with @reprokit/core. */
export const ARCH_SCRIPTS_DIR = join(__dirname, '..', '..', 'arch');
/** Where they are mounted (read-only) in the builder container. */
const SCRIPTS_MOUNT = '/opt/reprokit-arch';
const PKGDEST_MOUNT = '/pkgdest';
/** The output directory's subdirectory that holds the packages: a pacman repository when `repo` is set. */
export const ARCH_OUTPUT_SUBDIR = 'arch';
export const DEFAULT_BUILDDIR = '/build';
export const DEFAULT_STARTDIR = '/startdir';

export interface MakepkgBuild {
  /** Absolute path of the project: the PKGBUILD's directory, in a git repository. */
  projectDir: string;
  /** Shown in errors for the PKGBUILD, e.g. `packages/asdf/PKGBUILD`. */
  pkgbuildLabel: string;
  environment: 'container' | 'host';
  /** The builder image, `name@sha256:<image ID>` (container mode). */
  image?: string;
  /** The environment lock that builds the image when docker does not have it. */
  envLock?: string;
  /** Default: the date of the commit the sources are archived from. */
  sourceDateEpoch?: number;
  /** The source tarball's name, as the PKGBUILD's source=() names it. */
  sourceTarball: string;
  /** makepkg's BUILDDIR and the PKGBUILD's directory in the container; recorded in .BUILDINFO. */
  builddir: string;
  startdir: string;
  /** Writes a pacman repository database of this name beside the packages. */
  repo?: string;
  /** Where the packages go: `<outputDir>/arch/`, with their build records. */
  outputDir: string;
  /** Scratch directory on the host, emptied first. */
  workDir: string;
  logPrefix: string;
  log?: (line: string) => void;
  /** Variation builds only: conditions of the container that differ from the normal build's. */
  overrides?: RunnerOverrides;
}

export interface BuiltPackage {
  file: string;
  archive: PackageArchive;
}

export interface MakepkgResult {
  packages: BuiltPackage[];
  source: SourceTarball;
  /** The repository database files written, when `repo` is set. */
  repoFiles: string[];
  environment: Environment;
  sourceDateEpoch: number;
}

function makeWritableDir(path: string): string {
  mkdirSync(path, { recursive: true });
  // The build user of the image must be able to write here, whatever the host user is.
  chmodSync(path, 0o777);
  return path;
}

/**
 * makepkg's own error line (`==> ERROR: …`, or bash's `PKGBUILD: line N: …` for a syntax error),
 * with the container's paths made the project's, as one line naming the PKGBUILD.
 */
export function makepkgFailure(lines: string[], build: Pick<MakepkgBuild, 'pkgbuildLabel' | 'startdir'>, fallback: string): string {
  const bash = lines.map((line) => /PKGBUILD: line (\d+): (.*)$/.exec(line)).find(Boolean);
  if (bash) return `${build.pkgbuildLabel}:${bash[1]}: ${bash[2]}`;
  const error = lines.map((line) => /==> ERROR: (.*)$/.exec(line)).find(Boolean);
  if (error) {
    const message = error[1].split(`${build.startdir}/PKGBUILD`).join('PKGBUILD').replace(/\.$/, '');
    return `${build.pkgbuildLabel}: makepkg: ${message}`;
  }
  return fallback;
}

/** Directories of the container a build directory must not be, contain or lie in. */
const RESERVED_PATHS = ['/usr', '/etc', '/bin', '/lib', '/lib64', '/sbin', '/proc', '/sys', '/dev', '/tmp', '/home', PKGDEST_MOUNT, SCRIPTS_MOUNT];

/**
 * BUILDDIR and the start directory come from options or from a package's .BUILDINFO (verify): they
 * must be absolute, plain, apart from each other and from the image's own directories.
 */
export function checkBuildPaths(build: Pick<MakepkgBuild, 'builddir' | 'startdir'>, where: string): void {
  const overlaps = (a: string, b: string) => a === b || a.startsWith(b + '/') || b.startsWith(a + '/');
  for (const [name, path] of [['builddir', build.builddir], ['startdir', build.startdir]] as const) {
    if (!/^(\/[A-Za-z0-9._-]+)+$/.test(path) || path.split('/').some((part) => part === '.' || part === '..')) {
      throw new UserError(`${where}: ${name} ${JSON.stringify(path)} is not a plain absolute path`);
    }
    const reserved = RESERVED_PATHS.find((other) => overlaps(path, other));
    if (reserved) throw new UserError(`${where}: ${name} ${path} overlaps the builder's ${reserved}`);
  }
  if (overlaps(build.builddir, build.startdir)) throw new UserError(`${where}: builddir ${build.builddir} and startdir ${build.startdir} overlap`);
}

function requireHostMakepkg(): void {
  if (process.getuid?.() === 0) throw new UserError('host mode runs makepkg, which refuses to run as root: run nx as another user, or build in the container');
  const found = spawnSync('bash', ['-c', 'command -v makepkg && command -v fakeroot && command -v bsdtar'], { encoding: 'utf8' });
  if (found.status !== 0) {
    throw new UserError('host mode needs makepkg, fakeroot and bsdtar: `apt-get install makepkg pacman-package-manager fakeroot libarchive-tools zstd`, or build in the container');
  }
}

/**
 * Builds a PKGBUILD's packages: the sources archived from git (see createSourceTarball), then
 * reprokit-makepkg (makepkg with reprokit's makepkg.conf, and an optional repository database) in
 * a fresh container of the pinned image: no network, a non-root user, SOURCE_DATE_EPOCH, fixed
 * BUILDDIR and start directory. The packages, the source tarball and the database are copied to
 * `<outputDir>/arch/` with their build records.
 */
export async function buildArchPackages(build: MakepkgBuild): Promise<MakepkgResult> {
  // The name comes from options or from a recorded file name; it is joined onto the start directory
  // and the output directory, so it must be one plain file name.
  if (!/^[A-Za-z0-9_+][A-Za-z0-9._+-]*$/.test(build.sourceTarball)) {
    throw new UserError(`${build.pkgbuildLabel}: source tarball name ${JSON.stringify(build.sourceTarball)}: must be a plain file name (letters, digits, . _ + -)`);
  }
  const log = build.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const lines: string[] = [];
  const logged = (line: string) => {
    lines.push(line);
    log(line);
  };
  rmSync(build.workDir, { recursive: true, force: true });
  const dirs = { start: makeWritableDir(join(build.workDir, 'startdir')), build: makeWritableDir(join(build.workDir, 'build')), pkgdest: makeWritableDir(join(build.workDir, 'pkgdest')) };
  const source = await createSourceTarball(build.projectDir, join(dirs.start, build.sourceTarball), [MANIFEST_FILE], build.sourceDateEpoch);
  log(`${build.logPrefix}${build.sourceTarball}: the project at commit ${source.commit.slice(0, 12)}, sha256:${source.sha256}`);
  const sourceDateEpoch = build.sourceDateEpoch ?? source.epoch;
  const env = (paths: { startdir: string; builddir: string; pkgdest: string; home: string }) => ({
    SOURCE_DATE_EPOCH: String(sourceDateEpoch),
    TZ: 'UTC',
    LC_ALL: 'C',
    HOME: paths.home,
    SRCDEST: paths.startdir,
    BUILDDIR: paths.builddir,
    PKGDEST: paths.pkgdest,
    REPROKIT_SOURCE: build.sourceTarball,
    ...(build.repo ? { REPROKIT_REPO: build.repo } : {}),
  });
  let environment: Environment;
  try {
    if (build.environment === 'container') {
      if (!build.image) throw new UserError('container mode needs the builder image (name@sha256:<digest>)');
      checkBuildPaths(build, build.pkgbuildLabel);
      const builder = await prepareBuilder({ image: build.image, envLock: build.envLock, toolchainPackage: /^makepkg$/, logPrefix: build.logPrefix, log });
      const overrides = build.overrides ?? {};
      await runInContainer(builder.docker, {
        image: builder.imageId,
        cmd: [...(overrides.wrapper ?? []), 'bash', `${SCRIPTS_MOUNT}/reprokit-makepkg`],
        user: overrides.user ?? builder.user,
        // HOME on the tmpfs: the image's root is read-only, and tools (cargo) write below HOME.
        env: { ...env({ startdir: build.startdir, builddir: build.builddir, pkgdest: PKGDEST_MOUNT, home: '/tmp/home' }), ...overrides.env },
        hostname: overrides.hostname,
        domainname: overrides.domainname,
        cpuset: overrides.cpuset,
        mounts: [
          { host: dirs.start, container: build.startdir, readOnly: false },
          { host: dirs.build, container: build.builddir, readOnly: false },
          { host: dirs.pkgdest, container: PKGDEST_MOUNT, readOnly: false },
          { host: ARCH_SCRIPTS_DIR, container: SCRIPTS_MOUNT, readOnly: true },
        ],
        workdir: build.startdir,
        logPrefix: build.logPrefix,
        log: logged,
      });
      environment = { type: 'container', image: build.image, ...(builder.toolchain ? { toolchain: builder.toolchain } : {}) };
    } else {
      requireHostMakepkg();
      await runStreamed({
        command: 'bash',
        args: [join(ARCH_SCRIPTS_DIR, 'reprokit-makepkg')],
        cwd: dirs.start,
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env({ startdir: dirs.start, builddir: dirs.build, pkgdest: dirs.pkgdest, home: join(build.workDir, 'home') }) },
        prefix: build.logPrefix,
        log: logged,
        umask: 0o022,
      });
      const version = spawnSync('makepkg', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0].trim();
      environment = { type: 'host', toolchain: version || 'makepkg' };
    }
  } catch (error) {
    if (error instanceof UserError) throw new UserError(makepkgFailure(lines, build, error.message));
    throw error;
  }
  await removeBuildRecords(build.outputDir, ARCH_OUTPUT_SUBDIR);
  return installPackages(build, dirs.pkgdest, source, environment, sourceDateEpoch);
}

/** Copies what makepkg made into `<outputDir>/arch/`, replacing the previous build's files and records. */
function installPackages(build: MakepkgBuild, pkgdest: string, source: SourceTarball, environment: Environment, sourceDateEpoch: number): MakepkgResult {
  const built = readdirSync(pkgdest).filter((name) => /\.pkg\.tar(\.\w+)?$/.test(name)).sort();
  if (built.length === 0) throw new UserError(`${build.pkgbuildLabel}: makepkg reported success but left no package`);
  const target = join(build.outputDir, ARCH_OUTPUT_SUBDIR);
  rmSync(target, { recursive: true, force: true });
  mkdirSync(target, { recursive: true });
  const install = (from: string, file: string, name: string, kind: 'arch' | 'file') =>
    installArtifact(from, build.outputDir, { name, kind, file: `${ARCH_OUTPUT_SUBDIR}/${file}`, environment, sourceDateEpoch }, 0o644);
  const packages = built.map((file) => {
    const archive = readPackageArchive(join(pkgdest, file));
    return { file: install(join(pkgdest, file), file, `${archive.pkginfo.pkgname}.pkg`, 'arch'), archive };
  });
  const first = packages[0].archive.pkginfo;
  const sourceFile = `${first.pkgbase ?? first.pkgname}-${first.pkgver}-${build.sourceTarball}`;
  install(source.file, sourceFile, `${first.pkgbase ?? first.pkgname}.source`, 'file');
  const repoFiles = build.repo ? installRepository(build.repo, pkgdest, target, install) : [];
  return { packages, source: { ...source, file: join(target, sourceFile) }, repoFiles, environment, sourceDateEpoch };
}
