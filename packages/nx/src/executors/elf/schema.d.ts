// Generated from packages/nx/src/executors/elf/schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * Builds a Rust binary hermetically (cargo build --release --locked --offline, fixed SOURCE_DATE_EPOCH, TZ, locale, umask): in a builder image pinned by digest with no network, or with a pinned host toolchain.
 */
export interface ElfExecutorSchema {
  /**
   * Name of the binary: the cargo binary to build, and the artifact's name in the manifest.
   */
  binary: string;
  /**
   * The Cargo package the binary belongs to (`cargo build -p <package>`), needed in a workspace where several members could have a binary of that name. Inferred from Cargo.toml.
   */
  package?: string;
  /**
   * The Cargo workspace root, relative to the Nx workspace: where cargo runs (mounted read-only at /src in container mode), beside the shared Cargo.lock. Default: the project root. Inferred from the workspace's Cargo.toml.
   */
  buildRoot?: string;
  /**
   * `container` builds in `image` (network none, non-root, sources read-only); `host` uses the host toolchain, refused unless it matches `toolchain.version`.
   */
  environment?: 'container' | 'host';
  /**
   * Builder image pinned by digest (container mode), e.g. reprokit/rust-builder@sha256:<image ID>. A tag is refused.
   */
  image?: string;
  /**
   * Environment lock (relative to the workspace) that builds `image` when docker does not have it, e.g. tools/envs/rust-builder/env.lock.json.
   */
  envLock?: string;
  /**
   * Rust target triple in container mode; the binary is linked statically (-C target-feature=+crt-static).
   */
  target?: string;
  /**
   * The pinned host toolchain (host mode): the build is refused when the installed one differs.
   */
  toolchain?: {
    /**
     * The compiler whose version is pinned.
     */
    tool?: string;
    /**
     * Exact release, e.g. 1.95.0 (compared with `rustc -vV`'s `release:` line).
     */
    version: string;
  };
  /**
   * Directory, relative to the project, the binary is copied to.
   */
  outputDir?: string;
  /**
   * Extra arguments after `cargo build --release --locked --offline`.
   */
  cargoArgs?: string[];
  /**
   * Crates from registries or git: `auto` fetches them when Cargo.lock lists any and the build root's `.cargo/config.toml` does not replace sources with a vendored directory: `cargo fetch --locked` in the builder image with network (`fetchNetwork`), into a cache keyed by Cargo.lock's hash; the build then runs offline with no network and that cache mounted read-only as CARGO_HOME. `never`: the build gets no fetched crates.
   */
  fetch?: 'auto' | 'never';
  /**
   * Docker network of the fetch container (the build itself always has none), e.g. `host` or `bridge`.
   */
  fetchNetwork?: string;
  /**
   * Directory of the fetched-crate caches (one per Cargo.lock hash), relative to the workspace. Default: $XDG_CACHE_HOME/reprokit/crates (~/.cache/reprokit/crates).
   */
  crateCache?: string;
  /**
   * Fixed SOURCE_DATE_EPOCH. Default: the date of the last commit that touched the project (the manifest excluded).
   */
  sourceDateEpoch?: number;
  /**
   * Container mode: a build command other than cargo (e.g. ["make"]), run in /src (the project: read-only, or a writable copy with `inTree`) with /out writable. Requires `artifact`.
   *
   * @minItems 1
   */
  command?: string[];
  /**
   * With `command`: where the command leaves the binary: a path below /out (e.g. hello), or below /src for an in-tree build (e.g. /src/hello).
   */
  artifact?: string;
  /**
   * With `command`: run it in a writable copy of the project at /src (the files git would check out, sorted, every mtime SOURCE_DATE_EPOCH, modes 0644/0755, owned by the build user), so a makefile that writes next to its sources works unchanged. Default: true when the command is make, false otherwise (the project read-only).
   */
  inTree?: boolean;
  /**
   * With `command`: a regular expression for the environment lock's package recorded as the toolchain (e.g. ^gcc-[0-9]+$).
   */
  toolchainPackage?: string;
}
