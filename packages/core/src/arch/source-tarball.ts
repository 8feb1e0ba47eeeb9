import { spawnSync } from 'node:child_process';
import { closeSync, openSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { UserError } from '../errors';
import { lastProjectCommit } from '../git';
import { hashFile } from '../hash';
import { TarWriter } from '../archive/tar-writer';
import { readTarEntries } from '../archive/tar-reader';

export interface SourceTarball {
  file: string;
  /** The commit archived: the last one that touched the project (the excluded files left out). */
  commit: string;
  /** Its committer date: SOURCE_DATE_EPOCH unless the build fixes another. */
  epoch: number;
  sha256: string;
  size: number;
}

function run(command: string, args: string[], cwd: string, what: string): Buffer {
  const result = spawnSync(command, args, { cwd, env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' }, maxBuffer: 1 << 30 });
  if (result.error || result.status !== 0) {
    throw new UserError(`${cwd}: ${what} failed: ${result.error?.message ?? (result.stderr.toString().trim() || `exit ${result.status}`)}`);
  }
  return result.stdout;
}

/**
 * The project's sources as the PKGBUILD's local source: `git archive` of the project at the last
 * commit that touched it, re-written with every mtime set to `mtime` (the build's
 * SOURCE_DATE_EPOCH, by default that commit's date) and without git's pax header naming the commit,
 * then `gzip -n` (no name, no time in the header). So the bytes depend on the committed content
 * and the date only, not on the history: a rebase or a fresh copy of the files gives the same
 * tarball. Uncommitted changes are not in it: a package is built from what git has.
 */
export async function createSourceTarball(projectDir: string, outFile: string, excluded: string[], mtime?: number): Promise<SourceTarball> {
  const { commit, epoch } = lastProjectCommit(projectDir, excluded);
  const pathspecs = ['.', ...excluded.map((path) => `:(exclude)${path}`)];
  // Run in the project directory, git archive takes only that directory, with paths relative to it.
  // Settings a user's git config could change are fixed.
  const archived = run('git', ['-c', 'core.autocrlf=false', 'archive', '--format=tar', commit, '--', ...pathspecs], projectDir, `git archive ${commit.slice(0, 12)}`);
  const { entries, contents } = readTarEntries(archived, `git archive ${commit.slice(0, 12)}`);
  const tarFile = `${outFile}.tar`;
  const fd = openSync(tarFile, 'w', 0o644);
  try {
    const tar = new TarWriter(fd, mtime ?? epoch);
    for (const entry of entries) {
      // git records only whether a file is executable: modes are 0644/0755, owners root.
      const meta = { mode: entry.type === 'directory' || entry.mode & 0o100 ? 0o755 : 0o644, uid: 0, gid: 0 };
      if (entry.type === 'directory') tar.directory(entry.path, meta);
      else if (entry.type === 'symlink') tar.symlink(entry.path, entry.link!, meta);
      else if (entry.type === 'file') tar.buffer(entry.path, contents.get(entry.path)!, meta);
    }
    tar.finish();
  } finally {
    closeSync(fd);
  }
  const gzipped = run('gzip', ['-c', '-n', tarFile], projectDir, 'gzip -n');
  rmSync(tarFile);
  writeFileSync(outFile, gzipped, { mode: 0o644 });
  const { digests } = await hashFile(outFile, ['sha256']);
  return { file: outFile, commit, epoch, sha256: digests.sha256!, size: statSync(outFile).size };
}
