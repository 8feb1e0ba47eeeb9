import type { ExecutorContext } from '@nx/devkit';
import { buildRustBinaryOnHost, sourceDateEpochFromGit } from '@reprokit/core';
import { resolve } from 'node:path';
import { projectPaths, runUserFacing } from '../../project';
import type { ElfExecutorSchema } from './schema';

export default async function elfExecutor(options: ElfExecutorSchema, context: ExecutorContext) {
  return runUserFacing(context, async () => {
    const project = projectPaths(context);
    const outputDir = options.outputDir ?? 'dist';
    const manifest = 'repro-manifest.json';
    const sourceDateEpoch = options.sourceDateEpoch ?? sourceDateEpochFromGit(project.dir, [manifest]);
    const result = await buildRustBinaryOnHost({
      projectDir: project.dir,
      workspaceRoot: project.workspaceRoot,
      binary: options.binary,
      toolchain: { tool: options.toolchain.tool ?? 'rustc', version: options.toolchain.version },
      outputDir: resolve(project.dir, outputDir),
      sourceDateEpoch,
      cargoArgs: options.cargoArgs,
      logPrefix: `[${project.name}:${context.targetName}] `,
    });
    process.stdout.write(`[${project.name}:${context.targetName}] built ${result.file} with ${result.toolchain} (SOURCE_DATE_EPOCH=${sourceDateEpoch})\n`);
    return true;
  });
}
