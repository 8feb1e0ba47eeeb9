// Generated from packages/core/schema/repro-manifest.schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * What produced the artifact: a pinned host toolchain or a container image pinned by digest.
 */
export type Environment = HostEnvironment | ContainerEnvironment;
/**
 * One place the artifact was published.
 */
export type PublishedLocation = PublishedUrl | PublishedOciImage | PublishedPacmanRepository | PublishedNpmPackage;

/**
 * What a project's artifacts must hash to when rebuilt from this commit. One per project, committed as repro-manifest.json.
 */
export interface ReproManifest {
  manifestVersion: 1;
  /**
   * The project this manifest belongs to.
   */
  project: string;
  /**
   * Directory, relative to the manifest, that holds the artifacts. Any other file in it is reported as unexpected.
   */
  outputDir: string;
  recorded: PaperTrail;
  artifacts: Artifact[];
}
/**
 * Where and with what the hashes were recorded.
 */
export interface PaperTrail {
  /**
   * git commit the artifacts were built from (HEAD when recorded).
   */
  commit: string;
  commitDate: string;
  recordedAt: string;
  reprokitVersion: string;
  /**
   * Versions of the tools that recorded the manifest, e.g. node.
   */
  tools: {
    [k: string]: string;
  };
}
export interface Artifact {
  name: string;
  kind: 'elf' | 'oci' | 'arch' | 'npm' | 'file';
  /**
   * File path relative to the manifest's directory.
   */
  path: string;
  size: number;
  blake2b512: string;
  sha256: string;
  /**
   * For an `npm` artifact (a package tarball): its sha512 as Subresource Integrity, what a registry shows as dist.integrity and a lockfile as integrity.
   */
  integrity?: string;
  environment: Environment;
  image?: OciImage;
  /**
   * Where the artifact was published: `reprokit published` downloads each location and compares it with the hashes above.
   */
  published?: PublishedLocation[];
}
export interface HostEnvironment {
  type: 'host';
  /**
   * The toolchain's own version line, e.g. `rustc 1.95.0 (59807616e 2026-04-14)`.
   */
  toolchain: string;
}
export interface ContainerEnvironment {
  type: 'container';
  image: string;
  toolchain?: string;
}
/**
 * For an `oci` artifact (a docker-archive): the image it holds, as docker and registries name it, and its OCI image layout.
 */
export interface OciImage {
  /**
   * The image ID: the sha256 of the config, what `docker image inspect` reports.
   */
  id: string;
  /**
   * The digest of the OCI manifest, what a registry serves the image by (`name@sha256:…`).
   */
  manifestDigest: string;
  /**
   * The layers' uncompressed digests, base layers first.
   */
  diffIds: string[];
  /**
   * The OCI image layout directory, relative to the manifest's directory.
   */
  layout: string;
}
export interface PublishedUrl {
  /**
   * A release file: https://, http:// or file://.
   */
  url: string;
}
export interface PublishedOciImage {
  /**
   * A registry image, by tag or digest: `registry.example/asdf:0.1.1`, `host:5000/asdf@sha256:…`.
   */
  oci: string;
}
export interface PublishedPacmanRepository {
  /**
   * A pacman repository's server, as in pacman.conf (`$repo` and `$arch` are substituted): the package is found through `<repo>.db`.
   */
  pacman: string;
  /**
   * The repository's name.
   */
  repo: string;
}
export interface PublishedNpmPackage {
  /**
   * A package version in an npm registry, `name@version`: its tarball is compared, and the registry's claims about it (dist.integrity, dist.shasum, name, version and dependencies against the tarball's package.json, the subject of its attestations).
   */
  npm: string;
  /**
   * The registry; default: the workspace's npm configuration (npm_config_registry, .npmrc), as npm would use.
   */
  registry?: string;
}
