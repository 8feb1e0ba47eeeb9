// Generated from packages/nx/src/executors/elf/schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * Builds a Rust binary with a pinned toolchain, hermetically (cargo build --release --locked, fixed SOURCE_DATE_EPOCH, TZ, locale, umask, remapped paths).
 */
export interface ElfExecutorSchema {
  /**
   * Name of the cargo binary; also the artifact's name in the manifest.
   */
  binary: string;
  /**
   * Where the build runs. `host` uses the host toolchain, refused unless it matches `toolchain.version`.
   */
  environment?: 'host';
  /**
   * The pinned toolchain. The build is refused when the installed one differs.
   */
  toolchain: {
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
   * Fixed SOURCE_DATE_EPOCH. Default: the date of the last commit that touched the project (the manifest excluded).
   */
  sourceDateEpoch?: number;
}
