import { spawnSync } from 'node:child_process';
import { readdirSync, type Dirent } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { isUserError, UserError } from '../errors';
import { gitState, isoSeconds } from '../git';
import { formatChecksumLine } from '../hash';
import { compareStrings, MANIFEST_FILE, readManifest } from '../manifest/manifest';
import { describeEnvironment } from '../verification/paper-trail';
import { scanPins } from '../pins/scan';
import { verifyThreshold, type ThresholdResult } from '../attest/threshold';
import { checkPublished, type PublishedResult } from '../published/check';
import { verifyReadManifest, type ArtifactCheck } from '../verification/verify';
import { REPROKIT_VERSION } from '../version';
import type { MismatchExplanation } from '../explain/explain-mismatch';
import { extraResults } from './extra-results';
import { readVariationResult } from './variation-results';
import type { ArtifactReport, ArtifactVerdict, Environment, ProjectReport, ReprokitReport, VerdictCounts } from './report-types';

export type { ReprokitReport } from './report-types';

export interface ReportOptions {
  /** The workspace (a git work tree, usually); every manifest below it is checked. */
  workspaceRoot: string;
  /** Scan for pin findings too (the default). */
  pins?: boolean;
  /**
   * Check independent rebuilders' signed verification summaries too (`reprokit verify --attestations`):
   * from a directory, or from a registry (`from`, `host:port[/path]`: each project's `<from>/<project>`).
   */
  attestations?: { dir?: string; from?: string; trustedKeys: string; threshold: number };
  /** Download every published location the manifests list and compare it (`reprokit published`). */
  published?: boolean;
  /** How the published locations are downloaded (--timeout, --deadline, --speed-*, --allow-private-network; default REPROKIT_ALLOW_PRIVATE_NETWORK). */
  download?: import('../net/download-options').DownloadOptions;
  now?: Date;
}

/** Directories never searched for manifests: dependencies, build output, caches, VCS data. */
const NOT_SEARCHED = new Set(['node_modules', '.git', '.nx', 'dist', 'target', 'vendor']);
/** A workspace with more manifests than this is refused rather than walked for minutes. */
const MAX_MANIFESTS = 10_000;
const MAX_DEPTH = 32;

const toPosix = (path: string) => path.split('\\').join('/');

/**
 * Every repro-manifest.json of the workspace, relative to its root, sorted: the ones git knows
 * (tracked or not ignored) in a git work tree, else a bounded walk that skips the usual build and
 * dependency directories. Symbolic links are never followed, so nothing outside the workspace is read.
 */
export function findManifests(workspaceRoot: string): string[] {
  const listed = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z', '--', `:(glob)**/${MANIFEST_FILE}`], {
    cwd: workspaceRoot,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  let found: string[];
  if (listed.status === 0) {
    found = listed.stdout.split('\0').filter((path) => path && !path.split('/').some((part) => NOT_SEARCHED.has(part)));
  } else {
    found = [];
    const walk = (dir: string, depth: number) => {
      if (depth > MAX_DEPTH || found.length > MAX_MANIFESTS) return;
      let entries;
      try {
        entries = readdirSync(join(workspaceRoot, dir), { withFileTypes: true }) as Dirent[];
      } catch {
        return; // Unreadable directories hold nothing we can report on.
      }
      for (const entry of entries) {
        const path = dir ? `${dir}/${entry.name}` : entry.name;
        if (entry.isDirectory() && !NOT_SEARCHED.has(entry.name)) walk(path, depth + 1);
        else if (entry.isFile() && entry.name === MANIFEST_FILE) found.push(path);
      }
    };
    walk('', 0);
  }
  // A manifest git lists may be a symbolic link or gone from the work tree: reading it says so.
  if (found.length > MAX_MANIFESTS) throw new UserError(`${workspaceRoot}: more than ${MAX_MANIFESTS} repro-manifest.json files: run the report on a smaller directory`);
  return found.sort(compareStrings);
}

const VERDICT: Record<ArtifactCheck['status'], ArtifactVerdict> = {
  match: 'reproduced',
  mismatch: 'mismatch',
  missing: 'missing',
  unexpected: 'unexpected',
};

