import type { ExecutorContext } from '@nx/devkit';
import { recordManifest, renderVerifyTable, verifyManifest } from '@reprokit/core';
import { manifestPathOf, projectPaths, recordCommand, runUserFacing } from '../../project';
import type { ChecksumExecutorSchema } from './schema';

export default async function checksumExecutor(options: ChecksumExecutorSchema, context: ExecutorContext) {
  return runUserFacing(context, async () => {
    const project = projectPaths(context);
    const manifestPath = manifestPathOf(project, options.manifest);
    if (options.update) {
      const { manifest, changed } = await recordManifest({ manifestPath, project: project.name, workspaceRoot: context.root });
      const names = manifest.artifacts.map((artifact) => artifact.name).join(', ');
      process.stdout.write(changed ? `recorded ${names} in ${manifestPath}\n` : `${manifestPath} unchanged: ${names} hash as recorded\n`);
      return true;
    }
    const result = await verifyManifest(manifestPath, recordCommand(project));
    process.stdout.write(renderVerifyTable(result) + '\n');
    return result.ok;
  });
}
