import type Docker from 'dockerode';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, posix, relative, sep } from 'node:path';
import { installArtifact } from './build-record';
import { readBuildEnvLock } from '../env/build-env';
import { connectDocker, ensureImage, imageWithDigest, parsePinnedImageRef, runInContainer } from '../docker/docker';
import { buildEnv } from '../env/env-build';
import { pullFromWorkspaceRegistries } from '../env/registry/registry-pull';
import { UserError } from '../errors';
import { MANIFEST_FILE, type ProducedArtifact } from '../manifest/manifest';
import { writeSourceCopyTar } from './source-copy';

export interface ContainerBuild {
  /** Absolute path of the project, mounted read-only at /src (the working directory). */
  projectDir: string;
  /** The builder image, `name@sha256:<image ID or manifest digest>`. */
  image: string;
  /** The environment lock that builds the image when docker does not have it. */
  envLock?: string;
  /** The build command; it writes below /out, the one writable directory. */
  command: string[];
  /**
   * The artifact the command leaves: a path below /out, or an absolute path below /src for an
   * in-tree build (e.g. `/src/lua`).
   */
  artifact: string;
  /**
   * Build in a writable copy of the project at /src (see writeSourceCopyTar) instead of the
   * read-only project: for makefiles that write next to their sources.
   */
  inTree?: boolean;
  /** The artifact's name in the manifest (and its file name in the output directory). */
  name: string;
  kind: ProducedArtifact['kind'];
  outputDir: string;
  sourceDateEpoch: number;
  /** More read-only mounts (e.g. a cache of fetched crates). */
  readOnlyMounts?: { host: string; container: string }[];
  /** Added to the fixed environment (SOURCE_DATE_EPOCH, TZ, LC_ALL, HOME). */
  env?: Record<string, string>;
  /** The lock's package whose version is recorded as the toolchain, e.g. /^gcc-\d+$/. */
  toolchainPackage?: RegExp;
  /** The toolchain to record when the caller knows it (e.g. `node 24.22.3, npm 11.21.3`); wins over toolchainPackage. */
  toolchain?: string;
  /** The artifact's mode in the output directory; default 0755 (a program). */
  mode?: number;
  logPrefix: string;
  log?: (line: string) => void;
}

export interface ContainerBuildResult {
  file: string;
  imageId: string;
  toolchain?: string;
}

export interface PreparedBuilder {
  docker: Docker;
  /** The image ID docker knows the pinned image by. */
  imageId: string;
  /** Numeric `uid:gid` the lock names (1000:1000 without a lock). */
  user: string;
  /** `<package> <version>` of the lock's toolchain package, when asked for one. */
  toolchain?: string;
}

/**
 * Connects to docker and makes sure it has the pinned builder image: built from the environment
 * lock when there is one (and refused when the lock produces another image than the pin), else
 * present or pulled by digest.
 */
export async function prepareBuilder(build: {
  /** An open connection to reuse; default: connect. */
  docker?: Docker;
  image: string;
  envLock?: string;
  toolchainPackage?: RegExp;
  logPrefix: string;
  log: (line: string) => void;
}): Promise<PreparedBuilder> {
  const { digest } = parsePinnedImageRef(build.image);
  const docker = build.docker ?? (await connectDocker());
  let user = '1000:1000';
  let toolchain: string | undefined;
  if (build.envLock) {
    const lock = await readBuildEnvLock(build.envLock);
    if (lock.imageId !== digest) {
      throw new UserError(`${build.envLock}: the lock produces ${lock.imageId ?? 'no recorded image'} but the target pins ${digest}: update the pin or the lock`);
    }
    user = lock.user;
    const tool = build.toolchainPackage && lock.packages.find((p) => build.toolchainPackage!.test(p.name));
    if (tool) toolchain = `${tool.name} ${tool.version}`;
    await buildEnv(build.envLock, { reuse: true, log: (line) => build.log(`${build.logPrefix}env: ${line}`) }, docker);
  }
  let imageId = build.envLock ? undefined : await imageWithDigest(docker, digest);
  if (!build.envLock && !imageId) {
    // No lock builds it: the workspace's registries are the one place left besides the pin's own registry.
    const pulled = await pullFromWorkspaceRegistries(docker, parsePinnedImageRef(build.image).name, digest, (line) => build.log(build.logPrefix + line));
    for (const line of pulled.from ? [] : pulled.refused) build.log(build.logPrefix + line);
    imageId = pulled.imageId;
  }
  imageId ??= await ensureImage(docker, build.image, (line) => build.log(build.logPrefix + line));
  return { docker, imageId, user, toolchain };
}

