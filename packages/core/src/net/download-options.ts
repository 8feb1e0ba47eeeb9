import { UserError } from '../errors';
import { privateNetworkAllowedByEnv } from './address-policy';
import type { FetchOptions } from './bounded-fetch';

/**
 * The download options of every command that fetches a manifest's locations (published,
 * reproduce --published, report --published, verify): parseArgs options and what they become.
 */
export const DOWNLOAD_OPTIONS = {
  timeout: { type: 'string' },
  deadline: { type: 'string' },
  'speed-limit': { type: 'string' },
  'speed-time': { type: 'string' },
  'allow-private-network': { type: 'boolean' },
} as const;

export interface DownloadOptions {
  timeoutMs?: number;
  deadlineMs?: number;
  minRate?: FetchOptions['minRate'];
  allowPrivateNetwork?: boolean;
}

function seconds(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new UserError(`--${name}: ${JSON.stringify(value)} is not a positive number of seconds`);
  return n;
}

export function downloadOptions(values: { timeout?: string; deadline?: string; 'speed-limit'?: string; 'speed-time'?: string; 'allow-private-network'?: boolean }): DownloadOptions {
  const timeout = seconds('timeout', values.timeout);
  const deadline = seconds('deadline', values.deadline);
  const speedTime = seconds('speed-time', values['speed-time']);
  const limit = values['speed-limit'];
  let bytesPerSecond: number | undefined;
  if (limit !== undefined) {
    bytesPerSecond = Number(limit);
    if (!Number.isInteger(bytesPerSecond) || bytesPerSecond < 0) throw new UserError(`--speed-limit: ${JSON.stringify(limit)} is not a number of bytes per second (0 turns the rule off)`);
  }
  const minRate: DownloadOptions['minRate'] =
    bytesPerSecond === 0 ? false : bytesPerSecond === undefined && speedTime === undefined ? undefined : { bytesPerSecond: bytesPerSecond ?? 1024, seconds: speedTime ?? 30 };
  return {
    timeoutMs: timeout === undefined ? undefined : timeout * 1000,
    deadlineMs: deadline === undefined ? undefined : deadline * 1000,
    minRate,
    // The flag, else the environment (REPROKIT_ALLOW_PRIVATE_NETWORK=1).
    allowPrivateNetwork: values['allow-private-network'] || privateNetworkAllowedByEnv(),
  };
}
