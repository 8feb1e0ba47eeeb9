import type { ExecutorContext } from '@nx/devkit';
import { defaultNodeBuilder, MANIFEST_FILE, packNpmInContainer, sourceDateEpochFromGit } from '@reprokit/core';
import { resolve } from 'node:path';
import { projectPaths, runUserFacing } from '../../project';
import { recordProvenance } from '../../provenance';
import type { NpmExecutorSchema } from './schema';

export default async function npmExecutor(options: NpmExecutorSchema, context: ExecutorContext) {
  return runUserFacing(context, async () => {
    const project = projectPaths(context);
    const logPrefix = `[${project.name}:${context.targetName}] `;
    // No image given: reprokit's node-builder, from the lock @reprokit/core ships.
    const builder = options.image ? { image: options.image, envLock: options.envLock && resolve(context.root, options.envLock) } : defaultNodeBuilder();
    const outputDir = resolve(project.dir, options.outputDir ?? 'dist');
    const sourceDateEpoch = options.sourceDateEpoch ?? sourceDateEpochFromGit(project.dir, [MANIFEST_FILE]);
    const provenance = recordProvenance(context, project, options, { outputDir, envLocks: [builder.envLock], logPrefix });
    const result = await packNpmInContainer({
      projectDir: project.dir,
      workspaceRoot: context.root,
      image: builder.image,
      envLock: builder.envLock,
      outputDir,
      sourceDateEpoch,
      logPrefix,
      log: provenance.log,
    });
    await provenance.finish([result.file]);
    process.stdout.write(`${logPrefix}packed ${result.file}: ${result.integrity} (${result.toolchain}, ${builder.image})\n`);
    return true;
  });
}
