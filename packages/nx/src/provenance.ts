import type { ExecutorContext } from '@nx/devkit';
import { writeProvenance } from '@reprokit/core';
import { relative } from 'node:path';
import type { ProjectPaths } from './project';

/** Options that say where an output goes or what happens after the build, not what it is. */
const NOT_OUTPUT_OPTIONS = new Set(['outputDir', 'push', 'verify', 'validate']);

export interface ProvenanceRecorder {
  /** The log to give the build: printed as before, and kept for the provenance's byproducts. */
  log: (line: string) => void;
  /** Writes the SLSA provenance of the artifacts the build reports (absolute paths). */
  finish: (files: string[]) => Promise<void>;
}

/**
 * Starts recording a build target's run for its provenance (core's writeProvenance). Lines
 * reprokit prints about preparing the builder (`env: …`, `pulling …`) are not part of the recorded
 * log: they describe what this machine's docker already had, not the build.
 */
export function recordProvenance(
  context: ExecutorContext,
  project: ProjectPaths,
  options: object,
  run: { outputDir: string; envLocks: (string | undefined)[]; logPrefix: string },
): ProvenanceRecorder {
  const lines: string[] = [];
  const startedOn = new Date();
  return {
    log: (line) => {
      process.stderr.write(line + '\n');
      const text = line.startsWith(run.logPrefix) ? line.slice(run.logPrefix.length) : line;
      if (!/^(env: |pulling )/.test(text)) lines.push(text);
    },
    finish: async (files) => {
      const written = await writeProvenance({
        workspaceRoot: project.workspaceRoot,
        projectDir: project.dir,
        project: project.name,
        target: context.targetName!,
        options: Object.fromEntries(Object.entries(options).filter(([key]) => !NOT_OUTPUT_OPTIONS.has(key))),
        outputDir: run.outputDir,
        files,
        envLocks: run.envLocks.filter((lock): lock is string => !!lock),
        logLines: lines,
        startedOn,
        finishedOn: new Date(),
      });
      for (const path of written) process.stdout.write(`${run.logPrefix}provenance ${relative(process.cwd(), path)}\n`);
    },
  };
}
