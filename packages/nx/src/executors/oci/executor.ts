import type { ExecutorContext } from '@nx/devkit';
import { buildImageArtifact } from '@reprokit/core';
import { join, resolve } from 'node:path';
import { projectPaths, runUserFacing } from '../../project';
import { recordProvenance } from '../../provenance';
import { imageBuildInput } from './image-input';
import type { OciExecutorSchema } from './schema';

export default async function ociExecutor(options: OciExecutorSchema, context: ExecutorContext) {
  return runUserFacing(context, async () => {
    const project = projectPaths(context);
    const logPrefix = `[${project.name}:${context.targetName}] `;
    const input = imageBuildInput(project, options, context.root);
    const { sourceDateEpoch } = input;
    const outputDir = resolve(project.dir, options.outputDir ?? 'dist');
    const provenance = recordProvenance(context, project, options, { outputDir, envLocks: input.envLocks ?? [], logPrefix });
    const result = await buildImageArtifact({
      ...input,
      workDir: join(project.dir, 'target', 'reprokit-oci'),
      outputDir,
      push: options.push,
      validate: options.validate ?? true,
      logPrefix,
      log: provenance.log,
    });
    await provenance.finish([result.file]);
    process.stdout.write(`${logPrefix}built ${result.file}: image ${result.image.id}, manifest ${result.image.manifestDigest} (SOURCE_DATE_EPOCH=${sourceDateEpoch})\n`);
    if (result.pushed) process.stdout.write(`${logPrefix}pushed ${result.pushed}\n`);
    return true;
  });
}
