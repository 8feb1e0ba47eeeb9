// Generated from packages/nx/src/executors/oci/schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * Builds the project's Dockerfile into a bit-for-bit reproducible OCI image with reprokit's own image writer: base images pinned by digest and checked, layers sorted with fixed mtimes and owners, RUN without network (in the final stage as one normalized layer). Writes an OCI image layout and a docker-archive, loads it into docker and checks the image ID.
 */
export interface OciExecutorSchema {
  /**
   * The Dockerfile, relative to the project.
   */
  dockerfile?: string;
  /**
   * The build context (what COPY reads, filtered by its .dockerignore), relative to the project.
   */
  context?: string;
  /**
   * The artifact's name: `<name>.tar` (docker-archive) and `<name>.oci/` (OCI layout) in the output directory. Default: `<project>-image`.
   */
  name?: string;
  /**
   * The tag docker gets, also the layout's ref name. Default: `<project>:latest`.
   */
  tag?: string;
  /**
   * Values for the Dockerfile's ARGs; an argument no ARG declares is refused.
   */
  buildArgs?: {
    [k: string]: string;
  };
  /**
   * A registry repository to push the image to after the build, e.g. 127.0.0.1:5000/asdf. The manifest digest pushed is the one computed, every time.
   */
  push?: string;
  /**
   * Validate the layout's index, manifest and config against the OCI image-spec JSON schemas.
   */
  validate?: boolean;
  /**
   * Environment locks (relative to the workspace) that build a FROM image docker does not have, matched by image ID.
   */
  envLocks?: string[];
  /**
   * Keep what a RUN in the final stage leaves in /tmp, /var/tmp and package manager caches and logs (dropped from its layer by default).
   */
  keepTemporaryFiles?: boolean;
  /**
   * Directory, relative to the project, that receives the artifacts (the manifest's outputDir).
   */
  outputDir?: string;
  /**
   * Layer mtimes and `created`; default: the commit time of the last commit touching the project (the manifest excluded).
   */
  sourceDateEpoch?: number;
}
