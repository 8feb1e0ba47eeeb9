// Generated from packages/core/schema/arch-buildinfo.schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * A pacman package's .BUILDINFO (BUILDINFO(5), format 1 or 2) as parsed by reprokit: one `key = value` per line, repeated keys collected into lists. What the package was built from and with, the input of a rebuild.
 */
export interface ArchBuildInfo {
  /**
   * The file format's version; 2 adds startdir, buildtool and buildtoolver.
   */
  format: '1' | '2';
  pkgname: string;
  pkgbase: string;
  /**
   * Full version, [epoch:]pkgver-pkgrel.
   */
  pkgver: string;
  pkgarch: string;
  pkgbuild_sha256sum: string;
  packager: string;
  /**
   * SOURCE_DATE_EPOCH of the build, in seconds.
   */
  builddate: number;
  /**
   * makepkg's BUILDDIR: paths below it can end up in binaries.
   */
  builddir: string;
  /**
   * The directory holding the PKGBUILD.
   */
  startdir?: string;
  buildtool?: string;
  buildtoolver?: string;
  /**
   * makepkg.conf's BUILDENV.
   */
  buildenv?: string[];
  /**
   * makepkg.conf's OPTIONS as the PKGBUILD left them.
   */
  options?: string[];
  /**
   * Packages installed in the build environment, name-version-arch.
   */
  installed?: string[];
}