/** What a reviewer needs to understand a verdict other than reproduced, one line each. */
function explain(check: ArtifactCheck, status: ArtifactVerdict, manifestRel: string): string[] {
  switch (status) {
    case 'reproduced':
      return [];
    case 'not-built':
      return [`not built yet: build the project, then check again (\`nx run <project>:reproduce\`)`];
    case 'missing':
      return [`${check.path} is missing while other artifacts of ${manifestRel} are built: rebuild the project`];
    case 'unexpected':
      return [`a file in the output directory that ${manifestRel} does not list: remove it, or record it with \`checksum --update\``];
    case 'mismatch': {
      const lines: string[] = [];
      for (const key of check.differs ?? []) {
        lines.push(`${key} differs: expected ${check.expected![key]}, got ${check.actual![key]}`);
      }
      for (const problem of check.imageProblems ?? []) lines.push(`image: ${problem}`);
      return lines;
    }
  }
}

/** Lines of `reprokit diff` shown under one artifact: enough to name what differs, not a whole listing. */
const MAX_DIFF_LINES = 40;

function diffExplanation(explanation: MismatchExplanation | undefined): string[] {
  if (!explanation) return [];
  if (!explanation.diff) return explanation.note ? [explanation.note] : [];
  const lines = loadRenderDiff().renderDiff(explanation.diff, '  ').trimEnd().split('\n');
  const shown = lines.length > MAX_DIFF_LINES ? [...lines.slice(0, MAX_DIFF_LINES), `  … ${lines.length - MAX_DIFF_LINES} more lines (reprokit verify explains in full)`] : lines;
  return [`what differs from the expected bytes (${explanation.expectedFrom}):`, ...shown];
}

// Loaded only when something mismatched: the format readers and the HTTP client.
const loadExplain = () => require('../explain/explain-mismatch') as typeof import('../explain/explain-mismatch');
const loadRenderDiff = () => require('../diff/render') as typeof import('../diff/render');

/** One entry per builder image (or host toolchain); an image's toolchain is kept where any artifact names it. */
function environmentKey(env: Environment): string {
  return env.type === 'container' ? `container\0${env.image}` : `host\0${env.toolchain}`;
}

/**
 * Checks every manifest of the workspace against what is on disk now (it builds nothing), scans the
 * workspace for pin findings, and puts it all in one report: what `reprokit report` renders as
 * HTML, Markdown and JSON.
 */
