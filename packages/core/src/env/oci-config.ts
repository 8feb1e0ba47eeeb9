import { createHash } from 'node:crypto';
import { isoSeconds } from '../git';

/** The image config of a single-layer image, written by reprokit with a fixed key order. */
export interface ImageConfigInput {
  architecture: string;
  env: Record<string, string>;
  user: string;
  workingDir?: string;
  diffIds: string[];
  /** What the history entry says made the image. */
  createdBy: string;
  /** Seconds since the epoch for `created` (SOURCE_DATE_EPOCH; 0 for environments). */
  created: number;
  labels?: Record<string, string>;
  cmd?: string[];
}

/** `created` timestamps: seconds since the epoch as RFC 3339 UTC without fractions. */
export const isoDate = (seconds: number) => isoSeconds(new Date(seconds * 1000));

/**
 * The config's bytes, and so the image ID (their sha256), depend only on the input: no hostname,
 * no builder version, `created` from the epoch given, env in sorted order.
 */
export function imageConfigBytes(input: ImageConfigInput): Buffer {
  const config = {
    architecture: input.architecture,
    config: {
      Env: Object.keys(input.env)
        .sort()
        .map((key) => `${key}=${input.env[key]}`),
      User: input.user,
      ...(input.workingDir ? { WorkingDir: input.workingDir } : {}),
      ...(input.labels ? { Labels: Object.fromEntries(Object.entries(input.labels).sort()) } : {}),
      ...(input.cmd ? { Cmd: input.cmd } : {}),
    },
    created: isoDate(input.created),
    history: [{ created: isoDate(input.created), created_by: input.createdBy }],
    os: 'linux',
    rootfs: { type: 'layers', diff_ids: input.diffIds },
  };
  return Buffer.from(JSON.stringify(config));
}

export function sha256Digest(bytes: Buffer): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}
