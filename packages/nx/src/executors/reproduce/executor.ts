import type { ExecutorContext } from '@nx/devkit';
import { reproduceReport } from '@reprokit/core';
import { manifestPathOf, projectPaths, recordCommand, runUserFacing } from '../../project';
import type { ReproduceExecutorSchema } from './schema';

/**
 * The build targets run first (this target's dependsOn), from the Nx cache or not; whatever they
 * left is hashed again here, so a poisoned or stale cache entry cannot pass as reproduced.
 */
export default async function reproduceExecutor(options: ReproduceExecutorSchema, context: ExecutorContext) {
  return runUserFacing(context, async () => {
    const project = projectPaths(context);
    const { ok, text } = await reproduceReport({
      manifestPath: manifestPathOf(project, options.manifest),
      workspaceRoot: context.root,
      projectRoot: project.root,
      howToCreate: recordCommand(project),
    });
    process.stdout.write(text);
    return ok;
  });
}
