// Generated from packages/nx/src/executors/reproduce/schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * After the build targets it depends on, verifies every artifact against the committed manifest and prints the paper trail a reviewer writes down.
 */
export interface ReproduceExecutorSchema {
  /**
   * Path of the manifest, relative to the project.
   */
  manifest?: string;
  /**
   * A directory of signed verification summaries (DSSE envelopes from `reprokit rebuild --attest`). With trustedKeys and threshold: also require that many independent trusted builders attested every artifact's digest. Relative to the workspace root.
   */
  attestations?: string;
  /**
   * Instead of attestations: a registry (`host:port` or `host:port/path`) holding them as OCI referrers of each artifact, in `<registry>/<project>` (`reprokit rebuild --push-attestations`). With trustedKeys and threshold.
   */
  attestationsFrom?: string;
  /**
   * The trusted builders' public keys: a directory of .pub files (one builder each) or one file of keys. Relative to the workspace root.
   */
  trustedKeys?: string;
  /**
   * How many distinct trusted builders must have attested PASSED for every artifact's digest.
   */
  threshold?: number;
}