/**
 * Runs a build in a fresh container of the pinned builder image: no network, a non-root user, the
 * sources read-only (or, in-tree, a writable deterministic copy of them), one empty writable
 * directory (/out), a fixed environment and umask 022. The artifact is copied to the output
 * directory with its build record.
 */
export async function buildArtifactInContainer(build: ContainerBuild): Promise<ContainerBuildResult> {
  const log = build.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const artifact = artifactLocation(build.artifact, build.inTree ?? false);
  const prepared = await prepareBuilder({ ...build, log });
  const { docker, imageId, user } = prepared;
  const toolchain = build.toolchain ?? prepared.toolchain;
  // One work directory per artifact: members of one Cargo workspace build side by side in its root.
  const work = emptyWritableDir(join(build.projectDir, 'target', 'reprokit-container', build.name));
  let source: { host: string; tar: string } | undefined;
  if (build.inTree) {
    const [uid, gid] = user.split(':').map(Number);
    source = { host: emptyWritableDir(join(build.projectDir, 'target', 'reprokit-src')), tar: join(mkdtempSync(join(tmpdir(), 'reprokit-src-')), 'src.tar') };
    const copied = writeSourceCopyTar(build.projectDir, source.tar, { mtime: build.sourceDateEpoch, uid, gid, excluded: inTreeExcluded(build) });
    log(`${build.logPrefix}building in a copy of the project (${copied.files} files, mtime ${build.sourceDateEpoch})`);
  }
  try {
    await runInContainer(docker, {
      image: imageId,
      cmd: ['sh', '-c', 'umask 022 && exec "$@"', 'sh', ...build.command],
      user,
      env: { SOURCE_DATE_EPOCH: String(build.sourceDateEpoch), TZ: 'UTC', LC_ALL: 'C', HOME: '/home/build', ...build.env },
      mounts: [
        { host: source?.host ?? build.projectDir, container: '/src', readOnly: !source },
        { host: work, container: '/out', readOnly: false },
        ...(build.readOnlyMounts ?? []).map((m) => ({ ...m, readOnly: true })),
      ],
      workdir: '/src',
      logPrefix: build.logPrefix,
      log,
      // Docker (root) unpacks the copy with the tar's owners, modes and mtimes, whoever runs reprokit.
      beforeStart: source && (async (container) => void (await container.putArchive(source!.tar, { path: '/src' }))),
    });
  } finally {
    if (source) rmSync(dirname(source.tar), { recursive: true, force: true });
  }
  const roots = { out: work, ...(source && { src: source.host }) };
  const built = builtArtifact(roots[artifact.dir]!, artifact.path, build.artifact, () => elsewhere(roots, artifact));
  const file = installArtifact(built, build.outputDir, {
    name: build.name,
    kind: build.kind,
    file: build.name,
    environment: toolchain ? { type: 'container', image: build.image, toolchain } : { type: 'container', image: build.image },
    sourceDateEpoch: build.sourceDateEpoch,
  }, build.mode);
  return { file, imageId, toolchain };
}

/** An empty directory the image's build user can write to, whatever the host user is. */
function emptyWritableDir(path: string): string {
  rmSync(path, { recursive: true, force: true });
  mkdirSync(path, { recursive: true });
  chmodSync(path, 0o777);
  return path;
}

