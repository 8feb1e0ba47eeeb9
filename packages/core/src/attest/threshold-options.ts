import { UserError } from '../errors';

// Apart from the threshold code so that `verify` without these options loads none of it.

export interface ThresholdOptions {
  /** A directory of attestation files, or (attestationsFrom) a registry; exactly one. */
  attestations?: string;
  attestationsFrom?: string;
  trustedKeys: string;
  threshold: number;
}

const OPTION_NAMES = ['attestations', 'attestations-from', 'attestationsFrom', 'trusted-keys', 'trustedKeys', 'threshold'];

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
    found[{ trustedKeys: 'trusted-keys', attestationsFrom: 'attestations-from' }[match[1]] ?? match[1]] = value;
  }
  if (Object.keys(found).length === 0) return { rest };
  const given = Object.keys(found).map((n) => `--${n}`).join(', ');
  if (found.attestations !== undefined && found['attestations-from'] !== undefined) throw new UserError('--attestations and --attestations-from: give one (a directory, or a registry host:port[/path])');
  if (found.attestations === undefined && found['attestations-from'] === undefined) throw new UserError(`--attestations: required with ${given} (--attestations DIR or --attestations-from REGISTRY, --trusted-keys PATH --threshold N)`);
  for (const name of ['trusted-keys', 'threshold']) {
    if (found[name] === undefined) throw new UserError(`--${name}: required with ${given} (--attestations DIR or --attestations-from REGISTRY, --trusted-keys PATH --threshold N)`);
  }
  if (!/^\d+$/.test(found.threshold)) throw new UserError(`--threshold: ${JSON.stringify(found.threshold)} is not a positive whole number`);
  return { options: { attestations: found.attestations, attestationsFrom: found['attestations-from'], trustedKeys: found['trusted-keys'], threshold: Number(found.threshold) }, rest };
}
