// Generated from packages/nx/src/generators/init/schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * Adds reprokit to an Nx workspace: registers the @reprokit/nx plugin, copies the builder environments the README's examples use (rust-builder, arch-builder, c-builder, static-base) and pins them in the plugin options, adds a pin policy, ignores dist/, target/ and Nx's cache.
 */
export interface InitGeneratorSchema {
  /**
   * Where build environments live in the workspace.
   */
  envDir?: string;
  /**
   * Do not copy the builder environments or pin them in the plugin options.
   */
  skipEnv?: boolean;
}
