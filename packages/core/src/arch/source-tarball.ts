import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { lastProjectCommit } from '../git';
import { hashFile } from '../hash';
import { UserError } from '../errors';

export interface SourceTarball {
  file: string;
  /** The commit archived: the last one that touched the project (the excluded files left out). */
  commit: string;
  /** Its committer date, every entry's mtime. */
  epoch: number;
  sha256: string;
  size: number;
}

/**
 * The project's sources as the PKGBUILD's local source: `git archive` of the project at the last
 * commit that touched it, compressed with `gzip -n`. The same commit gives the same bytes: git
 * stamps every entry with the commit's date (and the pax header with its ID), and -n keeps the
 * file name and time out of the gzip header. Settings a user's git config could change are fixed.
 * Uncommitted changes are not in it: a package is built from what git has.
 */
export async function createSourceTarball(projectDir: string, outFile: string, excluded: string[]): Promise<SourceTarball> {
  const { commit, epoch } = lastProjectCommit(projectDir, excluded);
  const pathspecs = ['.', ...excluded.map((path) => `:(exclude)${path}`)];
  // Run in the project directory, git archive takes only that directory, with paths relative to it.
  const script = 'git -c tar.umask=0022 -c core.autocrlf=false archive --format=tar "$@" | gzip -c -n > "$OUT"';
  const result = spawnSync('bash', ['-o', 'pipefail', '-c', script, 'archive', commit, '--', ...pathspecs], {
    cwd: projectDir,
    encoding: 'utf8',
    env: { ...process.env, OUT: outFile, LC_ALL: 'C', TZ: 'UTC' },
  });
  if (result.status !== 0) {
    throw new UserError(`${projectDir}: git archive ${commit.slice(0, 12)} failed: ${result.stderr.trim() || `exit ${result.status}`}`);
  }
  const { digests } = await hashFile(outFile, ['sha256']);
  return { file: outFile, commit, epoch, sha256: digests.sha256!, size: statSync(outFile).size };
}
