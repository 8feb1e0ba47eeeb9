import { buildArtifactInContainer, type ContainerBuildResult } from './container-build';

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

/**
 * `cargo build --release --locked --offline` inside the pinned builder image, from an empty target
 * directory in a fresh container.
 */
export async function buildRustBinaryInContainer(build: RustContainerBuild): Promise<ContainerBuildResult> {
  return buildArtifactInContainer({
    projectDir: build.projectDir,
    image: build.image,
    envLock: build.envLock,
    command: ['cargo', 'build', '--release', '--locked', '--offline', '--target', build.target, '--bin', build.binary, ...(build.cargoArgs ?? [])],
    artifact: `target/${build.target}/release/${build.binary}`,
    name: build.binary,
    kind: 'elf',
    outputDir: build.outputDir,
    sourceDateEpoch: build.sourceDateEpoch,
    env: {
      CARGO_HOME: '/out/cargo-home',
      CARGO_TARGET_DIR: '/out/target',
      CARGO_INCREMENTAL: '0',
      CARGO_NET_OFFLINE: 'true',
      CARGO_TERM_COLOR: 'never',
      RUSTFLAGS: '-C target-feature=+crt-static',
    },
    toolchainPackage: /^rustc(-web)?$/,
    logPrefix: build.logPrefix,
    log: build.log,
  });
}
