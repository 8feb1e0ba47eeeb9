import { existsSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { RECORD_DIR } from './build-record';
import { hashFile } from './hash';
import { compareStrings, readManifest, type Artifact, type PaperTrail } from './manifest';
import { verifyOciImage } from './oci/verify-image';

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

async function fingerprint(file: string): Promise<Fingerprint> {
  const { size, digests } = await hashFile(file, ['blake2b512', 'sha256']);
  return { size, blake2b512: digests.blake2b512!, sha256: digests.sha256! };
}

async function checkArtifact(manifestDir: string, artifact: Artifact): Promise<ArtifactCheck> {
  const file = resolve(manifestDir, artifact.path);
  const expected = { size: artifact.size, blake2b512: artifact.blake2b512, sha256: artifact.sha256 };
  const base = { name: artifact.name, kind: artifact.kind, path: artifact.path, file, expected, environment: artifact.environment, image: artifact.image };
  if (!existsSync(file)) return { ...base, status: 'missing' };
  const actual = await fingerprint(file);
  const differs = (['size', 'blake2b512', 'sha256'] as const).filter((key) => expected[key] !== actual[key]);
  const imageProblems = artifact.image ? await verifyOciImage(manifestDir, artifact.image, file) : [];
  return {
    ...base,
    actual,
    status: differs.length || imageProblems.length ? 'mismatch' : 'match',
    ...(differs.length ? { differs } : {}),
    ...(imageProblems.length ? { imageProblems } : {}),
  };
}

/** Regular files below `dir`, build records and the directories in `skip` excluded, in byte order. */
function listFiles(dir: string, skip: Set<string>): string[] {
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
  return entries
    .sort((a, b) => compareStrings(a.name, b.name))
    .flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return entry.name === RECORD_DIR || skip.has(path) ? [] : listFiles(path, skip);
      return entry.isFile() ? [path] : [];
    });
}

/**
 * Compares what is on disk with the manifest: every recorded artifact is hashed (match, mismatch or
 * missing), and any other file in the manifest's output directory is reported as unexpected.
 */
export async function verifyManifest(manifestPath: string, howToCreate?: string): Promise<VerifyResult> {
  const manifest = await readManifest(manifestPath, howToCreate);
  const manifestDir = dirname(resolve(manifestPath));
  const checks = await Promise.all(manifest.artifacts.map((artifact) => checkArtifact(manifestDir, artifact)));
  const known = new Set(checks.map((check) => check.file));
  // An image's OCI layout is checked as part of the image, not file by file.
  const layouts = new Set(manifest.artifacts.flatMap((artifact) => (artifact.image ? [resolve(manifestDir, artifact.image.layout)] : [])));
  for (const file of listFiles(resolve(manifestDir, manifest.outputDir), layouts)) {
    if (known.has(file)) continue;
    const path = relative(manifestDir, file).split('\\').join('/');
    checks.push({ name: path, kind: 'unknown', path, file, status: 'unexpected', actual: await fingerprint(file) });
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
  const widths = rows[0].map((_, column) => Math.max(...rows.map((row) => row[column].length)));
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
      lines.push(`${check.name}: unexpected file in the output directory, not in the manifest`);
    }
  }
  const count = (status: ArtifactStatus) => result.checks.filter((check) => check.status === status).length;
  lines.push(
    `${result.manifestPath}: ${count('match')} match, ${count('mismatch')} mismatch, ${count('missing')} missing, ${count('unexpected')} unexpected`,
  );
  return lines.join('\n');
}
