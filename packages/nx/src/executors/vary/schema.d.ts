// Generated from packages/nx/src/executors/vary/schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * Builds the project's artifacts under control conditions and under variations (build path, clock, host name, user, HOME, umask, locale, TZ, an extra variable, CPUs, file order, personality), each in a fresh container of the same pinned image; names the variations that change an artifact.
 */
export interface VaryExecutorSchema {
  /**
   * The build targets to vary. Default: every target of the project that runs reprokit's elf, oci or arch executor.
   */
  targets?: string[];
  /**
   * The variations to try. Default: all that the builder image and the daemon allow.
   */
  variations?: (
    | 'build-path'
    | 'clock'
    | 'hostname'
    | 'user'
    | 'home'
    | 'umask'
    | 'locale'
    | 'timezone'
    | 'environment'
    | 'cpus'
    | 'file-order'
    | 'personality'
    | 'aslr'
  )[];
  /**
   * Print the results as JSON instead of the report.
   */
  json?: boolean;
}
