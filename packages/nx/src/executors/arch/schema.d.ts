// Generated from packages/nx/src/executors/arch/schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * Builds the project's PKGBUILD into pacman packages with makepkg: the sources archived from git, in a builder image pinned by digest with no network, as a non-root user, with SOURCE_DATE_EPOCH and a fixed BUILDDIR; optionally a pacman repository database and a rebuild check.
 */
export interface ArchExecutorSchema {
  /**
   * `container` runs makepkg in `image` (network none, non-root, read-only root); `host` runs the host's makepkg (for development: its packages differ from the container's).
   */
  environment?: 'container' | 'host';
  /**
   * Builder image pinned by digest (container mode), e.g. reprokit/arch-builder@sha256:<image ID>. A tag is refused.
   */
  image?: string;
  /**
   * Environment lock (relative to the workspace) that builds `image` when docker does not have it, e.g. packages/core/envs/arch-builder/env.lock.json.
   */
  envLock?: string;
  /**
   * File name of the source tarball reprokit makes from git, as the PKGBUILD's source=() names it.
   */
  sourceTarball?: string;
  /**
   * makepkg's BUILDDIR in the container, recorded in .BUILDINFO: paths below it can end up in binaries, so it is fixed.
   */
  builddir?: string;
  /**
   * The PKGBUILD's directory in the container, recorded in .BUILDINFO.
   */
  startdir?: string;
  /**
   * Also write a pacman repository database of this name (NAME.db.tar.gz, NAME.files.tar.gz) beside the packages, deterministic and recorded in the manifest.
   */
  repo?: string;
  /**
   * After building, rebuild each package from its .BUILDINFO (as `reprokit arch verify` does) and fail unless it is REPRODUCIBLE.
   */
  verify?: boolean;
  /**
   * Directory, relative to the project, whose arch/ subdirectory receives the packages, the source tarball and the database.
   */
  outputDir?: string;
  /**
   * Fixed SOURCE_DATE_EPOCH (the packages' builddate). Default: the date of the last commit that touched the project (the manifest excluded).
   */
  sourceDateEpoch?: number;
}
