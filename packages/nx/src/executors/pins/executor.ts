import type { ExecutorContext } from '@nx/devkit';
import { formatFindings, reachesSeverity, scanPins, summarizeFindings, writeFileAtomic } from '@reprokit/core';
import { spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { mkdirSync } from 'node:fs';
import { projectPaths, runUserFacing } from '../../project';
import type { PinsExecutorSchema } from './schema';

/**
 * The project's files as git sees them (ignored files left out), so they are scanned as part of the
 * workspace's repository: a lockfile at the workspace root counts for a package below it.
 */
function projectFiles(workspaceRoot: string, projectRoot: string): string[] {
  const listed = spawnSync('git', ['ls-files', '-co', '--exclude-standard', '-z', '--', projectRoot], { cwd: workspaceRoot, encoding: 'utf8' });
  if (listed.status !== 0) return [join(workspaceRoot, projectRoot)];
  return listed.stdout.split('\0').filter(Boolean).map((file) => join(workspaceRoot, file));
}

export default async function pinsExecutor(options: PinsExecutorSchema, context: ExecutorContext) {
  return runUserFacing(context, async () => {
    const project = projectPaths(context);
    const files = projectFiles(context.root, project.root);
    const results = files.length ? await scanPins(files, { policy: options.policy && resolve(context.root, options.policy) }) : [];
    const report = formatFindings(results, options.format ?? 'text');
    process.stdout.write(report);
    if (options.outputFile) {
      const path = resolve(context.root, options.outputFile);
      mkdirSync(dirname(path), { recursive: true });
      writeFileAtomic(path, report);
    }
    const findings = results.flatMap((result) => result.findings);
    process.stderr.write(`[${project.name}:${context.targetName}] ${files.length} files, ${summarizeFindings(findings)}\n`);
    return !reachesSeverity(findings, options.failOn ?? 'error');
  });
}
