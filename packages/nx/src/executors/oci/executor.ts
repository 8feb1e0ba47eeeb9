import type { ExecutorContext } from '@nx/devkit';
import { buildImageArtifact, MANIFEST_FILE, sourceDateEpochFromGit } from '@reprokit/core';
import { join, resolve } from 'node:path';
import { projectPaths, runUserFacing } from '../../project';
import { recordProvenance } from '../../provenance';
import type { OciExecutorSchema } from './schema';

export default async function ociExecutor(options: OciExecutorSchema, context: ExecutorContext) {
  return runUserFacing(context, async () => {
    const project = projectPaths(context);
    const logPrefix = `[${project.name}:${context.targetName}] `;
    const sourceDateEpoch = options.sourceDateEpoch ?? sourceDateEpochFromGit(project.dir, [MANIFEST_FILE]);
    const outputDir = resolve(project.dir, options.outputDir ?? 'dist');
    const envLocks = (options.envLocks ?? []).map((lock) => resolve(context.root, lock));
    const provenance = recordProvenance(context, project, options, { outputDir, envLocks, logPrefix });
    const result = await buildImageArtifact({
      dockerfile: resolve(project.dir, options.dockerfile ?? 'Dockerfile'),
      context: resolve(project.dir, options.context ?? '.'),
      buildArgs: options.buildArgs,
      keepTemporaryFiles: options.keepTemporaryFiles,
      sourceDateEpoch,
      workDir: join(project.dir, 'target', 'reprokit-oci'),
      envLocks,
      name: options.name ?? `${project.name}-image`,
      outputDir,
      tag: options.tag ?? `${project.name}:latest`,
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
