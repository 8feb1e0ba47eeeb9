// Generated from packages/core/schema/build-env-lock.schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

/**
 * A locked build environment: every Debian package by exact version and sha256. The same lock gives the same image ID.
 */
export interface BuildEnvLock {
  lockVersion: 1;
  name: string;
  architecture: 'amd64' | 'arm64';
  /**
   * @minItems 1
   */
  packages: LockedPackage[];
  links: {
    [k: string]: string;
  };
  env: {
    [k: string]: string;
  };
  user: string;
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
}
