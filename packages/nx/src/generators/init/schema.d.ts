// Generated from packages/nx/src/generators/init/schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * Adds reprokit to an Nx workspace: registers the @reprokit/nx plugin, copies the Rust builder environment and pins it, adds a pin policy.
 */
export interface InitGeneratorSchema {
  /**
   * Where build environments live in the workspace.
   */
  envDir?: string;
  /**
   * Do not copy the rust-builder and arch-builder environments or pin them in the plugin options.
   */
  skipEnv?: boolean;
}
