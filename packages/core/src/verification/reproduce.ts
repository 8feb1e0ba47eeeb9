import { relative } from 'node:path';
import { keepMatchedArtifacts } from '../explain/keep-matches';
import { renderPaperTrail } from './paper-trail';
import { verifyManifest } from './verify';
import { renderVerifyReport } from './verify-report';

export interface ReproduceInput {
  manifestPath: string;
  workspaceRoot: string;
  /** The project's directory relative to the workspace. */
  projectRoot: string;
  /** The command that records a missing manifest, named in the error. */
  howToCreate?: string;
}

/**
 * What `reproduce` prints: after the builds, every artifact hashed against the committed manifest
 * (the table when something failed, each MISMATCH explained by `reprokit diff`), then the paper trail. Shared by the executor and the CLI.
 */
export async function reproduceReport(input: ReproduceInput): Promise<{ ok: boolean; text: string }> {
  const result = await verifyManifest(input.manifestPath, input.howToCreate);
  // What matched is kept, so that a later MISMATCH can be diffed against it (explain/).
  keepMatchedArtifacts(result);
  const shown = { ...result, manifestPath: relative(process.cwd(), result.manifestPath) || result.manifestPath };
  const trail = renderPaperTrail({ result: shown, workspaceRoot: input.workspaceRoot, projectRoot: input.projectRoot });
  if (result.ok) return { ok: true, text: trail + '\n' };
  const { text } = await renderVerifyReport(shown);
  return { ok: false, text: text + '\n\n' + trail + '\n' };
}
