import { lstatSync, readdirSync, readlinkSync, type Dirent, type Stats } from 'node:fs';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { RECORD_DIR } from '../build/build-record';
import { describeFsError, UserError } from '../errors';
import { resolveInside, resolveInsideWithStats } from '../fs/contained-path';
import { notRegularFile, type FileType } from '../fs/regular-file';
import { hashFile, hashSmallFile, sha512Integrity, type FileDigest } from '../hash';
import { compareStrings, readManifest, type Artifact, type ReproManifest } from '../manifest/manifest';
import type { ArtifactCheck, ArtifactStatus, Fingerprint, VerifyResult } from '../manifest/verify-result';

// Loaded for the first image: a manifest of plain files needs none of the OCI and docker code.
const loadVerifyImage = () => require('../oci/layout/verify-image') as typeof import('../oci/layout/verify-image');

export type { ArtifactCheck, ArtifactStatus, Fingerprint, VerifyResult } from '../manifest/verify-result';

const ALGORITHMS = ['blake2b512', 'sha256'] as const;

function toFingerprint({ size, digests }: FileDigest): Fingerprint {
  return { size, blake2b512: digests.blake2b512!, sha256: digests.sha256! };
}

// Listed artifacts were just typed by the directory listing; anything else is checked before open.
const LISTED = { noFollow: true, checkedRegular: true };
const UNLISTED = { noFollow: true, checkedRegular: false };

/** Small files synchronously (10,000 one-byte artifacts await nothing), big ones streamed. */
function fingerprint(file: string, checkedRegular = false): Fingerprint | Promise<Fingerprint> {
  const options = checkedRegular ? LISTED : UNLISTED;
  const small = hashSmallFile(file, ALGORITHMS, options);
  return small ? toFingerprint(small) : hashFile(file, ALGORITHMS, options).then(toFingerprint);
}

/** What lies at `file`, without following a symlink; undefined when nothing does. */
function lstatOrUndefined(file: string, what: string): Stats | undefined {
  try {
    return lstatSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw describeFsError(error, `${what}: ${file}`);
  }
}

/**
 * The entries of each directory, read once: 10,000 artifacts in 100 directories cost 100 readdirs
 * instead of 10,000 lstats (and as many Stats objects). A Dirent's type is lstat's: never followed.
 */
class DirectoryListing {
  private readonly dirs = new Map<string, Map<string, Dirent> | undefined>();

  /** The entries of `dir` by name; undefined when it does not exist, unless it must. */
  private read(dir: string, what: string, mustExist = false): Map<string, Dirent> | undefined {
    if (this.dirs.has(dir) && (this.dirs.get(dir) || !mustExist)) return this.dirs.get(dir);
    let entries: Map<string, Dirent> | undefined;
    try {
      entries = new Map(readdirSync(dir, { withFileTypes: true }).map((entry) => [entry.name, entry]));
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (mustExist || (code !== 'ENOENT' && code !== 'ENOTDIR')) throw describeFsError(error, `${what}: ${dir}`);
    }
    this.dirs.set(dir, entries);
    return entries;
  }

  /** The entry `name` of `dir`, or undefined when there is none; a filesystem that gives no types gets an lstat. */
  type(dir: string, name: string, what: string): FileType | undefined {
    const entry = this.read(dir, what)?.get(name);
    if (!entry) return undefined;
    const known = entry.isFile() || entry.isDirectory() || entry.isSymbolicLink() || entry.isFIFO() || entry.isCharacterDevice() || entry.isBlockDevice() || entry.isSocket();
    return known ? entry : lstatOrUndefined(join(dir, name), what);
  }

  /** The entries of a directory that exists (read again only if the artifacts' checks did not read it). */
  entries(dir: string): Dirent[] {
    return [...this.read(dir, 'output directory', true)!.values()];
  }
}

/**
 * Artifact paths resolved inside the project, the containment check (realpath of the parent) made
 * once per directory: the artifacts of one directory share it, and `path.resolve` of 10,000 paths
 * cost more than hashing them.
 */
