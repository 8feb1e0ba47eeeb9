// Generated from packages/nx/src/executors/reproduce/schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * After the build targets it depends on, verifies every artifact against the committed manifest and prints the paper trail a reviewer writes down.
 */
export interface ReproduceExecutorSchema {
  /**
   * Path of the manifest, relative to the project.
   */
  manifest?: string;
}
