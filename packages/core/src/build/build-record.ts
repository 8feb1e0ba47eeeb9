import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, renameSync, rmSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describeFsError, UserError } from '../errors';
import { resolveInside } from '../fs/contained-path';
import { readJsonFile, writeFileAtomic } from '../manifest/json-file';
import type { Environment, OciImage, ProducedArtifact } from '../manifest/manifest';

/**
 * Build targets leave one record per artifact in `<outputDir>/.reprokit/<name>.json`: what the
 * artifact is and what produced it. The records travel with the outputs through the Nx cache, so
 * `checksum --update` can write the manifest's environment without re-running the build.
 */
export const RECORD_DIR = '.reprokit';

export interface BuildRecord {
  name: string;
  kind: ProducedArtifact['kind'];
  /** Path of the artifact, relative to the output directory. */
  file: string;
  environment: Environment;
  sourceDateEpoch: number;
  /** For an image: its digests, and its layout directory relative to the output directory. */
  image?: OciImage;
  /** For an image: the pinned images its Dockerfile names (FROM, COPY --from), for its provenance. */
  baseImages?: string[];
}

export function writeBuildRecord(outputDir: string, record: BuildRecord): void {
  const dir = join(outputDir, RECORD_DIR);
  mkdirSync(dir, { recursive: true });
  writeFileAtomic(join(dir, `${record.name}.json`), JSON.stringify(record, null, 2) + '\n');
}

/** The artifacts a project's build targets produced, read from their records. */
export async function readBuildRecords(outputDir: string): Promise<(BuildRecord & { absolutePath: string })[]> {
  const dir = join(outputDir, RECORD_DIR);
  let names: string[];
  try {
    // Provenance statements (`.intoto.json`) and their times lie beside the records, and so do
    // variation builds' results (`.vary.json`).
    names = readdirSync(dir).filter((name) => name.endsWith('.json') && !name.includes('.intoto.') && !name.endsWith('.vary.json')).sort();
  } catch {
    throw new UserError(`${outputDir}: no build records found: build the project's artifacts first`);
  }
  const records = [];
  for (const name of names) {
    const path = join(dir, name);
    const record = (await readJsonFile(path)) as BuildRecord;
    if (typeof record?.name !== 'string' || typeof record.file !== 'string' || typeof record.environment !== 'object') {
      throw new UserError(`${path}: not a reprokit build record: rebuild the project`);
    }
    // Records travel through caches: a file of ../../etc/passwd must not be hashed into a manifest.
    const absolutePath = resolveInside(outputDir, record.file, `${path}: $.file`);
    const image = record.image && { ...record.image, layout: resolveInside(outputDir, String(record.image.layout), `${path}: $.image.layout`) };
    records.push({ ...record, absolutePath, ...(image ? { image } : {}) });
  }
  return records;
}

/** Removes the build records of the artifacts whose file lies in `subdir` of the output directory (a target's previous outputs). */
export async function removeBuildRecords(outputDir: string, subdir: string): Promise<void> {
  const records = await readBuildRecords(outputDir).catch(() => []);
  for (const record of records) {
    if (!record.file.startsWith(`${subdir}/`)) continue;
    // The record and what lies beside it under the same name: provenance, its times, its build log.
    for (const suffix of ['.json', '.intoto.json', '.intoto.times.json', '.build.log']) rmSync(join(outputDir, RECORD_DIR, `${record.name}${suffix}`), { force: true });
  }
}

/**
 * Copies a built file into the output directory (mode 0755, mtime SOURCE_DATE_EPOCH, so whatever
 * packs it next sees the same file), atomically, and leaves its build record beside it.
 */
export function installArtifact(built: string, outputDir: string, record: BuildRecord, mode = 0o755): string {
  const file = join(outputDir, record.file);
  mkdirSync(outputDir, { recursive: true });
  const temp = `${file}.tmp`;
  if (!existsSync(built)) throw new UserError(`${built}: the build reported success but left no such file`);
  try {
    copyFileSync(built, temp);
    chmodSync(temp, mode);
    utimesSync(temp, record.sourceDateEpoch, record.sourceDateEpoch);
    renameSync(temp, file);
  } catch (error) {
    // A full disk (ENOSPC) or a read-only output directory: no partial artifact is left behind.
    rmSync(temp, { force: true });
    throw describeFsError(error, file);
  }
  writeBuildRecord(outputDir, record);
  return file;
}