class ArtifactPaths {
  /** A manifest directory → its checked absolute path. */
  private readonly dirs = new Map<string, string>();
  private readonly realpaths = new Map<string, string>();

  constructor(private readonly manifestDir: string) {}

  /** The absolute path of `path` (split into its directory and name), checked to lie inside the project. */
  resolve(path: string, what: string): { dir: string; name: string; file: string } {
    const slash = path.lastIndexOf('/');
    const name = path.slice(slash + 1);
    const relativeDir = slash < 0 ? '' : path.slice(0, slash);
    const plainName = name !== '' && name !== '.' && name !== '..';
    const cached = plainName ? this.dirs.get(relativeDir) : undefined;
    if (cached !== undefined) return { dir: cached, name, file: cached.endsWith(sep) ? cached + name : cached + sep + name };
    // Inside the project, symlinks included: a manifest must not vouch for /etc/passwd or ../other/dist.
    const { path: file } = resolveInsideWithStats(this.manifestDir, path, what, { realpaths: this.realpaths, callerChecksFinal: true });
    const dir = dirname(file);
    if (plainName) this.dirs.set(relativeDir, dir);
    return { dir, name: basename(file), file };
  }
}

/** A check of one artifact: done when its file is small, a promise for a big file or an image. */
function checkArtifact(manifestPath: string, manifestDir: string, artifact: Artifact, index: number, paths: ArtifactPaths, listing: DirectoryListing): ArtifactCheck | Promise<ArtifactCheck> {
  const what = `${manifestPath}: $.artifacts[${index}].path`;
  const { dir, name, file } = paths.resolve(artifact.path, what);
  const stats = listing.type(dir, name, what);
  if (stats?.isSymbolicLink()) throw new UserError(`${what}: ${JSON.stringify(artifact.path)} is a symlink; it must be a regular file inside ${manifestDir}`);
  const check: ArtifactCheck = {
    name: artifact.name,
    kind: artifact.kind,
    path: artifact.path,
    file,
    status: 'missing',
    expected: { size: artifact.size, blake2b512: artifact.blake2b512, sha256: artifact.sha256 },
    environment: artifact.environment,
    image: artifact.image,
    ...(artifact.integrity ? { integrity: artifact.integrity } : {}),
  };
  if (!stats) return check;
  if (!stats.isFile()) throw new UserError(`${what}: ${notRegularFile(artifact.path, stats).message}`);
  const actual = fingerprint(file, true);
  if (actual instanceof Promise || artifact.image || artifact.integrity) {
    return (async () => {
      const layout = artifact.image && resolveInside(manifestDir, artifact.image.layout, `${manifestPath}: $.artifacts[${index}].image.layout`);
      const problems = artifact.image ? await loadVerifyImage().verifyOciImage(layout!, artifact.image, file) : [];
      // A package's integrity is what registries and lockfiles name it by: a manifest whose other
      // digests match but whose integrity does not vouches for bytes nobody will be served.
      if (artifact.integrity) {
        const integrity = await sha512Integrity(file);
        if (integrity !== artifact.integrity) problems.push(`integrity is ${integrity}, the manifest says ${artifact.integrity}`);
      }
      return compared(check, await actual, problems);
    })();
  }
  return compared(check, actual, []);
}

function compared(check: ArtifactCheck, actual: Fingerprint, imageProblems: string[]): ArtifactCheck {
  const expected = check.expected!;
  const same = expected.size === actual.size && expected.blake2b512 === actual.blake2b512 && expected.sha256 === actual.sha256;
  // Equal values, one object: the fresh digests die young instead of being kept 10,000 times over
  // (the garbage collector's copying was a sixth of verify's time in tools/bench/verify).
  check.actual = same ? expected : actual;
  const differs = same ? undefined : (['size', 'blake2b512', 'sha256'] as const).filter((key) => expected[key] !== actual[key]);
  check.status = differs || imageProblems.length ? 'mismatch' : 'match';
  if (differs) check.differs = differs;
  if (imageProblems.length) check.imageProblems = imageProblems;
  return check;
}

