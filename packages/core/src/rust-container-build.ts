import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { installArtifact } from './build-record';
import { readBuildEnvLock } from './build-env';
import { connectDocker, ensureImage, parsePinnedImageRef, runInContainer } from './docker';
import { buildEnv } from './env-build';
import { UserError } from './errors';

export interface RustContainerBuild {
  /** Absolute path of the cargo project, mounted read-only at /src. */
  projectDir: string;
  binary: string;
  /** The builder image, `name@sha256:<image ID or manifest digest>`. */
  image: string;
  /** The environment lock that builds the image when docker does not have it. */
  envLock?: string;
  /** Rust target triple; the binary is linked statically (+crt-static) so it runs on any base. */
  target: string;
  outputDir: string;
  sourceDateEpoch: number;
  cargoArgs?: string[];
  logPrefix: string;
  log?: (line: string) => void;
}

export interface RustContainerBuildResult {
  file: string;
  imageId: string;
  toolchain?: string;
}

/**
 * `cargo build --release --locked --offline` inside the pinned builder image: no network, a
 * non-root user, the sources read-only, one writable directory, a fixed environment and umask.
 * Each build starts from an empty target directory in a fresh container.
 */
export async function buildRustBinaryInContainer(build: RustContainerBuild): Promise<RustContainerBuildResult> {
  const { digest } = parsePinnedImageRef(build.image);
  const log = build.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const docker = await connectDocker();
  let user = '1000:1000';
  let toolchain: string | undefined;
  if (build.envLock) {
    const lock = await readBuildEnvLock(build.envLock);
    if (lock.imageId !== digest) {
      throw new UserError(`${build.envLock}: the lock produces ${lock.imageId ?? 'no recorded image'} but the target pins ${digest}: update the pin or the lock`);
    }
    user = lock.user;
    const rustc = lock.packages.find((p) => /^rustc(-web)?$/.test(p.name));
    if (rustc) toolchain = `${rustc.name} ${rustc.version}`;
    await buildEnv(build.envLock, { reuse: true, log: (line) => log(`${build.logPrefix}env: ${line}`) }, docker);
  }
  const imageId = await ensureImage(docker, build.image, (line) => log(build.logPrefix + line));
  const work = join(build.projectDir, 'target', 'reprokit-container');
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  // The build user of the image must be able to write here, whatever the host user is.
  chmodSync(work, 0o777);
  await runInContainer(docker, {
    image: imageId,
    cmd: ['sh', '-c', 'umask 022 && exec "$@"', 'sh', 'cargo', 'build', '--release', '--locked', '--offline', '--target', build.target, '--bin', build.binary, ...(build.cargoArgs ?? [])],
    user,
    env: {
      SOURCE_DATE_EPOCH: String(build.sourceDateEpoch),
      TZ: 'UTC',
      LC_ALL: 'C',
      HOME: '/home/build',
      CARGO_HOME: '/out/cargo-home',
      CARGO_TARGET_DIR: '/out/target',
      CARGO_INCREMENTAL: '0',
      CARGO_NET_OFFLINE: 'true',
      CARGO_TERM_COLOR: 'never',
      RUSTFLAGS: '-C target-feature=+crt-static',
    },
    mounts: [
      { host: build.projectDir, container: '/src', readOnly: true },
      { host: work, container: '/out', readOnly: false },
    ],
    workdir: '/src',
    logPrefix: build.logPrefix,
    log,
  });
  const file = installArtifact(join(work, 'target', build.target, 'release', build.binary), build.outputDir, {
    name: build.binary,
    kind: 'elf',
    file: build.binary,
    environment: toolchain ? { type: 'container', image: build.image, toolchain } : { type: 'container', image: build.image },
    sourceDateEpoch: build.sourceDateEpoch,
  });
  return { file, imageId, toolchain };
}
