// Generated from packages/core/schema/reprokit-report.schema.json by tools/gen-schema-types.mjs. Do not edit: change the schema, then run `npm run gen-types`.

export type Timestamp = string;
/**
 * reproduced: on disk with the manifest's hashes; mismatch: other bytes; missing: absent while other artifacts of its manifest are built; not-built: nothing of its manifest is built yet; unexpected: a file in the output directory the manifest does not list.
 */
export type ArtifactVerdict = 'reproduced' | 'mismatch' | 'missing' | 'not-built' | 'unexpected';

/**
 * A workspace's reproducibility at one moment: every manifest's artifacts checked against what is on disk, and the pin findings per project. Written by `reprokit report --json` and rendered as HTML and Markdown. Its definitions also describe `reprokit verify --json` (VerifyResult) and `reprokit pins check --format json` (PinFinding).
 */
export interface ReprokitReport {
  reportVersion: 1;
  reprokitVersion: string;
  generatedAt: Timestamp;
  workspace: WorkspaceState;
  /**
   * Every artifact of every manifest reproduced, nothing unexpected, every manifest readable, and with attestations every artifact attested by the threshold.
   */
  ok: boolean;
  counts: VerdictCounts;
  /**
   * The distinct build environments the manifests record (builder images by digest, host toolchains), sorted.
   */
  environments: Environment[];
  /**
   * The block a reviewer writes down: commit, date, builder images, and one b2sum line per artifact (relative to the workspace root, so `b2sum -c` accepts it there).
   */
  paperTrail: string;
  projects: ProjectReport[];
  /**
   * Why the pin scan could not run (then no project has pins).
   */
  pinsError?: string;
  /**
   * How attestations were checked, when they were: the threshold, the trusted builders and the attestation files refused (one line each).
   */
  attestations?: {
    threshold: number;
    trustedBuilders: string[];
    rejected: string[];
  };
}
export interface WorkspaceState {
  commit: string;
  commitDate: string;
  /**
   * The work tree has uncommitted changes.
   */
  dirty: boolean;
}
export interface VerdictCounts {
  reproduced: number;
  mismatch: number;
  missing: number;
  'not-built': number;
  unexpected: number;
}
export interface Environment {
  type: 'host' | 'container';
  image?: string;
  toolchain?: string;
}
export interface ProjectReport {
  name: string;
  /**
   * Relative to the workspace root; `.` for the root.
   */
  root: string;
  /**
   * The manifest's path relative to the workspace root (absent for a project with pin findings only).
   */
  manifest?: string;
  recorded?: {
    commit: string;
    commitDate: string;
    recordedAt: string;
  };
  /**
   * Why the manifest could not be read (one line).
   */
  error?: string;
  artifacts: ArtifactReport[];
  pins: {
    error: number;
    warning: number;
    note: number;
    findings: PinFinding[];
  };
}
export interface ArtifactReport {
  name: string;
  /**
   * elf, oci, arch, file, … or unknown for an unexpected file.
   */
  kind: string;
  /**
   * Relative to the workspace root.
   */
  path: string;
  status: ArtifactVerdict;
  expected?: Fingerprint;
  actual?: Fingerprint;
  environment?: Environment;
  image?: {
    id: string;
    manifestDigest: string;
  };
  /**
   * What differs, or what to do (one line each). Empty when reproduced.
   */
  explanation: string[];
  /**
   * Where the artifact was published, from the manifest (checked by `reprokit published`).
   */
  published?: {}[];
  /**
   * Further results about this artifact found beside its build record (variation builds, attestations), one line each with its source file.
   */
  extra?: {
    source: string;
    label: string;
    text: string;
  }[];
  /**
   * What `reprokit vary` found (its `<artifact>.vary.json` beside the build record): reproducible under every variation, the variations that change the artifact with what differs, or not varied and why.
   */
  variations?: {
    verdict: 'reproducible' | 'not reproducible' | 'not varied';
    summary: string;
    /**
     * The variations applied.
     */
    variations: string[];
    /**
     * Each variation that alone changes the artifact, with what differs.
     */
    culprits: {
      variation: string;
      difference: string;
    }[];
    /**
     * When no single variation explains the difference: a combination, or plain nondeterminism.
     */
    note?: string;
    /**
     * The result file, relative to the workspace.
     */
    source: string;
  };
  /**
   * Signed verification summaries of independent rebuilders for this artifact's digest (with --attestations and --trusted-keys).
   */
  attestations?: {
    threshold: number;
    /**
     * Trusted builders that attested PASSED, sorted.
     */
    passedBy: string[];
    /**
     * At least `threshold` trusted builders attested PASSED.
     */
    ok: boolean;
    disagreements: {
      builder: string;
      what: string;
    }[];
  };
  /**
   * With --published: each published location downloaded and compared with the committed hashes (`reprokit published`).
   */
  publishedChecks?: {
    location: string;
    type: 'url' | 'oci' | 'pacman' | 'npm';
    status: 'match' | 'differs' | 'unreachable';
    reason?: string;
    note?: string;
  }[];
}
export interface Fingerprint {
  size: number;
  blake2b512: string;
  sha256: string;
}
/**
 * One finding of `reprokit pins check --format json`. `file` is relative to the repository (workspace) root.
 */
export interface PinFinding {
  rule: string;
  severity: 'error' | 'warning' | 'note';
  file: string;
  line: number;
  column: number;
  message: string;
  fix: string;
}