/** An entry of the output directory that is not what the manifest lists. */
interface Extra {
  file: string;
  /** Only regular files are hashed: a FIFO or a device is never opened, a symlink never followed. */
  regular: boolean;
  symlink: boolean;
}

/**
 * A symlink beside an artifact naming it (pacman's `asdf.db -> asdf.db.tar.gz`) adds nothing the
 * manifest does not vouch for: its target is read, not followed, and must be a listed artifact in
 * the same directory. Any other symlink is unexpected.
 */
function isAliasOfArtifact(link: string, known: Set<string>): boolean {
  let target: string;
  try {
    target = readlinkSync(link);
  } catch {
    return false;
  }
  return !target.includes('/') && target !== '..' && target !== '.' && known.has(join(dirname(link), target));
}

/**
 * Everything below `dir` that is not a directory (symlinks, FIFOs and devices included, none
 * followed or opened) and not a listed artifact (`known`), the directories in `skip` excluded, in
 * byte order. In the build records' directory only what `isRecordFile` accepts is expected;
 * anything else there is listed too.
 */
function listUnexpected(dir: string, listing: DirectoryListing, known: Set<string>, skip: Set<string>, isRecordFile: ((extra: Extra) => boolean) | undefined): Extra[] {
  const extras: Extra[] = [];
  for (const entry of listing.entries(dir).sort((a, b) => compareStrings(a.name, b.name))) {
    const path = dir + sep + entry.name;
    if (entry.isDirectory()) {
      if (skip.has(path)) continue;
      const below = listUnexpected(path, listing, known, skip, undefined);
      extras.push(...(isRecordFile && entry.name === RECORD_DIR ? below.filter((extra) => !isRecordFile(extra)) : below));
    } else if (!known.has(path)) {
      extras.push({ file: path, regular: entry.isFile(), symlink: entry.isSymbolicLink() });
    }
  }
  return extras;
}

/**
 * Compares what is on disk with the manifest: every recorded artifact is hashed (match, mismatch or
 * missing), and anything else in the manifest's output directory (a file, a symlink, a stray build
 * record) is reported as unexpected. Every path stays inside the project, symlinks included.
 */
export async function verifyManifest(manifestPath: string, howToCreate?: string): Promise<VerifyResult> {
  return verifyReadManifest(manifestPath, await readManifest(manifestPath, howToCreate));
}

/** verifyManifest of a manifest already read (and validated) from `manifestPath`, for callers that use it too. */
export async function verifyReadManifest(manifestPath: string, manifest: ReproManifest): Promise<VerifyResult> {
  const manifestDir = dirname(resolve(manifestPath));
  const outputDir = resolveInside(manifestDir, manifest.outputDir, `${manifestPath}: $.outputDir`);
  const checks: ArtifactCheck[] = [];
  // One after the other: most artifacts are small and hashed synchronously; a big one overlaps its
  // reads with hashing by itself.
  const paths = new ArtifactPaths(manifestDir);
  const listing = new DirectoryListing();
  for (const [i, artifact] of manifest.artifacts.entries()) {
    const check = checkArtifact(manifestPath, manifestDir, artifact, i, paths, listing);
    checks.push(check instanceof Promise ? await check : check);
  }
  const known = new Set(checks.map((check) => check.file));
  // An image's OCI layout is checked as part of the image (unexpected blobs included), not file by file.
  const layouts = new Set(manifest.artifacts.flatMap((artifact) => (artifact.image ? [resolve(manifestDir, artifact.image.layout)] : [])));
  // Beside each artifact's record (`<name>.json`) a build and other reprokit commands leave files of
  // their own: `<name>.build.log`, and results `<name>.<label>.json` (provenance `.intoto.json`, its
  // times, a signed envelope, variation builds, ...). Only those, as regular files directly in the
  // records' directory, are expected; anything else there (a stray file, a symlink, a FIFO) is not.
  const recordDir = join(outputDir, RECORD_DIR);
  const names = manifest.artifacts.map((artifact) => artifact.name);
  const isRecordFile = (extra: Extra) => {
    if (!extra.regular || dirname(extra.file) !== recordDir) return false;
    const file = basename(extra.file);
    return names.some((name) => file.startsWith(`${name}.`) && /^(json|build\.log|[a-z0-9][a-z0-9.-]*\.json)$/.test(file.slice(name.length + 1)));
  };
  const outputStats = lstatOrUndefined(outputDir, `${manifestPath}: $.outputDir`);
  if (outputStats && !outputStats.isDirectory()) throw new UserError(`${manifestPath}: $.outputDir: ${manifest.outputDir} is not a directory`);
  for (const extra of outputStats ? listUnexpected(outputDir, listing, known, layouts, isRecordFile) : []) {
    if (extra.symlink && isAliasOfArtifact(extra.file, known)) continue;
    const path = relative(manifestDir, extra.file).split('\\').join('/');
    checks.push({ name: path, kind: 'unknown', path, file: extra.file, status: 'unexpected', ...(extra.regular ? { actual: await fingerprint(extra.file) } : {}) });
  }
  return {
    manifestPath,
    project: manifest.project,
    recorded: manifest.recorded,
    checks,
    ok: checks.every((check) => check.status === 'match'),
  };
}

