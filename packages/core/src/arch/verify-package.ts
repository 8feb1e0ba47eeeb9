import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { ENV_LOCK_FILE, findEnvLockForImage } from '../env/build-env';
import { parsePinnedImageRef } from '../docker/docker';
import { UserError } from '../errors';
import { hashFile } from '../hash';
import { MANIFEST_FILE, readManifest, type Artifact } from '../manifest/manifest';
import { buildArchPackages, checkBuildPaths, DEFAULT_STARTDIR } from './makepkg-build';
import { readPackageArchive, type PackageArchive, } from './package-archive';
import type { TarEntry } from '../archive/tar-reader';
import { differingFields } from './pkginfo';
import { explainDifference } from '../diff/diff';
import { renderDiff } from '../diff/render';
import type { DiffResult } from '../diff/types';

export interface FieldDifference {
  key: string;
  /** In the package being verified. */
  expected: unknown;
  /** In the rebuild. */
  actual: unknown;
}

export interface EntryDifference {
  path: string;
  /** `missing` from the rebuild, `extra` in it, or the entry's fields that differ. */
  status: 'missing' | 'extra' | 'differs';
  fields: FieldDifference[];
}

export interface ArchVerifyResult {
  packageFile: string;
  pkgname: string;
  pkgver: string;
  image: string;
  builddate: number;
  builddir: string;
  sha256: { expected: string; actual: string };
  reproducible: boolean;
  entries: EntryDifference[];
  pkginfo: FieldDifference[];
  buildinfo: FieldDifference[];
  /** Where the package contradicts itself (e.g. .BUILDINFO's builddate is not .PKGINFO's). */
  inconsistencies: string[];
  /** NOT REPRODUCIBLE: `reprokit diff PACKAGE REBUILD`, down into the entries' formats (ELF sections, …). */
  diff?: DiffResult;
}

/** What a package is rebuilt from and in. */
export interface RebuildSource {
  /** The PKGBUILD's directory. */
  projectDir: string;
  /** The builder image, `name@sha256:<digest>`. */
  image: string;
  /** The source tarball's name, as the PKGBUILD's source=() names it. */
  sourceTarball: string;
}

export interface ArchVerifyInput {
  packageFile: string;
  /** Default: what the manifest that records the package says (see `manifestPath`). */
  rebuild?: RebuildSource;
  /** Default: the nearest repro-manifest.json above the package that records it. */
  manifestPath?: string;
  /** Default: a lock among the workspace's and reprokit's environments that produces the recorded image. */
  envLock?: string;
  /** Scratch directory for the rebuild. Default: `<project>/target/reprokit-arch-verify`. */
  workDir?: string;
  logPrefix?: string;
  log?: (line: string) => void;
}

/** The manifest that records this package: named, or the nearest one above the package that has an arch artifact. */
async function findRecording(packageFile: string, pkgname: string, manifestPath?: string): Promise<{ manifestPath: string; artifact: Artifact; source?: Artifact }> {
  const candidates: string[] = [];
  if (manifestPath) candidates.push(manifestPath);
  else for (let dir = dirname(resolve(packageFile)); ; dir = dirname(dir)) {
    if (existsSync(join(dir, MANIFEST_FILE))) candidates.push(join(dir, MANIFEST_FILE));
    if (dirname(dir) === dir) break;
  }
  for (const candidate of candidates) {
    const manifest = await readManifest(candidate);
    const arch = manifest.artifacts.filter((artifact) => artifact.kind === 'arch');
    const artifact = arch.find((a) => basename(a.path) === basename(packageFile)) ?? arch.find((a) => a.name === `${pkgname}.pkg`);
    if (artifact) return { manifestPath: candidate, artifact, source: manifest.artifacts.find((a) => a.kind === 'file' && a.name.endsWith('.source')) };
  }
  throw new UserError(
    `${packageFile}: no repro-manifest.json ${manifestPath ? `(${manifestPath})` : 'above it'} records an arch package ${pkgname}: name the manifest with --manifest`,
  );
}

function entryFields(entry: TarEntry): Record<string, unknown> {
  return {
    type: entry.type,
    content: entry.sha256,
    size: entry.size,
    mode: entry.mode.toString(8).padStart(4, '0'),
    owner: `${entry.uid}:${entry.gid} (${entry.uname || '-'}:${entry.gname || '-'})`,
    mtime: entry.mtime,
    link: entry.link,
  };
}

