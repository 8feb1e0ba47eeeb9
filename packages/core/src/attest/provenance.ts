import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { readBuildEnvLock } from '../env/build-env';
import { readBuildRecords, RECORD_DIR, type BuildRecord } from '../build/build-record';
import { parsePinnedImageRef } from '../docker/docker';
import { gitState, isoSeconds, lastProjectCommit } from '../git';
import { MANIFEST_FILE } from '../manifest/manifest';
import { hashFile, sha512Integrity } from '../hash';
import { writeFileAtomic } from '../manifest/json-file';
import { REPROKIT_VERSION } from '../version';
import { serializeStatement, STATEMENT_TYPE, type ResourceDescriptor, type Statement } from './statement';

/**
 * SLSA Provenance v1 (slsa.dev/spec/v1.0/provenance) for what a reprokit build target produced,
 * written beside its build record as `<outputDir>/.reprokit/<artifact>.intoto.json`: an unsigned
 * in-toto statement (`reprokit attest` signs it). It holds nothing that varies between two runs of
 * the same build: no times (those go to `<artifact>.intoto.times.json`, unsigned), no invocation
 * ID, no absolute paths; the build log is recorded by the digest of its normalized text.
 */
export const PROVENANCE_PREDICATE_TYPE = 'https://slsa.dev/provenance/v1';
/** Versioned: a change to what externalParameters or resolvedDependencies mean is a new version. See docs/provenance.md. */
export const REPROKIT_BUILD_TYPE = 'https://reprokit.invalid/build-types/nx-target/v1';
export const DEFAULT_BUILDER_ID = 'urn:reprokit:builder:local';
/** Who built: set per builder (a rebuilder's URL or name), recorded as runDetails.builder.id. */
export const BUILDER_ID_ENV = 'REPROKIT_BUILDER_ID';

export const STATEMENT_SUFFIX = '.intoto.json';
export const TIMES_SUFFIX = '.intoto.times.json';
export const BUILD_LOG_SUFFIX = '.build.log';

/** Lockfiles a project directory may hold; each one found is a resolved dependency. */
const LOCKFILES = ['Cargo.lock', 'package-lock.json', 'npm-shrinkwrap.json', 'yarn.lock', 'pnpm-lock.yaml', 'go.sum', 'Gemfile.lock', 'poetry.lock', 'uv.lock', 'composer.lock', 'flake.lock'];

/**
 * The log with what differs between two runs of one build masked: elapsed times (cargo's
 * `Finished … in 0.41s`) and clock dates (makepkg's `(Wed Nov 25 13:41:40 2026)`, ISO timestamps).
 * Everything else is kept as printed, so the digest still pins what the tools said.
 */
export function normalizeBuildLog(lines: string[]): string {
  return lines
    .map((line) =>
      line
        .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})?/g, '<time>')
        .replace(/\b(Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) +\d{1,2} \d{2}:\d{2}:\d{2}( [A-Z]{2,5})? \d{4}/g, '<time>')
        .replace(/\b\d{1,2}:\d{2}:\d{2}\b/g, '<time>')
        .replace(/\b\d+(\.\d+)?(ns|µs|us|ms|s|m)\b/g, '<duration>'),
    )
    .map((line) => line + '\n')
    .join('');
}

export interface ProvenanceRun {
  workspaceRoot: string;
  projectDir: string;
  project: string;
  target: string;
  /** The target's options that change the output (not where it goes, not whether it is pushed). */
  options: Record<string, unknown>;
  outputDir: string;
  /** The artifacts this run produced (absolute paths); their build records must be in the output directory. */
  files: string[];
  /** Environment locks the target named (envLock, envLocks), absolute: matched to images by image ID. */
  envLocks: string[];
  /** The lines the build printed (without the Nx prefix). */
  logLines: string[];
  startedOn: Date;
  finishedOn: Date;
  builderId?: string;
}

const posix = (path: string) => path.split('\\').join('/');

async function sha256Of(file: string): Promise<string> {
  return (await hashFile(file, ['sha256'])).digests.sha256!;
}

/** `name@sha256:…` as a resource; its environment lock, when one of the target's produces it. */
function imageDescriptor(ref: string, role: string, locks: Map<string, { path: string; sha256: string }>): ResourceDescriptor {
  const { name, digest } = parsePinnedImageRef(ref);
  const lock = locks.get(digest);
  return {
    name,
    uri: `docker-image:${ref}`,
    digest: { sha256: digest.slice('sha256:'.length) },
    annotations: { role, ...(lock ? { envLock: lock.path, envLockSha256: lock.sha256 } : {}) },
  };
}

export interface ProvenanceContext {
  resolvedDependencies: ResourceDescriptor[];
  byproducts: ResourceDescriptor[];
}

