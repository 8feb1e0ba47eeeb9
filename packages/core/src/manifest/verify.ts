import { lstatSync, readdirSync, readlinkSync, type Dirent, type Stats } from 'node:fs';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { RECORD_DIR } from '../build/build-record';
import { describeFsError, UserError } from '../errors';
import { resolveInside, resolveInsideWithStats } from '../fs/contained-path';
import { notRegularFile, type FileType } from '../fs/regular-file';
import { hashFile } from '../hash';
import { compareStrings, readManifest, type Artifact, type PaperTrail } from './manifest';
import { verifyOciImage } from '../oci/verify-image';

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

async function fingerprint(file: string, checkedRegular = false): Promise<Fingerprint> {
  const { size, digests } = await hashFile(file, ['blake2b512', 'sha256'], { noFollow: true, checkedRegular });
  return { size, blake2b512: digests.blake2b512!, sha256: digests.sha256! };
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

  /** The entry at `path`, or undefined when there is none; a filesystem that gives no types gets an lstat. */
  type(path: string, what: string): FileType | undefined {
    const dir = dirname(path);
    let entries = this.dirs.get(dir);
    if (!this.dirs.has(dir)) {
      try {
        entries = new Map(readdirSync(dir, { withFileTypes: true }).map((entry) => [entry.name, entry]));
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw describeFsError(error, `${what}: ${dir}`);
      }
      this.dirs.set(dir, entries);
    }
    const entry = entries?.get(basename(path));
    if (!entry) return undefined;
    const known = entry.isFile() || entry.isDirectory() || entry.isSymbolicLink() || entry.isFIFO() || entry.isCharacterDevice() || entry.isBlockDevice() || entry.isSocket();
    return known ? entry : lstatOrUndefined(path, what);
  }
}

async function checkArtifact(manifestPath: string, manifestDir: string, artifact: Artifact, index: number, realpaths: Map<string, string>, listing: DirectoryListing): Promise<ArtifactCheck> {
  const what = `${manifestPath}: $.artifacts[${index}].path`;
  // Inside the project, symlinks included: a manifest must not vouch for /etc/passwd or ../other/dist.
  const { path: file } = resolveInsideWithStats(manifestDir, artifact.path, what, { realpaths, callerChecksFinal: true });
  const stats = listing.type(file, what);
  if (stats?.isSymbolicLink()) throw new UserError(`${what}: ${JSON.stringify(artifact.path)} is a symlink; it must be a regular file inside ${manifestDir}`);
  const expected = { size: artifact.size, blake2b512: artifact.blake2b512, sha256: artifact.sha256 };
  const base = { name: artifact.name, kind: artifact.kind, path: artifact.path, file, expected, environment: artifact.environment, image: artifact.image };
  if (!stats) return { ...base, status: 'missing' };
  if (!stats.isFile()) throw new UserError(`${what}: ${notRegularFile(artifact.path, stats).message}`);
  const actual = await fingerprint(file, true);
  const differs = (['size', 'blake2b512', 'sha256'] as const).filter((key) => expected[key] !== actual[key]);
  const layout = artifact.image && resolveInside(manifestDir, artifact.image.layout, `${manifestPath}: $.artifacts[${index}].image.layout`);
  const imageProblems = artifact.image ? await verifyOciImage(layout!, artifact.image, file) : [];
  return {
    ...base,
    actual,
    status: differs.length || imageProblems.length ? 'mismatch' : 'match',
    ...(differs.length ? { differs } : {}),
    ...(imageProblems.length ? { imageProblems } : {}),
  };
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
 * followed or opened), the directories in `skip` excluded, in byte order. In the build records'
 * directory only what `isRecordFile` accepts is expected; anything else there is listed too.
 */
function listEntries(dir: string, skip: Set<string>, isRecordFile: ((extra: Extra) => boolean) | undefined): Extra[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch (error) {
    throw describeFsError(error, dir);
  }
  return entries
    .sort((a, b) => compareStrings(a.name, b.name))
    .flatMap((entry): Extra[] => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (skip.has(path)) return [];
        if (isRecordFile && entry.name === RECORD_DIR) return listEntries(path, skip, undefined).filter((extra) => !isRecordFile(extra));
        return listEntries(path, skip, undefined);
      }
      return [{ file: path, regular: entry.isFile(), symlink: entry.isSymbolicLink() }];
    });
}

/**
 * Compares what is on disk with the manifest: every recorded artifact is hashed (match, mismatch or
 * missing), and anything else in the manifest's output directory (a file, a symlink, a stray build
 * record) is reported as unexpected. Every path stays inside the project, symlinks included.
 */
export async function verifyManifest(manifestPath: string, howToCreate?: string): Promise<VerifyResult> {
  const manifest = await readManifest(manifestPath, howToCreate);
  const manifestDir = dirname(resolve(manifestPath));
  const outputDir = resolveInside(manifestDir, manifest.outputDir, `${manifestPath}: $.outputDir`);
  const checks: ArtifactCheck[] = [];
  // One after the other: most artifacts are small and hashed synchronously; a big one overlaps its
  // reads with hashing by itself.
  const realpaths = new Map<string, string>();
  const listing = new DirectoryListing();
  for (const [i, artifact] of manifest.artifacts.entries()) checks.push(await checkArtifact(manifestPath, manifestDir, artifact, i, realpaths, listing));
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
  for (const extra of outputStats ? listEntries(outputDir, layouts, isRecordFile) : []) {
    if (known.has(extra.file) || (extra.symlink && isAliasOfArtifact(extra.file, known))) continue;
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

const short = (hex: string | undefined) => (hex ? hex.slice(0, 16) + '…' : '-');

/**
 * The result as a table, then for every artifact that failed the full expected and actual values,
 * which is what a reviewer compares and copies.
 */
export function renderVerifyTable(result: VerifyResult): string {
  const rows = [
    ['ARTIFACT', 'KIND', 'STATUS', 'PATH', 'EXPECTED b2', 'ACTUAL b2'],
    ...result.checks.map((check) => [
      check.name,
      check.kind,
      check.status.toUpperCase(),
      check.path,
      short(check.expected?.blake2b512),
      short(check.actual?.blake2b512),
    ]),
  ];
  const widths = rows[0].map(() => 0);
  for (const row of rows) row.forEach((cell, column) => (widths[column] = Math.max(widths[column], cell.length)));
  const lines = rows.map((row) => row.map((cell, i) => cell.padEnd(widths[i])).join('  ').trimEnd());
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