const STATUS_WORD: Record<ArtifactStatus, string> = { match: 'MATCH', mismatch: 'MISMATCH', missing: 'MISSING', unexpected: 'UNEXPECTED' };
const short = (hex: string | undefined) => (hex ? hex.slice(0, 16) + '…' : '-');

/**
 * The result as a table, then for every artifact that failed the full expected and actual values,
 * which is what a reviewer compares and copies.
 */
export function renderVerifyTable(result: VerifyResult): string {
  // Column widths first, then each line concatenated: no array of cells per row (10,000 rows in
  // tools/bench/verify cost more than hashing their files when built with map/join).
  const header = ['ARTIFACT', 'KIND', 'STATUS', 'PATH', 'EXPECTED b2', 'ACTUAL b2'];
  const widths = header.map((cell) => cell.length);
  for (const check of result.checks) {
    widths[0] = Math.max(widths[0], check.name.length);
    widths[1] = Math.max(widths[1], check.kind.length);
    widths[2] = Math.max(widths[2], check.status.length);
    widths[3] = Math.max(widths[3], check.path.length);
    // A shortened hash is 16 hex digits and an ellipsis; none is '-'.
    if (check.expected) widths[4] = 17;
  }
  // The last column is never empty ('-' at least), so no line has trailing blanks to trim.
  const line = (name: string, kind: string, status: string, path: string, expected: string, actual: string) =>
    name.padEnd(widths[0]) + '  ' + kind.padEnd(widths[1]) + '  ' + status.padEnd(widths[2]) + '  ' + path.padEnd(widths[3]) + '  ' + expected.padEnd(widths[4]) + '  ' + actual;
  const lines = [line(header[0], header[1], header[2], header[3], header[4], header[5])];
  for (const check of result.checks) {
    lines.push(line(check.name, check.kind, STATUS_WORD[check.status], check.path, short(check.expected?.blake2b512), short(check.actual?.blake2b512)));
  }
  for (const check of result.checks) {
    if (check.status === 'mismatch') {
      for (const problem of check.imageProblems ?? []) lines.push(`${check.name}: image: ${problem}`);
      if (check.differs) lines.push(`${check.name}: differs in ${check.differs.join(', ')}`);
      for (const key of check.differs ?? []) {
        lines.push(`  expected ${key.padEnd(10)} ${check.expected![key]}`);
        lines.push(`  actual   ${key.padEnd(10)} ${check.actual![key]}`);
      }
    } else if (check.status === 'missing') {
      lines.push(`${check.name}: missing ${check.path}: build it first`);
    } else if (check.status === 'unexpected') {
      lines.push(`${check.name}: unexpected ${check.actual ? 'file' : 'entry (not a regular file)'} in the output directory, not in the manifest`);
    }
  }
  const count = (status: ArtifactStatus) => result.checks.filter((check) => check.status === status).length;
  lines.push(
    `${result.manifestPath}: ${count('match')} match, ${count('mismatch')} mismatch, ${count('missing')} missing, ${count('unexpected')} unexpected`,
  );
  return lines.join('\n');
}
