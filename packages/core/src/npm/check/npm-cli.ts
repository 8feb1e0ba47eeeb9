import { parseArgs } from 'node:util';
import { renderDiff } from '../../diff/render';
import { UserError } from '../../errors';
import { npmCheck, type NpmCheckResult } from './check';

export const NPM_USAGE = `  npm check NAME@VERSION --source DIR [--json] [--npm V] [--node V] [--registry URL]
                                                  pack DIR as the publisher's npm did and compare with the
                                                  registry's tarball: IDENTICAL, IDENTICAL TAR (with the deflate
                                                  that gives the registry's gzip), SAME FILES or DIFFERS`;

export function renderNpmCheck(result: NpmCheckResult): string {
  const tool = (label: string, choice: NpmCheckResult['npm']) => `  ${label.padEnd(9)} ${choice.version}${choice.integrity ? ` (${choice.integrity.slice(0, 20)}…)` : ''}: ${choice.why}`;
  const lines = [
    `${result.verdict} ${result.spec}`,
    `  registry  ${result.registry.registry} (${result.registry.source})`,
    `  tarball   ${result.tarball.url} ${result.tarball.integrity} (${result.tarball.size} bytes)`,
    `  source    ${result.source}`,
    tool('npm', result.npm),
    tool('node', result.node),
    ...result.evidence.map((line) => `  - ${line}`),
  ];
  if (result.skippedScripts.length) lines.push(`  - not run: ${result.skippedScripts.join(', ')} (npm runs them while packing; this check packs with --ignore-scripts)`);
  if (result.diff && !result.diff.same) lines.push(renderDiff(result.diff, '    ').trimEnd());
  return lines.join('\n') + '\n';
}

/** `reprokit npm check`: exit 0 IDENTICAL or IDENTICAL TAR, 1 SAME FILES or DIFFERS, 2 bad input or unreachable. */
export async function npmCommand(args: string[], write: (text: string) => void, log: (line: string) => void): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'check') throw new UserError(`npm: unknown action ${JSON.stringify(action ?? '')} (check)`);
  const { values, positionals } = parseArgs({
    args: rest,
    options: { source: { type: 'string' }, json: { type: 'boolean', default: false }, npm: { type: 'string' }, node: { type: 'string' }, registry: { type: 'string' } },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UserError('npm check: name exactly one NAME@VERSION');
  if (!values.source) throw new UserError('npm check: --source DIR is required (the package directory of a checkout at that version)');
  for (const key of ['npm', 'node'] as const) {
    if (values[key] !== undefined && !/^v?[0-9]+\.[0-9]+\.[0-9]+$/.test(values[key]!)) throw new UserError(`--${key}: ${JSON.stringify(values[key])} is not an exact version (e.g. 20.20.2)`);
  }
  const result = await npmCheck({ spec: positionals[0], source: values.source, npm: values.npm, node: values.node, registry: values.registry, log: values.json ? undefined : log });
  write(values.json ? JSON.stringify(result, null, 2) + '\n' : renderNpmCheck(result));
  return result.verdict === 'IDENTICAL' || result.verdict === 'IDENTICAL TAR' ? 0 : 1;
}
