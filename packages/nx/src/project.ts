import type { ExecutorContext } from '@nx/devkit';
import { formatUserError, isUserError, MANIFEST_FILE } from '@reprokit/core';
import { join, relative, resolve } from 'node:path';

export interface ProjectPaths {
  name: string;
  /** Project directory relative to the workspace root, as Nx names it. */
  root: string;
  /** Absolute project directory. */
  dir: string;
  workspaceRoot: string;
}

export function projectPaths(context: ExecutorContext): ProjectPaths {
  const name = context.projectName!;
  const root = context.projectsConfigurations.projects[name].root;
  return { name, root, dir: resolve(context.root, root), workspaceRoot: context.root };
}

/** The manifest's path, relative to where the user runs nx, so messages show a short path. */
export function manifestPathOf(project: ProjectPaths, manifest = MANIFEST_FILE): string {
  return relative(process.cwd(), join(project.dir, manifest)) || '.';
}

/** How a user creates a missing manifest, named in the error that reports it. */
export function recordCommand(project: ProjectPaths): string {
  return `npx nx run ${project.name}:checksum --update`;
}

/**
 * Runs an executor body. A user error (bad manifest, wrong toolchain, failed build) becomes one
 * line on stderr and a failed task; anything else is a bug in reprokit and keeps its stack trace.
 */
export async function runUserFacing(context: ExecutorContext, body: () => Promise<boolean>): Promise<{ success: boolean }> {
  try {
    return { success: await body() };
  } catch (error) {
    if (!isUserError(error)) throw error;
    // Escaped as the CLI escapes it (an input's ESC or newline never reaches the terminal raw).
    process.stderr.write(formatUserError(`[${context.projectName}:${context.targetName}] error: `, error.message));
    return { success: false };
  }
}
