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
}
