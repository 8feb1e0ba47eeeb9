import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { checkEntry } from '../env/registry/image-registries';
import { parseArgs } from 'node:util';
import { isUserError, UserError } from '../errors';
import { takeThresholdOptions, type ThresholdOptions } from './threshold-options';
import { loadSigningKey } from './keys';
import { rebuildManifest } from './rebuild';
import { renderThreshold, verifyThreshold } from './threshold';

export const THRESHOLD_USAGE = `  verify MANIFEST --attestations DIR --trusted-keys PATH --threshold N
                                                  accept the manifest only when N distinct trusted builders
                                                  signed PASSED for every artifact's digest (PATH: a directory
                                                  of .pub files or one file of keys); disagreements per builder
  verify MANIFEST --attestations-from REGISTRY --trusted-keys PATH --threshold N
                                                  the same with the attestations a registry holds as referrers
                                                  of each artifact (REGISTRY/<project>, host:port[/path])
  rebuild MANIFEST [--attest --key KEY (--out DIR | --push-attestations REGISTRY)] [--builder-id ID] [--nx-target reproduce]
                                                  rebuild every artifact here (no Nx cache, docker from
                                                  DOCKER_HOST: unix://, tcp:// with TLS, ssh://), compare, sign a
                                                  SLSA VSA and the provenance per artifact; push them to REGISTRY`;

/** Prints the threshold verdict; exit 0 accepted, 1 not. */
export async function runThreshold(manifestPath: string, options: ThresholdOptions): Promise<number> {
  const result = await verifyThreshold({ manifestPath, attestationsDir: options.attestations, attestationsFrom: options.attestationsFrom, trustedKeysPath: options.trustedKeys, threshold: options.threshold });
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
      'push-attestations': { type: 'string' },
    },
    allowPositionals: true,
  });
  if (positionals.length !== 1) throw new UserError('rebuild: name exactly one MANIFEST (a repro-manifest.json)');
  const push = values['push-attestations'];
  if (push !== undefined && !values.attest) throw new UserError('rebuild --push-attestations: needs --attest --key KEY (what is pushed is what this rebuilder signs)');
  if (values.attest && !values.out && push === undefined) throw new UserError('rebuild --attest: --out DIR or --push-attestations REGISTRY is required (where the signed verification summaries go)');
  // Before the long build: a wrong key or registry name fails now, not after it.
  const key = values.attest ? loadSigningKey(values.key) : undefined;
  if (push !== undefined) checkEntry(push, '--push-attestations');
  // Pushed only: the envelopes are written to a directory of their own first, removed afterwards.
  const scratch = values.attest && !values.out ? mkdtempSync(join(tmpdir(), 'reprokit-attestations-')) : undefined;
  let results;
  try {
    results = await rebuildManifest({
      manifestPath: positionals[0],
      nxTarget: values['nx-target']!,
      key,
      outDir: values.out ?? scratch,
      builderId: values['builder-id'],
      pushAttestations: push,
      log: (line) => process.stderr.write(`[rebuild] ${line}\n`),
    });
  } catch (error) {
    // A push that failed after the long build: what was signed is not thrown away.
    if (scratch && isUserError(error) && readdirSync(scratch).length) throw new UserError(`${error.message} (what was signed is kept in ${scratch})`);
    if (scratch) rmSync(scratch, { recursive: true, force: true });
    throw error;
  }
  if (scratch) rmSync(scratch, { recursive: true, force: true });
  const base = dirname(positionals[0]);
  for (const artifact of results) {
    const detail = artifact.result === 'PASSED' ? `sha256:${artifact.expected}` : `expected sha256:${artifact.expected}, rebuilt ${artifact.rebuilt ? `sha256:${artifact.rebuilt}` : 'nothing'}`;
    const signed = artifact.attestation && !scratch ? ` -> ${relative(process.cwd(), artifact.attestation)}` : '';
    process.stdout.write(`${artifact.result} ${relative(process.cwd(), `${base}/${artifact.path}`)} ${detail}${signed}\n`);
  }
  return results.every((artifact) => artifact.result === 'PASSED') ? 0 : 1;
}
