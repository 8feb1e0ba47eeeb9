import type { ExecutorContext } from '@nx/devkit';
import { keepMatchedArtifacts, keepRecordedArtifacts, recordManifest, renderVerifyReport, verifyManifest } from '@reprokit/core';
import { manifestPathOf, projectPaths, recordCommand, runUserFacing } from '../../project';
import type { ChecksumExecutorSchema } from './schema';

export default async function checksumExecutor(options: ChecksumExecutorSchema, context: ExecutorContext) {
  return runUserFacing(context, async () => {
    const project = projectPaths(context);
    const manifestPath = manifestPathOf(project, options.manifest);
    if (options.update) {
      const { manifest, changed } = await recordManifest({ manifestPath, project: project.name, workspaceRoot: context.root });
      // The recorded bytes are the expected ones: kept, so a later MISMATCH can be explained.
      keepRecordedArtifacts(manifestPath, manifest);
      const names = manifest.artifacts.map((artifact) => artifact.name).join(', ');
      process.stdout.write(changed ? `recorded ${names} in ${manifestPath}\n` : `${manifestPath} unchanged: ${names} hash as recorded\n`);
      return true;
    }
    const result = await verifyManifest(manifestPath, recordCommand(project));
    // What matched is kept; a MISMATCH is explained against the kept (or published) expected bytes.
    keepMatchedArtifacts(result);
    process.stdout.write((await renderVerifyReport(result)).text + '\n');
    return result.ok;
  });
}
