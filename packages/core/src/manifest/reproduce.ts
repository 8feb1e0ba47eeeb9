import { relative } from 'node:path';
import { renderPaperTrail } from './paper-trail';
import { renderVerifyTable, verifyManifest } from './verify';

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
 * (the table when something failed), then the paper trail. Shared by the executor and the CLI.
 */
export async function reproduceReport(input: ReproduceInput): Promise<{ ok: boolean; text: string }> {
  const result = await verifyManifest(input.manifestPath, input.howToCreate);
  const shown = { ...result, manifestPath: relative(process.cwd(), result.manifestPath) || result.manifestPath };
  const trail = renderPaperTrail({ result: shown, workspaceRoot: input.workspaceRoot, projectRoot: input.projectRoot });
  return { ok: result.ok, text: (result.ok ? '' : renderVerifyTable(shown) + '\n\n') + trail + '\n' };
}
