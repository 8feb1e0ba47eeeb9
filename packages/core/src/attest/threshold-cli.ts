import { dirname, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { UserError } from '../errors';
import { takeThresholdOptions, type ThresholdOptions } from './threshold-options';
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
