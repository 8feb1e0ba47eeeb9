// Generated from packages/nx/src/executors/checksum/schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * Verifies the project's artifacts against its committed manifest, or records them with --update.
 */
export interface ChecksumExecutorSchema {
  /**
   * Path of the manifest, relative to the project.
   */
  manifest?: string;
  /**
   * Record the artifacts now on disk (from the build targets' records) into the manifest instead of verifying.
   */
  update?: boolean;
}
