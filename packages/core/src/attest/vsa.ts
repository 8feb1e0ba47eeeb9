import { isoSeconds } from '../git';
import { STATEMENT_TYPE, type ResourceDescriptor, type Statement } from './statement';

/**
 * SLSA Verification Summary Attestation v1 (slsa.dev/spec/v1.0/verification_summary): what a
 * rebuilder says after rebuilding one artifact of a manifest. The subject is the artifact with the
 * digest the manifest commits to; PASSED means this builder got exactly those bytes. A FAILED one
 * says which bytes it got instead (`annotations.rebuiltSha256`), or none (`missing`).
 */
export const VSA_PREDICATE_TYPE = 'https://slsa.dev/verification_summary/v1';
/** The policy a reprokit rebuild applies: rebuild from the manifest's commit, compare bit for bit. */
export const REBUILD_POLICY_URI = 'https://reprokit.invalid/policies/rebuild/v1';

export type VerificationResult = 'PASSED' | 'FAILED';

export interface VsaPredicate {
  verifier: { id: string; version?: Record<string, string> };
  timeVerified: string;
  resourceUri: string;
  policy: { uri: string };
  inputAttestations?: ResourceDescriptor[];
  verificationResult: VerificationResult;
  verifiedLevels: string[];
  slsaVersion: string;
}

/** The resource a VSA is about: the project and the artifact's path in the manifest. */
export function resourceUriOf(project: string, artifactPath: string): string {
  return `reprokit:${project}/${artifactPath}`;
}

export interface VsaInput {
  verifierId: string;
  verifierVersion: Record<string, string>;
  project: string;
  artifact: { name: string; path: string; sha256: string };
  /** What this builder's rebuild produced: its sha256, or undefined when it produced nothing. */
  rebuiltSha256?: string;
  /** The rebuild matched the manifest in every respect it checks (for an image also its layout and ID). */
  passed: boolean;
  /** The rebuild's own provenance statement, by digest. */
  inputAttestations: ResourceDescriptor[];
  timeVerified: Date;
}

export function verificationSummary(input: VsaInput): Statement<VsaPredicate> {
  const passed = input.passed && input.rebuiltSha256 === input.artifact.sha256;
  const annotations = passed ? undefined : input.rebuiltSha256 ? { rebuiltSha256: input.rebuiltSha256 } : { missing: true };
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: input.artifact.path, digest: { sha256: input.artifact.sha256 }, ...(annotations ? { annotations } : {}) }],
    predicateType: VSA_PREDICATE_TYPE,
    predicate: {
      verifier: { id: input.verifierId, version: input.verifierVersion },
      timeVerified: isoSeconds(input.timeVerified),
      resourceUri: resourceUriOf(input.project, input.artifact.path),
      policy: { uri: REBUILD_POLICY_URI },
      inputAttestations: input.inputAttestations,
      verificationResult: passed ? 'PASSED' : 'FAILED',
      // A rebuild that matches says nothing about how the maintainer built; it is its own claim.
      verifiedLevels: passed ? ['REPROKIT_REBUILT_BIT_FOR_BIT'] : [],
      slsaVersion: '1.0',
    },
  };
}
