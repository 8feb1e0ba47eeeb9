import { dirname, resolve } from 'node:path';
import { readBuildRecords } from '../build/build-record';
import { gitState, isoSeconds } from '../git';
import { readManifest, recordArtifact, sameArtifacts, writeManifest, type ReproManifest } from './manifest';
import { REPROKIT_VERSION } from '../version';

export interface RecordManifestInput {
  manifestPath: string;
  project: string;
  /** Output directory relative to the manifest; default: the existing manifest's, else `dist`. */
  outputDir?: string;
  workspaceRoot: string;
  now?: Date;
}

export interface RecordManifestResult {
  manifest: ReproManifest;
  /** False when the artifacts hash as already recorded: the file is left untouched. */
  changed: boolean;
}

/**
 * Writes the manifest from the artifacts the build targets produced (their build records). When the
 * hashes are what the manifest already says, the file is not rewritten, so re-recording is a no-op
 * in git.
 */
export async function recordManifest(input: RecordManifestInput): Promise<RecordManifestResult> {
  const manifestDir = dirname(resolve(input.manifestPath));
  // An existing manifest that does not parse is simply replaced: recording is how it gets repaired.
  const previous = await readManifest(input.manifestPath).catch(() => undefined);
  const outputDir = input.outputDir ?? previous?.outputDir ?? 'dist';
  const records = await readBuildRecords(resolve(manifestDir, outputDir));
  const recorded = await Promise.all(
    records.map((record) =>
      recordArtifact(input.manifestPath, {
        name: record.name,
        kind: record.kind,
        file: record.absolutePath,
        environment: record.environment,
        image: record.image,
      }),
    ),
  );
  // Where an artifact was published is the maintainer's statement, not a build output: it survives
  // re-recording for every artifact that keeps its name.
  const published = new Map((previous?.artifacts ?? []).flatMap((artifact) => (artifact.published?.length ? [[artifact.name, artifact.published] as const] : [])));
  const artifacts = recorded.map((artifact) => (published.has(artifact.name) ? { ...artifact, published: published.get(artifact.name) } : artifact));
  if (previous && previous.outputDir === outputDir && sameArtifacts(previous.artifacts, artifacts)) {
    return { manifest: previous, changed: false };
  }
  const git = gitState(input.workspaceRoot);
  const manifest: ReproManifest = {
    manifestVersion: 1,
    project: input.project,
    outputDir,
    recorded: {
      commit: git.commit,
      commitDate: git.commitDate,
      recordedAt: isoSeconds(input.now ?? new Date()),
      reprokitVersion: REPROKIT_VERSION,
      tools: { node: process.version },
    },
    artifacts,
  };
  writeManifest(input.manifestPath, manifest);
  return { manifest, changed: true };
}