export async function collectReport(options: ReportOptions): Promise<ReprokitReport> {
  const root = resolve(options.workspaceRoot);
  const now = options.now ?? new Date();
  const git = gitState(root);
  const projects: ProjectReport[] = [];
  const environments = new Map<string, Environment>();
  const rel = (file: string) => toPosix(relative(root, file)) || '.';
  const rejected = new Set<string>();
  let trustedBuilders: string[] = [];

  for (const manifestRel of findManifests(root)) {
    const manifestPath = join(root, manifestRel);
    const projectRoot = posix.dirname(manifestRel);
    const project: ProjectReport = { name: projectRoot, root: projectRoot, manifest: manifestRel, artifacts: [], pins: { error: 0, warning: 0, note: 0, findings: [] } };
    projects.push(project);
    let result;
    let manifest;
    try {
      // Read once: the published locations below come from the same bytes that were verified.
      manifest = await readManifest(manifestPath);
      result = await verifyReadManifest(manifestPath, manifest);
    } catch (error) {
      if (!isUserError(error)) throw error;
      project.error = error.message;
      continue;
    }
    project.name = result.project;
    project.recorded = { commit: result.recorded.commit, commitDate: result.recorded.commitDate, recordedAt: result.recorded.recordedAt };
    const publishedByName = new Map(manifest.artifacts.map((artifact) => [artifact.name, (artifact as { published?: object[] }).published]));
    // Nothing of the manifest on disk: the project is not built, which is not the same as a lost file.
    const nothingBuilt = result.checks.every((check) => check.status === 'missing');
    let publication: PublishedResult | undefined;
    if (options.published && manifest.artifacts.some((artifact) => (artifact as { published?: object[] }).published?.length)) {
      publication = await checkPublished(manifestPath, { ...options.download });
    }
    // Each MISMATCH explained by `reprokit diff` against the expected bytes: a kept copy (a build that
    // matched keeps one), or with --published a published location serving them.
    const explanations = result.checks.some((check) => check.status === 'mismatch')
      ? await loadExplain().explainMismatches(result, { fetchPublished: options.published === true, timeoutMs: options.download?.timeoutMs, allowPrivateNetwork: options.download?.allowPrivateNetwork })
      : [];
    let attested: ThresholdResult | undefined;
    if (options.attestations) {
      attested = await verifyThreshold({ manifestPath, attestationsDir: options.attestations.dir, attestationsFrom: options.attestations.from, trustedKeysPath: options.attestations.trustedKeys, threshold: options.attestations.threshold });
      attested.rejected.forEach((line) => rejected.add(line));
      trustedBuilders = attested.trustedBuilders;
    }
    for (const check of result.checks) {
      const status: ArtifactVerdict = check.status === 'missing' && nothingBuilt ? 'not-built' : VERDICT[check.status];
      const artifact: ArtifactReport = {
        name: check.name,
        kind: check.kind,
        path: rel(check.file),
        status,
        ...(check.expected ? { expected: check.expected } : {}),
        ...(check.actual ? { actual: check.actual } : {}),
        ...(check.environment ? { environment: { ...check.environment } } : {}),
        ...(check.image ? { image: { id: check.image.id, manifestDigest: check.image.manifestDigest } } : {}),
        explanation: [...explain(check, status, manifestRel), ...diffExplanation(explanations.find((e) => e.artifact === check.name))],
      };
      const published = publishedByName.get(check.name);
      if (published?.length) artifact.published = published;
      const extra = extraResults(dirname(manifestPath), manifest.outputDir, check.name, root, manifest.artifacts.map((a) => a.name));
      if (extra.length) artifact.extra = extra;
      const variations = readVariationResult(dirname(manifestPath), manifest.outputDir, check.name, root);
      if (variations) artifact.variations = variations;
      const checks = publication?.checks.filter((c) => c.artifact === check.name) ?? [];
      if (checks.length) {
        artifact.publishedChecks = checks.map(({ location, type, status, reason, note }) => ({ location, type, status, ...(reason ? { reason } : {}), ...(note ? { note } : {}) }));
        for (const c of checks) if (c.status !== 'match') artifact.explanation.push(`published ${c.location}: ${c.status.toUpperCase()}${c.reason ? `: ${c.reason}` : ''}`);
      }
      const attestation = attested?.artifacts.find((a) => a.path === check.path);
      if (attested && attestation) {
        artifact.attestations = {
          threshold: attested.threshold,
          passedBy: attestation.passedBy,
          ok: attestation.ok,
          disagreements: attested.disagreements.filter((d) => d.artifact === check.path).map(({ builder, what }) => ({ builder, what })),
        };
        if (!attestation.ok) artifact.explanation.push(`attested PASSED by ${attestation.passedBy.length} of ${attested.trustedBuilders.length} trusted builders, threshold ${attested.threshold}`);
        for (const d of artifact.attestations.disagreements) artifact.explanation.push(`builder ${d.builder} disagrees: ${d.what}`);
      }
      if (check.environment) {
        const key = environmentKey(check.environment);
        environments.set(key, { ...check.environment, ...environments.get(key), ...(check.environment.toolchain ? { toolchain: check.environment.toolchain } : {}) });
      }
      project.artifacts.push(artifact);
    }
  }

  const report: ReprokitReport = {
    reportVersion: 1,
    reprokitVersion: REPROKIT_VERSION,
    generatedAt: isoSeconds(now),
    workspace: { commit: git.commit, commitDate: git.commitDate, dirty: git.dirty },
    ok: false,
    counts: countVerdicts(projects),
    environments: [...environments.values()].sort((a, b) => compareStrings(environmentKey(a), environmentKey(b))),
    paperTrail: '',
    projects,
  };
  if (options.attestations) report.attestations = { threshold: options.attestations.threshold, trustedBuilders, rejected: [...rejected].sort() };
  if (options.pins !== false) {
    try {
      await addPinFindings(report, root);
    } catch (error) {
      if (!isUserError(error)) throw error;
      report.pinsError = error.message;
    }
  }
  report.ok = projects.every(
    (project) => !project.error && project.artifacts.every((artifact) => artifact.status === 'reproduced' && (!artifact.attestations || artifact.attestations.ok) && (artifact.publishedChecks ?? []).every((c) => c.status === 'match')),
  );
  report.paperTrail = renderReportPaperTrail(report);
  return report;
}

