import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { UserError } from '../errors';
import { diffPaths } from './diff';
import { renderDiff } from './render';

export const DIFF_USAGE = 'diff A B [--json] [--diffoscope DIR]';

/** diffoscope's HTML report, when Debian's diffoscope is installed: a second opinion, never required. */
function runDiffoscope(a: string, b: string, dir: string): string {
  const found = spawnSync('diffoscope', ['--version'], { encoding: 'utf8' });
  if (found.error) throw new UserError('--diffoscope: diffoscope is not installed (apt-get install diffoscope-minimal)');
  mkdirSync(dir, { recursive: true });
  // Exit 1 means "differences found"; 2 and up are diffoscope's own errors.
  const run = spawnSync('diffoscope', ['--html-dir', dir, '--no-progress', a, b], { encoding: 'utf8', timeout: 600_000 });
  if (run.status === null || run.status > 1) throw new UserError(`--diffoscope: diffoscope failed (${run.status ?? run.signal}): ${(run.stderr || '').trim().split('\n').at(-1)}`);
  return join(dir, 'index.html');
}

/** `reprokit diff A B`: exit 0 same, 1 different, 2 bad input. */
export async function diffCommand(args: string[], write: (text: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean', default: false }, diffoscope: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 2) throw new UserError(`diff: name exactly two files or directories (usage: reprokit ${DIFF_USAGE})`);
  const [a, b] = positionals;
  const result = diffPaths(a, b);
  const report = values.diffoscope && !result.same ? runDiffoscope(a, b, values.diffoscope) : undefined;
  write(values.json ? JSON.stringify(report ? { ...result, diffoscope: report } : result, null, 2) + '\n' : renderDiff(result) + (report ? `diffoscope report: ${report}\n` : ''));
  return result.same ? 0 : 1;
}
