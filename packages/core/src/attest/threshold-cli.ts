import { dirname, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { UserError } from '../errors';
import { loadSigningKey } from './keys';
import { rebuildManifest } from './rebuild';
import { renderThreshold, verifyThreshold } from './threshold';

export const THRESHOLD_USAGE = `  verify MANIFEST --attestations DIR --trusted-keys PATH --threshold N
                                                  accept the manifest only when N distinct trusted builders
                                                  signed PASSED for every artifact's digest (PATH: a directory
                                                  of .pub files or one file of keys); disagreements per builder
  rebuild MANIFEST [--attest --key KEY --out DIR] [--builder-id ID] [--nx-target reproduce]
                                                  rebuild every artifact here (no Nx cache, docker from
                                                  DOCKER_HOST), compare, sign a SLSA VSA per artifact`;

export interface ThresholdOptions {
  attestations: string;
  trustedKeys: string;
  threshold: number;
}

const OPTION_NAMES = ['attestations', 'trusted-keys', 'trustedKeys', 'threshold'];

/**
 * Takes the threshold options out of a command line (verify and reproduce both accept them; Nx
 * forwards them to the inferred reproduce command as given, in either spelling). Returns undefined
 * when none is given; all three are required together.
 */
export function takeThresholdOptions(args: string[]): { options?: ThresholdOptions; rest: string[] } {
  const rest: string[] = [];
  const found: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const match = /^--([\w-]+)(?:=(.*))?$/.exec(args[i]);
    if (!match || !OPTION_NAMES.includes(match[1])) {
      rest.push(args[i]);
      continue;
    }
    const value = match[2] ?? args[++i];
    if (value === undefined || value.startsWith('--')) throw new UserError(`--${match[1]}: needs a value`);
    found[match[1] === 'trustedKeys' ? 'trusted-keys' : match[1]] = value;
  }
  if (Object.keys(found).length === 0) return { rest };
  for (const name of ['attestations', 'trusted-keys', 'threshold']) {
    if (found[name] === undefined) throw new UserError(`--${name}: required with ${Object.keys(found).map((n) => `--${n}`).join(', ')} (--attestations DIR --trusted-keys PATH --threshold N)`);
  }
  if (!/^\d+$/.test(found.threshold)) throw new UserError(`--threshold: ${JSON.stringify(found.threshold)} is not a positive whole number`);
  return { options: { attestations: found.attestations, trustedKeys: found['trusted-keys'], threshold: Number(found.threshold) }, rest };
}

/** Prints the threshold verdict; exit 0 accepted, 1 not. */
export async function runThreshold(manifestPath: string, options: ThresholdOptions): Promise<number> {
  const result = await verifyThreshold({ manifestPath, attestationsDir: options.attestations, trustedKeysPath: options.trustedKeys, threshold: options.threshold });
  const { stdout, stderr } = renderThreshold(result);
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  return result.ok ? 0 : 1;
}

export async function verifyThresholdCommand(args: string[]): Promise<number> {
  const { options, rest } = takeThresholdOptions(args);
  const { positionals } = parseArgs({ args: rest, options: {}, allowPositionals: true });
  if (positionals.length !== 1) throw new UserError('verify: name exactly one MANIFEST (a repro-manifest.json)');
  return runThreshold(positionals[0], options!);
}

export async function rebuildCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      attest: { type: 'boolean', default: false },
      key: { type: 'string' },
      out: { type: 'string' },
      'builder-id': { type: 'string' },
      'nx-target': { type: 'string', default: 'reproduce' },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UserError('rebuild: name exactly one MANIFEST (a repro-manifest.json)');
  if (values.attest && !values.out) throw new UserError('rebuild --attest: --out DIR is required (where the signed verification summaries go)');
  // Load the key before the long build: a wrong key fails now, not after it.
  const key = values.attest ? loadSigningKey(values.key) : undefined;
  const results = await rebuildManifest({
    manifestPath: positionals[0],
    nxTarget: values['nx-target']!,
    key,
    outDir: values.out,
    builderId: values['builder-id'],
    log: (line) => process.stderr.write(`[rebuild] ${line}\n`),
  });
  const base = dirname(positionals[0]);
  for (const artifact of results) {
    const detail = artifact.result === 'PASSED' ? `sha256:${artifact.expected}` : `expected sha256:${artifact.expected}, rebuilt ${artifact.rebuilt ? `sha256:${artifact.rebuilt}` : 'nothing'}`;
    const signed = artifact.attestation ? ` -> ${relative(process.cwd(), artifact.attestation)}` : '';
    process.stdout.write(`${artifact.result} ${relative(process.cwd(), `${base}/${artifact.path}`)} ${detail}${signed}\n`);
  }
  return results.every((artifact) => artifact.result === 'PASSED') ? 0 : 1;
}
