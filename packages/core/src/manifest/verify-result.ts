// What a verify of a manifest finds, as data: a low-level type explain/ names, so that it need not
// import verification/ (which sits above it and calls it).
import type { Artifact, PaperTrail } from './manifest';

export type ArtifactStatus = 'match' | 'mismatch' | 'missing' | 'unexpected';

export interface Fingerprint {
  size: number;
  blake2b512: string;
  sha256: string;
}

export interface ArtifactCheck {
  /** The artifact's name; for an unexpected file, its path. */
  name: string;
  kind: Artifact['kind'] | 'unknown';
  /** Path relative to the manifest's directory. */
  path: string;
  /** Absolute path. */
  file: string;
  status: ArtifactStatus;
  expected?: Fingerprint;
  actual?: Fingerprint;
  /** What the manifest says produced it. */
  environment?: Artifact['environment'];
  /** For an image: what the manifest records of it. */
  image?: Artifact['image'];
  /** For an npm tarball: the sha512 SRI the manifest records (what a registry's dist.integrity must say). */
  integrity?: string;
  /** What a mismatch differs in. */
  differs?: (keyof Fingerprint)[];
  /** For an image: what its layout or docker says differently from the manifest. */
  imageProblems?: string[];
}

export interface VerifyResult {
  manifestPath: string;
  project: string;
  recorded: PaperTrail;
  checks: ArtifactCheck[];
  /** Every artifact matches and nothing unexpected lies in the output directory. */
  ok: boolean;
}