/** What an in-tree copy leaves out: build outputs, reprokit's work directories, the manifest. */
function inTreeExcluded(build: ContainerBuild): string[] {
  const excluded = ['target', MANIFEST_FILE];
  const out = relative(build.projectDir, build.outputDir);
  if (out && !out.startsWith('..') && !isAbsolute(out)) excluded.push(out.split(sep).join('/'));
  return excluded;
}

/** Where the `artifact` option points: below /out, or below /src for an in-tree build. */
function artifactLocation(artifact: string, inTree: boolean): { dir: 'out' | 'src'; path: string } {
  const inSrc = artifact.startsWith('/src/');
  if (artifact.startsWith('/') && !inSrc) throw new UserError(`artifact ${JSON.stringify(artifact)}: give a path below /out (relative) or, for an in-tree build, below /src`);
  if (inSrc && !inTree) throw new UserError(`artifact ${JSON.stringify(artifact)}: /src is the read-only project unless the build is in-tree (set inTree)`);
  const path = posix.normalize(inSrc ? artifact.slice('/src/'.length) : artifact);
  if (path === '.' || path === '..' || path.startsWith('../')) throw new UserError(`artifact ${JSON.stringify(artifact)}: must name a file inside ${inSrc ? '/src' : '/out'}`);
  return { dir: inSrc ? 'src' : 'out', path };
}

/**
 * The built artifact on the host: a regular file inside the directory the container wrote. The
 * build is not trusted: a symbolic link (to a host file, once read outside the container) or a path
 * through one is refused.
 */
function builtArtifact(root: string, path: string, named: string, hint: () => string = () => ''): string {
  let at = root;
  for (const part of path.split('/')) {
    at = join(at, part);
    let stat;
    try {
      stat = lstatSync(at);
    } catch {
      throw new UserError(`artifact ${named}: the build reported success but left no such file${hint()}`);
    }
    if (stat.isSymbolicLink()) throw new UserError(`artifact ${named}: the build left a symbolic link, not the file itself (a link would be read on the host)`);
    if (at !== join(root, path) ? !stat.isDirectory() : !stat.isFile()) throw new UserError(`artifact ${named}: the build left no regular file there`);
  }
  return at;
}

const MAX_SEARCHED = 50_000;

/**
 * For "no such file": regular files of the artifact's name the build did leave, in /out and (in-tree)
 * below /src, as the `artifact` option that names them, e.g. `; it left /src/src/lua: write "artifact":
 * "/src/src/lua"`. Most makefiles write next to their sources, so `"artifact": "lua"` (below /out)
 * misses a binary at /src/lua. The walk follows no link and stops after MAX_SEARCHED entries.
 */
function elsewhere(roots: { out: string; src?: string }, artifact: { dir: 'out' | 'src'; path: string }): string {
  const name = posix.basename(artifact.path);
  const found: string[] = [];
  let searched = 0;
  const walk = (dir: string, prefix: string) => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    } catch {
      return;
    }
    for (const entry of entries) {
      if (++searched > MAX_SEARCHED) return;
      const option = prefix ? `${prefix}/${entry.name}` : entry.name;
      if (entry.isDirectory()) walk(join(dir, entry.name), option);
      else if (entry.isFile() && entry.name === name) found.push(option);
    }
  };
  walk(roots.out, '');
  if (roots.src) walk(roots.src, '/src');
  const wanted = artifact.dir === 'src' ? `/src/${artifact.path}` : artifact.path;
  const options = found.filter((option) => option !== wanted).sort((a, b) => a.split('/').length - b.split('/').length || (a < b ? -1 : 1));
  if (options.length === 0) return artifact.dir === 'out' && !roots.src ? '' : ` in ${artifact.dir === 'src' ? '/src' : '/out'}`;
  const where = artifact.dir === 'out' ? '/out' : '/src';
  const shown = options.slice(0, 3).map((option) => (option.startsWith('/src/') ? option : `/out/${option}`));
  const more = options.length > 3 ? ` (and ${options.length - 3} more)` : '';
  return ` in ${where}; it left ${shown.join(', ')}${more}: write "artifact": ${JSON.stringify(options[0])}`;
}
