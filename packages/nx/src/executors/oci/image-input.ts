import { MANIFEST_FILE, sourceDateEpochFromGit, type OciBuildInput } from '@reprokit/core';
import { resolve } from 'node:path';
import type { ProjectPaths } from '../../project';
import type { OciExecutorSchema } from './schema';

/**
 * What an oci target's options make of the image build's input, shared by the oci executor and
 * vary, so that vary's control build is the target's build.
 */
export function imageBuildInput(project: ProjectPaths, options: OciExecutorSchema, workspaceRoot: string): Omit<OciBuildInput, 'workDir' | 'logPrefix' | 'log'> & { name: string; tag: string } {
  return {
    dockerfile: resolve(project.dir, options.dockerfile ?? 'Dockerfile'),
    context: resolve(project.dir, options.context ?? '.'),
    buildArgs: options.buildArgs,
    keepTemporaryFiles: options.keepTemporaryFiles,
    sourceDateEpoch: options.sourceDateEpoch ?? sourceDateEpochFromGit(project.dir, [MANIFEST_FILE]),
    envLocks: (options.envLocks ?? []).map((lock) => resolve(workspaceRoot, lock)),
    name: options.name ?? `${project.name}-image`,
    tag: options.tag ?? `${project.name}:latest`,
  };
}