/** What every artifact of one run shares: the source commit, lockfiles, environment locks, the log. */
async function runContext(run: ProvenanceRun): Promise<{ common: ResourceDescriptor[]; locks: Map<string, { path: string; sha256: string }>; log: string }> {
  // The last commit that touched the project (as SOURCE_DATE_EPOCH and the Nx inputs use), not
  // HEAD: a commit elsewhere in the repository changes neither the build nor its statement.
  const commit = lastProjectCommit(run.projectDir, [MANIFEST_FILE]).commit;
  const git = gitState(run.projectDir, ['.']);
  const common: ResourceDescriptor[] = [
    {
      name: 'source',
      digest: { gitCommit: commit },
      // dirty: the work tree had uncommitted changes in the project, so the commit alone does not describe the sources.
      annotations: { path: posix(relative(run.workspaceRoot, run.projectDir)) || '.', ...(git.dirty ? { dirty: true } : {}) },
    },
  ];
  for (const name of LOCKFILES) {
    const file = join(run.projectDir, name);
    if (existsSync(file)) common.push({ name: posix(relative(run.workspaceRoot, file)), digest: { sha256: await sha256Of(file) }, annotations: { role: 'lockfile' } });
  }
  const locks = new Map<string, { path: string; sha256: string }>();
  for (const lockPath of run.envLocks) {
    const lock = await readBuildEnvLock(lockPath);
    const entry = { path: posix(relative(run.workspaceRoot, lockPath)), sha256: await sha256Of(lockPath) };
    if (lock.imageId) locks.set(lock.imageId, entry);
    common.push({ name: entry.path, digest: { sha256: entry.sha256 }, annotations: { role: 'environment-lock', ...(lock.imageId ? { imageId: lock.imageId } : {}) } });
  }
  return { common, locks, log: normalizeBuildLog(run.logLines) };
}

/** The provenance statement of one artifact (pure apart from reading the files it hashes). */
export async function provenanceStatement(
  run: ProvenanceRun,
  record: BuildRecord & { absolutePath: string },
  context: { common: ResourceDescriptor[]; locks: Map<string, { path: string; sha256: string }>; logDigest: string; logName: string },
): Promise<Statement> {
  const digests = (await hashFile(record.absolutePath, ['sha256'])).digests;
  // A package tarball's sha512 too: what npm's own provenance and publish attestations name it by.
  const sha512 = record.kind === 'npm' ? Buffer.from((await sha512Integrity(record.absolutePath)).slice('sha512-'.length), 'base64').toString('hex') : undefined;
  const images: ResourceDescriptor[] = [];
  if (record.environment.type === 'container') images.push(imageDescriptor(record.environment.image, 'builder-image', context.locks));
  for (const base of record.baseImages ?? []) if (base !== (record.environment as { image?: string }).image) images.push(imageDescriptor(base, 'base-image', context.locks));
  return {
    _type: STATEMENT_TYPE,
    subject: [{ name: posix(relative(run.workspaceRoot, record.absolutePath)), digest: { sha256: digests.sha256!, ...(sha512 ? { sha512 } : {}) } }],
    predicateType: PROVENANCE_PREDICATE_TYPE,
    predicate: {
      buildDefinition: {
        buildType: REPROKIT_BUILD_TYPE,
        externalParameters: { project: run.project, target: run.target, options: run.options },
        internalParameters: {
          artifact: record.name,
          kind: record.kind,
          sourceDateEpoch: record.sourceDateEpoch,
          ...(record.environment.type === 'host' ? { toolchain: record.environment.toolchain } : {}),
          ...(record.environment.type === 'container' && record.environment.toolchain ? { toolchain: record.environment.toolchain } : {}),
          ...(record.image ? { image: { id: record.image.id, manifestDigest: record.image.manifestDigest, diffIds: record.image.diffIds } } : {}),
        },
        resolvedDependencies: [...context.common, ...images],
      },
      runDetails: {
        builder: { id: run.builderId ?? process.env[BUILDER_ID_ENV] ?? DEFAULT_BUILDER_ID, version: { reprokit: REPROKIT_VERSION } },
        metadata: {},
        byproducts: [{ name: context.logName, digest: { sha256: context.logDigest }, mediaType: 'text/plain; charset=utf-8' }],
      },
    },
  };
}

/**
 * Writes, for every artifact of the run, its statement, its build log (normalized, the digest's
 * preimage) and the unsigned times. Atomic writes; returns the statement paths.
 */
export async function writeProvenance(run: ProvenanceRun): Promise<string[]> {
  const wanted = new Set(run.files.map((file) => resolve(file)));
  const records = (await readBuildRecords(run.outputDir)).filter((record) => wanted.has(record.absolutePath));
  const { common, locks, log } = await runContext(run);
  const logDigest = createHash('sha256').update(log).digest('hex');
  const dir = join(run.outputDir, RECORD_DIR);
  mkdirSync(dir, { recursive: true });
  const written: string[] = [];
  for (const record of records) {
    const logName = `${record.name}${BUILD_LOG_SUFFIX}`;
    const statement = await provenanceStatement(run, record, { common, locks, logDigest, logName });
    writeFileAtomic(join(dir, logName), log);
    const path = join(dir, `${record.name}${STATEMENT_SUFFIX}`);
    writeFileAtomic(path, serializeStatement(statement).toString('utf8'));
    writeFileAtomic(join(dir, `${record.name}${TIMES_SUFFIX}`), JSON.stringify({ startedOn: isoSeconds(run.startedOn), finishedOn: isoSeconds(run.finishedOn) }, null, 2) + '\n');
    written.push(path);
  }
  return written;
}
