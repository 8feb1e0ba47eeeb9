import { lstatSync } from 'node:fs';
import { join } from 'node:path';
import { RECORD_DIR } from '../build/build-record';
import { isUserError, UserError } from '../errors';
import { resolveInside } from '../fs/contained-path';
import { readRegularText } from '../fs/regular-file';

/**
 * The files other reprokit commands leave beside an artifact's build record
 * (`<outputDir>/.reprokit/<artifact>.<label>.json`: provenance, variation builds, …), as the report
 * reads them: they come from the workspace (a build, or a cache restore of one), so they are read
 * only inside the project, never through a symbolic link, bounded.
 */

/** Result files are small JSON documents; anything bigger is named, not read. */
const MAX_RESULT_BYTES = 1 << 20;

/** The build records' directory of a manifest's output directory; undefined when it would lie outside the project (symlinks included). */
export function recordDirOf(manifestDir: string, outputDir: string): string | undefined {
  try {
    return resolveInside(manifestDir, join(outputDir, RECORD_DIR), `${manifestDir}: outputDir`);
  } catch (error) {
    if (isUserError(error)) return undefined;
    throw error;
  }
}

/** A result file's text; a symbolic link (it could name a file outside the project) is refused, not followed. */
export function readResultFile(file: string, what: string): string {
  if (lstatSync(file).isSymbolicLink()) throw new UserError(`${file}: a symbolic link`);
  return readRegularText(file, MAX_RESULT_BYTES, what);
}

/** Why a result file could not be read, without its path (the report names the file beside it). */
export function unreadableReason(error: unknown, file: string): string {
  return isUserError(error) ? error.message.replace(`${file}: `, '') : (error as Error).message;
}
