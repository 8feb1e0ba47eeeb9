// Generated from packages/nx/src/generators/configuration/schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * Sets up reprokit for one project: builds its artifacts and records its first repro-manifest.json, and pins the images its files name where docker or a registry can resolve them.
 */
export interface ConfigurationGeneratorSchema {
  /**
   * The project to set up.
   */
  project: string;
  /**
   * Do not rewrite unpinned image references (reprokit pins update).
   */
  skipPins?: boolean;
}