/** The entries that differ between a package and its rebuild, in the package's order. */
export function compareEntries(expected: TarEntry[], actual: TarEntry[]): EntryDifference[] {
  const rebuilt = new Map(actual.map((entry) => [entry.path, entry]));
  const differences: EntryDifference[] = [];
  for (const entry of expected) {
    const other = rebuilt.get(entry.path);
    rebuilt.delete(entry.path);
    if (!other) {
      differences.push({ path: entry.path, status: 'missing', fields: [] });
      continue;
    }
    const fields = differingFields(entryFields(entry), entryFields(other));
    if (fields.length) differences.push({ path: entry.path, status: 'differs', fields });
  }
  for (const path of rebuilt.keys()) differences.push({ path, status: 'extra', fields: [] });
  return differences;
}

/** What a package says of itself in two places that must agree. */
export function packageInconsistencies(archive: PackageArchive): string[] {
  const { pkginfo, buildinfo } = archive;
  const found: string[] = [];
  for (const key of ['pkgname', 'pkgver', 'builddate', 'packager'] as const) {
    if (pkginfo[key] !== buildinfo[key]) found.push(`.BUILDINFO ${key} = ${buildinfo[key]} but .PKGINFO ${key} = ${pkginfo[key]}`);
  }
  const stale = archive.entries.filter((entry) => entry.mtime !== buildinfo.builddate);
  if (stale.length) found.push(`.BUILDINFO builddate = ${buildinfo.builddate} but ${stale.length} of ${archive.entries.length} entries have another mtime (e.g. ${stale[0].path}: ${stale[0].mtime})`);
  return found;
}

/**
 * makerepropkg's check, with the environment reprokit pinned: reads the package's .BUILDINFO,
 * rebuilds the project's PKGBUILD with the same builddate (SOURCE_DATE_EPOCH), BUILDDIR and start
 * directory in the builder image the manifest records, and compares the two packages: bytes, then
 * every entry (content, mode, owner, mtime) and the metadata fields.
 */
export async function verifyArchPackage(input: ArchVerifyInput): Promise<ArchVerifyResult> {
  const given = readPackageArchive(input.packageFile);
  const { pkgname, pkgver, builddate, builddir } = given.buildinfo;
  const { projectDir, image, sourceTarball } = input.rebuild ?? (await recordedRebuild(input.packageFile, given, input.manifestPath));
  const workspaceRoot = findWorkspaceRoot(projectDir);
  const envLock = input.envLock ?? findEnvLockForImage(parsePinnedImageRef(image).digest, envLocks(workspaceRoot));
  const startdir = given.buildinfo.startdir ?? DEFAULT_STARTDIR;
  checkBuildPaths({ builddir, startdir }, `${basename(input.packageFile)}:.BUILDINFO`);
  const workDir = input.workDir ?? join(projectDir, 'target', 'reprokit-arch-verify');
  const rebuild = await buildArchPackages({
    projectDir,
    pkgbuildLabel: relative(process.cwd(), join(projectDir, 'PKGBUILD')) || 'PKGBUILD',
    environment: 'container',
    image,
    envLock,
    sourceDateEpoch: builddate,
    sourceTarball,
    builddir,
    startdir,
    outputDir: join(workDir, 'out'),
    workDir,
    logPrefix: input.logPrefix ?? '[arch verify] ',
    log: input.log,
  });
  const rebuilt = rebuild.packages.find((p) => p.archive.pkginfo.pkgname === pkgname);
  if (!rebuilt) throw new UserError(`${relative(process.cwd(), join(projectDir, 'PKGBUILD'))}: the rebuild made no package ${pkgname}`);
  const [expected, actual] = await Promise.all([hashFile(input.packageFile, ['sha256']), hashFile(rebuilt.file, ['sha256'])]);
  const sha256 = { expected: expected.digests.sha256!, actual: actual.digests.sha256! };
  const reproducible = sha256.expected === sha256.actual;
  return {
    packageFile: input.packageFile,
    pkgname,
    pkgver,
    image,
    builddate,
    builddir,
    sha256,
    reproducible,
    entries: reproducible ? [] : compareEntries(given.entries, rebuilt.archive.entries),
    pkginfo: reproducible ? [] : differingFields(given.pkginfo, rebuilt.archive.pkginfo),
    buildinfo: reproducible ? [] : differingFields(given.buildinfo, rebuilt.archive.buildinfo),
    inconsistencies: packageInconsistencies(given),
    ...(reproducible ? {} : { diff: explainDifference(input.packageFile, rebuilt.file, ['package', 'rebuild']) }),
  };
}

