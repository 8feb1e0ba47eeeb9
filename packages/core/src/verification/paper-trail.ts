import { relative, resolve } from 'node:path';
import { formatChecksumLine } from '../hash';
import { gitState, isoSeconds } from '../git';
import type { Environment } from '../manifest/manifest';
import type { VerifyResult } from '../manifest/verify-result';
import { REPROKIT_VERSION } from '../version';

export interface PaperTrailInput {
  result: VerifyResult;
  /** The repository, for HEAD and whether the tree is clean. */
  workspaceRoot: string;
  /** Project directory relative to the workspace: only its changes make the tree "dirty" here. */
  projectRoot: string;
  now?: Date;
}

const STATUS_WORD = { match: 'REPRODUCED', mismatch: 'MISMATCH', missing: 'MISSING', unexpected: 'UNEXPECTED' } as const;

/** The environment line a reviewer writes down: the image digest or the host toolchain. */
export function describeEnvironment(env: Environment): string {
  if (env.type === 'host') return `host toolchain ${env.toolchain}`;
  return `${env.image}${env.toolchain ? ` (${env.toolchain})` : ''}`;
}

/**
 * What a reviewer writes down with pen and paper (the seed's "retroactive review"): the commit, the
 * date, and per artifact its status and a `b2sum` line that `b2sum -c` accepts from the workspace root.
 */
export function renderPaperTrail({ result, workspaceRoot, projectRoot, now = new Date() }: PaperTrailInput): string {
  const git = gitState(workspaceRoot, [projectRoot]);
  const display = (file: string) => relative(workspaceRoot, resolve(file)).split('\\').join('/');
  const state = git.commit === 'none' ? 'not a git repository' : git.dirty ? `uncommitted changes in ${projectRoot}` : 'clean';
  const field = (label: string, value: string) => `${(label + ':').padEnd(13)}${value}`;
  const lines = [
    `reprokit paper trail: ${result.project}`,
    field('commit', `${git.commit} (${state})`),
    field('commit date', git.commitDate),
    field('checked at', isoSeconds(now)),
    field('manifest', `${display(result.manifestPath)} (recorded at commit ${result.recorded.commit}, ${result.recorded.recordedAt})`),
    field('reprokit', `${REPROKIT_VERSION}, node ${process.version}`),
    '',
  ];
  for (const check of result.checks) {
    lines.push(`${STATUS_WORD[check.status]} ${check.name} (${check.kind})`);
    if (check.environment) lines.push(`  built in ${describeEnvironment(check.environment)}`);
    const b2 = check.actual?.blake2b512 ?? check.expected?.blake2b512;
    if (b2) lines.push(formatChecksumLine(b2, display(check.file)));
    if (check.status === 'mismatch') lines.push(formatChecksumLine(check.expected!.blake2b512, '(expected, from the manifest)'));
    // What `docker image inspect` and a registry show, for a reviewer to compare with a published image.
    if (check.image) lines.push(`  image ID ${check.image.id}`, `  manifest ${check.image.manifestDigest}`);
    // What `npm view <name>@<version> dist.integrity` shows for the published package.
    if (check.integrity) lines.push(`  integrity ${check.integrity}`);
    for (const problem of check.imageProblems ?? []) lines.push(`  ${check.kind === 'npm' ? 'package' : 'image'}: ${problem}`);
  }
  const reproduced = result.checks.filter((check) => check.status === 'match').length;
  const total = result.checks.length;
  lines.push('', result.ok ? `${reproduced} of ${total} artifacts REPRODUCED` : `NOT REPRODUCED: ${total - reproduced} of ${total} artifacts failed`);
  return lines.join('\n');
}
