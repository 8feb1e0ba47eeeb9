// Generated from packages/core/schema/arch-pkginfo.schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * A pacman package's .PKGINFO as parsed by reprokit: one `key = value` per line, repeated keys collected into lists, comments left out.
 */
export interface ArchPkgInfo {
  pkgname: string;
  pkgbase?: string;
  /**
   * Full version, [epoch:]pkgver-pkgrel.
   */
  pkgver: string;
  pkgdesc?: string;
  url?: string;
  builddate: number;
  packager: string;
  /**
   * Installed size in bytes.
   */
  size: number;
  arch: string;
  license?: string[];
  replaces?: string[];
  group?: string[];
  conflict?: string[];
  provides?: string[];
  backup?: string[];
  depend?: string[];
  optdepend?: string[];
  makedepend?: string[];
  checkdepend?: string[];
  /**
   * Extra data (pacman 7: pkgtype=…).
   */
  xdata?: string[];
}
