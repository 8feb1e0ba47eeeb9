import { buildArtifactInContainer, type ContainerBuildResult } from './container-build';

export interface RustContainerBuild {
  /** Absolute path of the cargo project or workspace root (Cargo.lock's directory), mounted read-only at /src. */
  projectDir: string;
  binary: string;
  /** The package of the binary in a Cargo workspace (`-p`). */
  package?: string;
  /** A complete fetched-crate cache (fetchCrates), mounted read-only as CARGO_HOME. */
  crates?: string;
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
 * directory in a fresh container; in a Cargo workspace at its root, `-p <package> --bin <binary>`.
 */
export async function buildRustBinaryInContainer(build: RustContainerBuild): Promise<ContainerBuildResult> {
  return buildArtifactInContainer({
    projectDir: build.projectDir,
    image: build.image,
    envLock: build.envLock,
    command: ['cargo', 'build', '--release', '--locked', '--offline', '--target', build.target, ...(build.package ? ['-p', build.package] : []), '--bin', build.binary, ...(build.cargoArgs ?? [])],
    artifact: `target/${build.target}/release/${build.binary}`,
    name: build.binary,
    kind: 'elf',
    outputDir: build.outputDir,
    sourceDateEpoch: build.sourceDateEpoch,
    // Fetched crates: cargo reads the registry it filled, read-only, and writes nothing there.
    readOnlyMounts: build.crates ? [{ host: build.crates, container: '/crates' }] : [],
    env: {
      CARGO_HOME: build.crates ? '/crates' : '/out/cargo-home',
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

/**
 * The cargo command a container build of one binary runs (no fetched crates), what it leaves below
 * /out, and its environment: what `reprokit vary` runs under its variations.
 */
export function rustContainerCommand(build: { binary: string; target: string; package?: string; cargoArgs?: string[] }): { command: string[]; artifact: string; env: Record<string, string> } {
  return {
    command: ['cargo', 'build', '--release', '--locked', '--offline', '--target', build.target, ...(build.package ? ['-p', build.package] : []), '--bin', build.binary, ...(build.cargoArgs ?? [])],
    artifact: `target/${build.target}/release/${build.binary}`,
    env: {
      CARGO_HOME: '/out/cargo-home',
      CARGO_TARGET_DIR: '/out/target',
      CARGO_INCREMENTAL: '0',
      CARGO_NET_OFFLINE: 'true',
      CARGO_TERM_COLOR: 'never',
      RUSTFLAGS: '-C target-feature=+crt-static',
    },
  };
}
