// Generated from packages/nx/src/executors/npm/schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * Packs the project's npm package with `npm pack` in a pinned Node image with no network (prepack, prepare and postpack run as npm runs them, offline) into `<outputDir>/<npm pack's file name>`, bit for bit the same on every machine.
 */
export interface NpmExecutorSchema {
  /**
   * The Node image pinned by digest, with node and npm on PATH. Default: reprokit's node-builder (`reprokit/node-builder@sha256:<image ID>`, built from its lock when docker lacks it).
   */
  image?: string;
  /**
   * Environment lock (relative to the workspace) that builds `image` when docker does not have it, e.g. tools/envs/node-builder/env.lock.json.
   */
  envLock?: string;
  /**
   * Directory, relative to the project, that receives the tarball (the manifest's outputDir).
   */
  outputDir?: string;
  /**
   * SOURCE_DATE_EPOCH for the package's scripts (npm pack itself dates every entry 1985-10-26); default: the commit time of the last commit touching the project (the manifest excluded).
   */
  sourceDateEpoch?: number;
}
