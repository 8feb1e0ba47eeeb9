import { DEFAULT_BUILDDIR, DEFAULT_STARTDIR, type MakepkgBuild } from '@reprokit/core';
import { join, relative, resolve } from 'node:path';
import type { ProjectPaths } from '../../project';
import type { ArchExecutorSchema } from './schema';

/**
 * What an arch target's options make of buildArchPackages' input, shared by the arch executor and
 * vary, so that vary's control build is the target's build.
 */
export function makepkgInput(project: ProjectPaths, options: ArchExecutorSchema, workspaceRoot: string): Omit<MakepkgBuild, 'environment' | 'image' | 'outputDir' | 'workDir' | 'logPrefix' | 'log'> {
  return {
    projectDir: project.dir,
    pkgbuildLabel: relative(process.cwd(), join(project.dir, 'PKGBUILD')) || 'PKGBUILD',
    envLock: options.envLock && resolve(workspaceRoot, options.envLock),
    sourceDateEpoch: options.sourceDateEpoch,
    sourceTarball: options.sourceTarball ?? 'src.tgz',
    builddir: options.builddir ?? DEFAULT_BUILDDIR,
    startdir: options.startdir ?? DEFAULT_STARTDIR,
    repo: options.repo,
  };
}