/** The rebuild the manifest that records the package describes: its project, image and source tarball. */
async function recordedRebuild(packageFile: string, given: PackageArchive, manifestPath?: string): Promise<RebuildSource> {
  const recording = await findRecording(packageFile, given.buildinfo.pkgname, manifestPath);
  const { environment, name } = recording.artifact;
  if (environment.type !== 'container') {
    throw new UserError(`${recording.manifestPath}: ${name} was recorded as a host build (${environment.toolchain}): arch verify rebuilds only in a recorded container image`);
  }
  return {
    projectDir: dirname(resolve(recording.manifestPath)),
    image: environment.image,
    sourceTarball: recording.source ? sourceTarballName(recording.source, given) : 'src.tgz',
  };
}

/** The source tarball's name in the PKGBUILD, from the recorded file `<pkgbase>-<pkgver>-<name>`. */
function sourceTarballName(source: Artifact, given: PackageArchive): string {
  const prefix = `${given.buildinfo.pkgbase}-${given.buildinfo.pkgver}-`;
  const file = basename(source.path);
  return file.startsWith(prefix) ? file.slice(prefix.length) : 'src.tgz';
}

function findWorkspaceRoot(projectDir: string): string {
  for (let dir = projectDir; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json')) || existsSync(join(dir, '.git'))) return dir;
    if (dirname(dir) === dir) return projectDir;
  }
}

/** The environment locks there are: the workspace's (`tools/envs/*`, `packages/core/envs/*`) and reprokit's own. */
function envLocks(workspaceRoot: string): string[] {
  const roots = [join(workspaceRoot, 'tools', 'envs'), join(workspaceRoot, 'packages', 'core', 'envs'), join(__dirname, '..', '..', 'envs')];
  return roots.flatMap((root) => {
    try {
      return readdirSync(root).map((name) => join(root, name, ENV_LOCK_FILE));
    } catch {
      return [];
    }
  });
}

const show = (value: unknown) => (value === undefined ? '(none)' : Array.isArray(value) ? value.join(' ') : String(value));

/** A field's change; for lists (e.g. installed), only the elements removed and added. */
function describeChange(field: FieldDifference): string {
  if (Array.isArray(field.expected) && Array.isArray(field.actual)) {
    const before = new Set(field.expected.map(String));
    const after = new Set(field.actual.map(String));
    const removed = [...before].filter((v) => !after.has(v));
    const added = [...after].filter((v) => !before.has(v));
    return [removed.length ? `only in the package: ${removed.join(' ')}` : '', added.length ? `only in the rebuild: ${added.join(' ')}` : ''].filter(Boolean).join('; ') || 'order differs';
  }
  return `${show(field.expected)} -> ${show(field.actual)}`;
}

/** The verdict and, when the rebuild differs, what differs: the reviewer's report. */
export function renderArchVerify(result: ArchVerifyResult): string {
  const lines = [
    `${result.reproducible ? 'REPRODUCIBLE' : 'NOT REPRODUCIBLE'} ${result.pkgname} ${result.pkgver}`,
    `  package: ${result.packageFile} sha256:${result.sha256.expected}`,
    `  rebuilt: sha256:${result.sha256.actual}`,
    `  in ${result.image}, builddate ${result.builddate}, builddir ${result.builddir}`,
  ];
  if (result.inconsistencies.length) {
    lines.push('the package contradicts itself:');
    for (const text of result.inconsistencies) lines.push(`  ${text}`);
  }
  if (result.entries.length) {
    lines.push('package entries that differ (package -> rebuild):');
    for (const entry of result.entries) {
      if (entry.status !== 'differs') lines.push(`  ${entry.path}: ${entry.status === 'missing' ? 'not in the rebuild' : 'only in the rebuild'}`);
      else lines.push(`  ${entry.path}: ${entry.fields.map((f) => `${f.key} ${describeChange(f)}`).join(', ')}`);
    }
  }
  for (const [name, fields] of [['.PKGINFO', result.pkginfo], ['.BUILDINFO', result.buildinfo]] as const) {
    if (!fields.length) continue;
    lines.push(`${name} fields that differ (package -> rebuild):`);
    for (const field of fields) lines.push(`  ${field.key}: ${describeChange(field)}`);
  }
  if (result.diff && !result.diff.same) lines.push('what differs (reprokit diff package rebuild):', renderDiff(result.diff, '  ').trimEnd());
  return lines.join('\n') + '\n';
}
