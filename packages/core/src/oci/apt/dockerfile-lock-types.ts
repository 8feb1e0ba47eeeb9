// Generated from packages/core/schema/dockerfile-lock.schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * `<Dockerfile>.lock.json`, written by `reprokit oci lock`: every Debian package each `apt-get install` / `apt install` of the Dockerfile's RUN instructions installs, by exact version and sha256, resolved against its stage's base image. reprokit's build installs exactly these, offline.
 */
export interface DockerfileLock {
  $schema?: string;
  lockVersion: 1;
  architecture: 'amd64' | 'arm64';
  /**
   * The Debian suites the packages were resolved from (default bookworm, the frozen release pocket).
   *
   * @minItems 1
   */
  suites: string[];
  installs: LockedInstall[];
}
export interface LockedInstall {
  /**
   * The RUN's line in the Dockerfile.
   */
  line: number;
  /**
   * The install command, variables expanded, words joined by spaces.
   */
  command: string;
  /**
   * The pinned image the stage is built FROM (its dpkg status is what the closure was resolved against).
   */
  base: string;
  /**
   * What the install adds or upgrades, sorted by name.
   */
  packages: DockerfileLockedPackage[];
}
export interface DockerfileLockedPackage {
  name: string;
  version: string;
  architecture: 'amd64' | 'arm64' | 'all';
  /**
   * Path in the Debian archive.
   */
  filename: string;
  size: number;
  sha256: string;
  suite?: string;
  sha1?: string;
  snapshot?: string;
}