export function countVerdicts(projects: ProjectReport[]): VerdictCounts {
  const counts: VerdictCounts = { reproduced: 0, mismatch: 0, missing: 0, 'not-built': 0, unexpected: 0 };
  for (const project of projects) for (const artifact of project.artifacts) counts[artifact.status]++;
  return counts;
}

/**
 * Scans the workspace once, with its own pin policy, and gives each finding to the project whose
 * directory holds the file (the deepest); findings elsewhere go to a project for the root.
 */
async function addPinFindings(report: ReprokitReport, root: string): Promise<void> {
  const [result] = await scanPins([root]);
  const byRoot = new Map(report.projects.map((project) => [project.root, project]));
  const roots = [...byRoot.keys()].filter((dir) => dir !== '.').sort((a, b) => b.length - a.length);
  for (const finding of result?.findings ?? []) {
    const owner = roots.find((dir) => finding.file.startsWith(dir + '/')) ?? '.';
    let project = byRoot.get(owner);
    if (!project) {
      project = { name: '(workspace root)', root: '.', artifacts: [], pins: { error: 0, warning: 0, note: 0, findings: [] } };
      byRoot.set('.', project);
      report.projects.push(project);
    }
    project.pins[finding.severity]++;
    project.pins.findings.push({ ...finding });
  }
}

/**
 * The block a reviewer writes down with pen and paper, for the whole workspace: the commit, its
 * date, the builder environments, and every recorded artifact's b2sum line (as the manifest records
 * it, relative to the workspace root, so that `b2sum -c` accepts it there) with its verdict.
 */
export function renderReportPaperTrail(report: ReprokitReport): string {
  const field = (label: string, value: string) => `${(label + ':').padEnd(13)}${value}`;
  const state = report.workspace.commit === 'none' ? 'not a git repository' : report.workspace.dirty ? 'uncommitted changes' : 'clean';
  const lines = [
    'reprokit workspace report',
    field('commit', `${report.workspace.commit} (${state})`),
    field('commit date', report.workspace.commitDate),
    field('checked at', report.generatedAt),
    field('reprokit', report.reprokitVersion),
  ];
  if (report.environments.length) {
    lines.push('built in:');
    for (const env of report.environments) lines.push(`  ${describeEnvironment(env as Parameters<typeof describeEnvironment>[0])}`);
  }
  const c = report.counts;
  lines.push(`verdicts:    ${c.reproduced} reproduced, ${c.mismatch} mismatch, ${c.missing} missing, ${c['not-built']} not built, ${c.unexpected} unexpected`, '');
  // b2sum lines (what `b2sum -c` checks from the workspace root) for what reproduced; the rest as
  // comments, which b2sum -c skips with a warning, so the block stays checkable as a whole.
  for (const project of report.projects) {
    for (const artifact of project.artifacts) {
      if (artifact.status === 'reproduced' && artifact.expected) lines.push(formatChecksumLine(artifact.expected.blake2b512, artifact.path));
    }
  }
  for (const project of report.projects) {
    if (project.error) lines.push(`# UNREADABLE ${project.manifest}: ${project.error}`);
    for (const artifact of project.artifacts) {
      if (artifact.status !== 'reproduced') lines.push(`# ${artifact.status.toUpperCase()} ${artifact.path}`);
    }
  }
  return lines.join('\n') + '\n';
}
