import type Docker from 'dockerode';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { installArtifact } from './build-record';
import { readBuildEnvLock } from './build-env';
import { connectDocker, ensureImage, parsePinnedImageRef, runInContainer } from './docker';
import { buildEnv } from './env-build';
import { UserError } from './errors';
import type { ProducedArtifact } from './manifest';

export interface ContainerBuild {
  /** Absolute path of the project, mounted read-only at /src (the working directory). */
  projectDir: string;
  /** The builder image, `name@sha256:<image ID or manifest digest>`. */
  image: string;
  /** The environment lock that builds the image when docker does not have it. */
  envLock?: string;
  /** The build command; it writes below /out, the one writable directory. */
  command: string[];
  /** The artifact the command leaves, as a path below /out. */
  artifact: string;
  /** The artifact's name in the manifest (and its file name in the output directory). */
  name: string;
  kind: ProducedArtifact['kind'];
  outputDir: string;
  sourceDateEpoch: number;
  /** Added to the fixed environment (SOURCE_DATE_EPOCH, TZ, LC_ALL, HOME). */
  env?: Record<string, string>;
  /** The lock's package whose version is recorded as the toolchain, e.g. /^gcc-\d+$/. */
  toolchainPackage?: RegExp;
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
  const imageId = await ensureImage(docker, build.image, (line) => build.log(build.logPrefix + line));
  return { docker, imageId, user, toolchain };
}

/**
 * Runs a build in a fresh container of the pinned builder image: no network, a non-root user, the
 * sources read-only, one empty writable directory (/out), a fixed environment and umask 022. The
 * artifact is copied to the output directory with its build record.
 */
export async function buildArtifactInContainer(build: ContainerBuild): Promise<ContainerBuildResult> {
  const log = build.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const { docker, imageId, user, toolchain } = await prepareBuilder({ ...build, log });
  const work = join(build.projectDir, 'target', 'reprokit-container');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // The build user of the image must be able to write here, whatever the host user is.
  chmodSync(work, 0o777);
  await runInContainer(docker, {
    image: imageId,
    cmd: ['sh', '-c', 'umask 022 && exec "$@"', 'sh', ...build.command],
    user,
    env: { SOURCE_DATE_EPOCH: String(build.sourceDateEpoch), TZ: 'UTC', LC_ALL: 'C', HOME: '/home/build', ...build.env },
    mounts: [
      { host: build.projectDir, container: '/src', readOnly: true },
      { host: work, container: '/out', readOnly: false },
    ],
    workdir: '/src',
    logPrefix: build.logPrefix,
    log,
  });
  const file = installArtifact(join(work, build.artifact), build.outputDir, {
    name: build.name,
    kind: build.kind,
    file: build.name,
    environment: toolchain ? { type: 'container', image: build.image, toolchain } : { type: 'container', image: build.image },
    sourceDateEpoch: build.sourceDateEpoch,
  });
  return { file, imageId, toolchain };
}
