import type { ExecutorContext } from '@nx/devkit';
import { reproduceReport, runThreshold, UserError } from '@reprokit/core';
import { resolve } from 'node:path';
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
    const { attestations, trustedKeys, threshold } = options;
    if (attestations === undefined && trustedKeys === undefined && threshold === undefined) return ok;
    if (!attestations || !trustedKeys || !threshold) throw new UserError('attestations, trustedKeys and threshold go together: name all three');
    const attested = await runThreshold(manifestPathOf(project, options.manifest), {
      attestations: resolve(context.root, attestations),
      trustedKeys: resolve(context.root, trustedKeys),
      threshold,
    });
    return ok && attested === 0;
  });
}
