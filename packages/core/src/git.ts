import { spawnSync } from 'node:child_process';
import { UserError } from './errors';

export interface GitState {
  /** HEAD's commit hash, or `none` outside a git repository / before the first commit. */
  commit: string;
  /** HEAD's committer date as `YYYY-MM-DDTHH:MM:SSZ`, or `none`. */
  commitDate: string;
  /** Uncommitted changes in the paths asked about. */
  dirty: boolean;
}

function git(cwd: string, args: string[]): { ok: boolean; out: string } {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, LC_ALL: 'C', TZ: 'UTC' } });
  if (result.error) throw new UserError(`cannot run git (${result.error.message}): install git`);
  return { ok: result.status === 0, out: result.stdout.trim() };
}

export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** Where the working tree stands, for the paper trail. `paths` limits the dirty check. */
export function gitState(cwd: string, paths: string[] = []): GitState {
  const head = git(cwd, ['log', '-1', '--format=%H %ct']);
  if (!head.ok || head.out === '') return { commit: 'none', commitDate: 'none', dirty: true };
  const [commit, seconds] = head.out.split(' ');
  const status = git(cwd, ['status', '--porcelain', '--untracked-files=normal', '--', ...paths]);
  return { commit, commitDate: isoSeconds(new Date(Number(seconds) * 1000)), dirty: status.out !== '' };
}

/**
 * The last commit that touched a project, leaving out the files that only record results (the
 * manifest), so that committing a manifest does not change the inputs of the next build.
 */
export function lastProjectCommit(projectDir: string, excluded: string[] = []): { commit: string; epoch: number } {
  const pathspecs = ['.', ...excluded.map((path) => `:(exclude)${path}`)];
  const log = git(projectDir, ['log', '-1', '--format=%H %ct', '--', ...pathspecs]);
  const match = /^([0-9a-f]{40,64}) (\d+)$/.exec(log.out);
  if (!log.ok || !match) {
    throw new UserError(
      `${projectDir}: no git commit touches this project, so SOURCE_DATE_EPOCH cannot be derived: commit it, or set the target's sourceDateEpoch option`,
    );
  }
  return { commit: match[1], epoch: Number(match[2]) };
}

/** SOURCE_DATE_EPOCH for a project: the committer date of the last commit that touched it (see lastProjectCommit). */
export function sourceDateEpochFromGit(projectDir: string, excluded: string[] = []): number {
  return lastProjectCommit(projectDir, excluded).epoch;
}

/** The work tree's top directory, or undefined outside a git repository. */
export function gitToplevel(cwd: string): string | undefined {
  const top = git(cwd, ['rev-parse', '--show-toplevel']);
  return top.ok && top.out ? top.out : undefined;
}
