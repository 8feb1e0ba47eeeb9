import { homedir } from 'node:os';
import { join } from 'node:path';
import { installArtifact } from './build-record';
import { runStreamed } from './run-streamed';
import { checkToolchain, type PinnedToolchain } from './toolchain';

export interface RustHostBuild {
  /** Absolute path of the cargo project (the directory holding Cargo.toml and Cargo.lock). */
  projectDir: string;
  /** Absolute path of the workspace, remapped away from debug info and panic messages. */
  workspaceRoot: string;
  binary: string;
  /** The package of the binary in a Cargo workspace (`-p`); `projectDir` is then the workspace root. */
  package?: string;
  toolchain: PinnedToolchain;
  /** Absolute path of the directory the binary is copied to. */
  outputDir: string;
  sourceDateEpoch: number;
  cargoArgs?: string[];
  /** Prefix of every streamed log line, e.g. `[asdf:elf] `. */
  logPrefix: string;
  log?: (line: string) => void;
}

export interface RustHostBuildResult {
  /** Absolute path of the binary in the output directory. */
  file: string;
  toolchain: string;
}

/**
 * The environment of a hermetic host build: only what cargo and rustup need to find the toolchain,
 * plus the fixed variables that make the output independent of when, where and by whom it is built.
 * Nothing else is inherited from the caller (a stray RUSTFLAGS would change the binary).
 */
export function hermeticRustEnv(build: RustHostBuild, cargoHome: string): NodeJS.ProcessEnv {
  const remap = [`--remap-path-prefix=${cargoHome}=/cargo`, `--remap-path-prefix=${build.workspaceRoot}=/build`];
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? homedir(),
    CARGO_HOME: cargoHome,
    SOURCE_DATE_EPOCH: String(build.sourceDateEpoch),
    TZ: 'UTC',
    LC_ALL: 'C',
    CARGO_INCREMENTAL: '0',
    CARGO_NET_OFFLINE: 'true',
    CARGO_TERM_COLOR: 'never',
    CARGO_TARGET_DIR: join(build.projectDir, 'target'),
    RUSTFLAGS: remap.join(' '),
  };
  for (const name of ['RUSTUP_HOME', 'RUSTUP_TOOLCHAIN']) {
    if (process.env[name] !== undefined) env[name] = process.env[name];
  }
  return env;
}

/** `cargo build --release --locked --offline` with the pinned host toolchain, the binary copied out. */
export async function buildRustBinaryOnHost(build: RustHostBuild): Promise<RustHostBuildResult> {
  const cargoHome = process.env.CARGO_HOME ?? join(homedir(), '.cargo');
  const env = hermeticRustEnv(build, cargoHome);
  const toolchain = checkToolchain(build.toolchain, env);
  await runStreamed({
    command: 'cargo',
    args: ['build', '--release', '--locked', '--offline', ...(build.package ? ['-p', build.package] : []), '--bin', build.binary, ...(build.cargoArgs ?? [])],
    cwd: build.projectDir,
    env,
    prefix: build.logPrefix,
    log: build.log,
    umask: 0o022,
  });
  const file = installArtifact(join(build.projectDir, 'target', 'release', build.binary), build.outputDir, {
    name: build.binary,
    kind: 'elf',
    file: build.binary,
    environment: { type: 'host', toolchain: toolchain.description },
    sourceDateEpoch: build.sourceDateEpoch,
  });
  return { file, toolchain: toolchain.description };
}
