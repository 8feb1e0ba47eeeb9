import { parseArgs } from 'node:util';
import { UserError } from '../errors';
import { formatFindings, FORMATS, type Format } from './format';
import { reachesSeverity, SEVERITIES, summarizeFindings, type Severity } from './rules';
import { scanPins } from './scan';
import { updatePins } from './update/update';

export const PINS_USAGE = `usage: reprokit pins check [DIR|FILE]… [--format text|json|sarif] [--fail-on error|warning|note] [--policy FILE]
       reprokit pins update [DIR|FILE]… [--dry-run] [--policy FILE]

Reports external inputs not addressed by their content hash: unpinned base images, actions and reusable
workflows, downloads run without a hash check (piped into a shell or run later), package managers asked
for moving versions, missing lockfiles, unverified PKGBUILD sources, and files that could not be checked. A directory is scanned as a repository
(its .gitignore respected); its reprokit.pins.json, or --policy, enables, disables and exempts rules.

\`pins update\` rewrites unpinned image references (FROM, docker run, …) to name:tag@sha256:…, with the
digest from the local docker daemon or the image's registry; --dry-run prints the unified diff instead.
It never guesses: what it cannot resolve stays and is reported.

exit status: 0 nothing at or above --fail-on (default error) / everything pinned, 1 a finding at or
above it / something left unpinned, 2 bad usage or policy`;

/** `reprokit pins …`: returns the exit status; bad usage and bad policies throw UserError. */
export async function pinsCommand(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  if (action === 'help' || action === '--help' || action === '-h') {
    process.stdout.write(PINS_USAGE + '\n');
    return 0;
  }
  if (action === 'update') return updateCommand(rest);
  if (action !== 'check') throw new UserError(`pins: ${action === undefined ? 'name an action' : `unknown action ${JSON.stringify(action)}`}: \`pins check\` or \`pins update\``);
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: {
        format: { type: 'string', default: 'text' },
        'fail-on': { type: 'string', default: 'error' },
        policy: { type: 'string' },
      },
      allowPositionals: true,
    });
  } catch (error) {
    // parseArgs's own errors (unknown option, missing value) are usage errors, one line.
    throw new UserError(`pins check: ${(error as Error).message}`);
  }
  const { values, positionals } = parsed;
  const format = values.format as Format;
  if (!FORMATS.includes(format)) throw new UserError(`--format: unknown format ${JSON.stringify(values.format)} (one of ${FORMATS.join(', ')})`);
  const failOn = values['fail-on'] as Severity;
  if (!SEVERITIES.includes(failOn)) throw new UserError(`--fail-on: unknown severity ${JSON.stringify(values['fail-on'])} (one of ${SEVERITIES.join(', ')})`);

  const results = await scanPins(positionals.length > 0 ? positionals : ['.'], { policy: values.policy });
  process.stdout.write(formatFindings(results, format));
  const findings = results.flatMap((result) => result.findings);
  if (format === 'text') {
    const skipped = results.reduce((sum, result) => sum + result.skipped.length, 0);
    const checked = results.reduce((sum, result) => sum + result.checked, 0);
    process.stderr.write(`pins: ${summarizeFindings(findings)} in ${checked} files checked${skipped ? `, ${skipped} not checked (binary, too large or unreadable; each is a finding)` : ''}\n`);
  }
  return reachesSeverity(findings, failOn) ? 1 : 0;
}

async function updateCommand(args: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { 'dry-run': { type: 'boolean', default: false }, policy: { type: 'string' } }, allowPositionals: true });
  } catch (error) {
    throw new UserError(`pins update: ${(error as Error).message}`);
  }
  const { values, positionals } = parsed;
  const dryRun = values['dry-run'];
  const result = await updatePins(positionals.length > 0 ? positionals : ['.'], { policy: values.policy, dryRun });
  if (dryRun) process.stdout.write(result.diff);
  else for (const edit of result.edits) process.stdout.write(`${edit.file}:${edit.line}:${edit.column} pinned ${edit.from} -> ${edit.to}\n`);
  for (const { finding, reason } of result.unresolved) {
    process.stderr.write(`${finding.file}:${finding.line}:${finding.column} ${finding.rule} left unpinned: ${reason}\n`);
  }
  return result.unresolved.length ? 1 : 0;
}
