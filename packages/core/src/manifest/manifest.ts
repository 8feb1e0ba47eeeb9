import { dirname, join, relative, resolve } from 'node:path';
import { UserError } from '../errors';
import { hashFile, sha512Integrity } from '../hash';
import { checkRelativePath } from '../fs/contained-path';
import { readRegularFile } from '../fs/regular-file';
import { MAX_JSON_BYTES, parseJson, writeFileAtomic } from './json-file';
import { schemaChecker, SCHEMA_DIR } from './json-schema';
import type { Artifact, Environment, OciImage, PaperTrail, PublishedLocation, ReproManifest } from './manifest-types';

export type { Artifact, Environment, OciImage, PaperTrail, PublishedLocation, ReproManifest } from './manifest-types';

export const MANIFEST_FILE = 'repro-manifest.json';
export const MANIFEST_SCHEMA_PATH = join(SCHEMA_DIR, 'repro-manifest.schema.json');
export { describeSchemaError } from './json-schema';

const checkManifestSchema = schemaChecker<ReproManifest>('repro-manifest.schema.json');

/** Checks parsed JSON against the manifest schema and reprokit's own rules (unique names). */
export function parseManifest(data: unknown, path: string): ReproManifest {
  const manifest = checkManifestSchema(data, path);
  const seen = new Set<string>();
  checkRelativePath(manifest.outputDir, `${path}: $.outputDir`);
  if (resolve('/p', manifest.outputDir) === '/p') throw new UserError(`${path}: $.outputDir: must be a directory below the project, not the project itself`);
  manifest.artifacts.forEach((artifact, i) => {
    checkRelativePath(artifact.path, `${path}: $.artifacts[${i}].path`);
    if (artifact.image) checkRelativePath(artifact.image.layout, `${path}: $.artifacts[${i}].image.layout`);
    if (seen.has(artifact.name)) {
      throw new UserError(`${path}: $.artifacts[${i}].name: duplicate artifact name ${JSON.stringify(artifact.name)}`);
    }
    seen.add(artifact.name);
  });
  return manifest;
}

/** Reads and validates a manifest; a missing one says how to create it. */
export async function readManifest(path: string, howToCreate?: string): Promise<ReproManifest> {
  let text: string;
  try {
    text = readRegularFile(path, MAX_JSON_BYTES).toString('utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      const hint = howToCreate ? `: record it with \`${howToCreate}\`` : '';
      throw new UserError(`${path}: manifest not found${hint}`);
    }
    throw error;
  }
  return parseManifest(parseJson(text, path), path);
}

/**
 * The manifest as committed: keys in a fixed order, artifacts sorted by name, tools sorted, two-space
 * indentation and a final newline, so that a re-record changes only the lines that really changed.
 */
export function serializeManifest(manifest: ReproManifest): string {
  const ordered = {
    manifestVersion: manifest.manifestVersion,
    project: manifest.project,
    outputDir: manifest.outputDir,
    recorded: orderPaperTrail(manifest.recorded),
    artifacts: [...manifest.artifacts].sort((a, b) => compareStrings(a.name, b.name)).map(orderArtifact),
  };
  return JSON.stringify(ordered, null, 2) + '\n';
}

function orderPaperTrail(trail: PaperTrail): PaperTrail {
  const tools = Object.fromEntries(Object.entries(trail.tools).sort(([a], [b]) => compareStrings(a, b)));
  return {
    commit: trail.commit,
    commitDate: trail.commitDate,
    recordedAt: trail.recordedAt,
    reprokitVersion: trail.reprokitVersion,
    tools,
  };
}

function orderArtifact(artifact: Artifact): Artifact {
  return {
    name: artifact.name,
    kind: artifact.kind,
    path: artifact.path,
    size: artifact.size,
    blake2b512: artifact.blake2b512,
    sha256: artifact.sha256,
    ...(artifact.integrity ? { integrity: artifact.integrity } : {}),
    environment: orderEnvironment(artifact.environment),
    ...(artifact.image
      ? { image: { id: artifact.image.id, manifestDigest: artifact.image.manifestDigest, diffIds: artifact.image.diffIds, layout: artifact.image.layout } }
      : {}),
    ...(artifact.published?.length ? { published: artifact.published.map(orderLocation) } : {}),
  };
}

/** A publication's keys in a fixed order; the list keeps the order the user gave. */
function orderLocation(location: PublishedLocation): PublishedLocation {
  if ('url' in location) return { url: location.url };
  if ('oci' in location) return { oci: location.oci };
  if ('npm' in location) return location.registry === undefined ? { npm: location.npm } : { npm: location.npm, registry: location.registry };
  return { pacman: location.pacman, repo: location.repo };
}

function orderEnvironment(env: Environment): Environment {
  if (env.type === 'host') return { type: 'host', toolchain: env.toolchain };
  return env.toolchain === undefined
    ? { type: 'container', image: env.image }
    : { type: 'container', image: env.image, toolchain: env.toolchain };
}

/** Byte-wise order, independent of the machine's locale. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Validates, then writes the manifest atomically. An invalid manifest is never written. */
export function writeManifest(path: string, manifest: ReproManifest): void {
  const text = serializeManifest(manifest);
  parseManifest(JSON.parse(text), path);
  writeFileAtomic(path, text);
}

/** What a build target reports about one artifact it produced (see build-record.ts). */
export interface ProducedArtifact {
  name: string;
  kind: Artifact['kind'];
  /** Absolute path of the file. */
  file: string;
  environment: Environment;
  /** For an image: what it is, its layout directory as an absolute path. */
  image?: OciImage;
}

/** Hashes a produced artifact into its manifest entry, its path relative to the manifest. */
export async function recordArtifact(manifestPath: string, produced: ProducedArtifact): Promise<Artifact> {
  const { size, digests } = await hashFile(produced.file, ['blake2b512', 'sha256']);
  return {
    name: produced.name,
    kind: produced.kind,
    path: relativeToManifest(manifestPath, produced.file),
    size,
    blake2b512: digests.blake2b512!,
    sha256: digests.sha256!,
    // A package tarball is also known by its sha512, the registry's and lockfiles' name for it.
    ...(produced.kind === 'npm' ? { integrity: await sha512Integrity(produced.file) } : {}),
    environment: produced.environment,
    ...(produced.image ? { image: { ...produced.image, layout: relativeToManifest(manifestPath, produced.image.layout) } } : {}),
  };
}

function relativeToManifest(manifestPath: string, absolute: string): string {
  return relative(dirname(resolve(manifestPath)), absolute).split('\\').join('/');
}

/** True when two artifact lists record the same files with the same hashes and environments. */
export function sameArtifacts(a: Artifact[], b: Artifact[]): boolean {
  const text = (list: Artifact[]) => JSON.stringify([...list].sort((x, y) => compareStrings(x.name, y.name)).map(orderArtifact));
  return text(a) === text(b);
}
