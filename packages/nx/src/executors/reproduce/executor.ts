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
    const { attestations, attestationsFrom, trustedKeys, threshold } = options;
    if (attestations === undefined && attestationsFrom === undefined && trustedKeys === undefined && threshold === undefined) return ok;
    if (attestations !== undefined && attestationsFrom !== undefined) throw new UserError('attestations and attestationsFrom: give one (a directory, or a registry host:port[/path])');
    if (!(attestations || attestationsFrom) || !trustedKeys || !threshold) throw new UserError('attestations (or attestationsFrom), trustedKeys and threshold go together: name all three');
    const attested = await runThreshold(manifestPathOf(project, options.manifest), {
      attestations: attestations === undefined ? undefined : resolve(context.root, attestations),
      attestationsFrom,
      trustedKeys: resolve(context.root, trustedKeys),
      threshold,
    });
    return ok && attested === 0;
  });
}
