import { spawnSync } from 'node:child_process';
import { UserError } from '../errors';

export interface PinnedToolchain {
  /** The compiler, e.g. `rustc`. */
  tool: string;
  /** The exact release it must report, e.g. `1.95.0`. */
  version: string;
}

export interface InstalledToolchain {
  /** The release the tool reports. */
  version: string;
  /** Its first version line, e.g. `rustc 1.95.0 (59807616e 2026-04-14)`, recorded in the manifest. */
  description: string;
}

/**
 * Asks a tool for its version: `-vV` for rustc (whose `release:` line is exact), `--version`
 * for anything else (the first word of its first line that is a bare version, like gcc's last).
 */
export function queryToolchain(tool: string, env: NodeJS.ProcessEnv = process.env): InstalledToolchain {
  const verbose = tool === 'rustc' || tool.endsWith('/rustc');
  const result = spawnSync(tool, [verbose ? '-vV' : '--version'], { encoding: 'utf8', env });
  if (result.error || result.status !== 0) {
    const why = result.error ? result.error.message : (result.stderr.trim().split('\n').pop() ?? `exit ${result.status}`);
    throw new UserError(`cannot run \`${tool}\` to check its version (${why}): install the pinned toolchain`);
  }
  const lines = result.stdout.trim().split('\n');
  const release = verbose
    ? /^release:\s*(\S+)/m.exec(result.stdout)?.[1]
    : lines[0].split(/\s+/).find((word) => /^v?\d+\.\d+(\.\d+)?$/.test(word))?.replace(/^v/, '');
  if (!release) throw new UserError(`\`${tool}\` printed no version number: ${JSON.stringify(lines[0])}`);
  return { version: release, description: lines[0] };
}

/** Refuses to build with anything but the pinned release, naming both versions. */
export function checkToolchain(pin: PinnedToolchain, env?: NodeJS.ProcessEnv): InstalledToolchain {
  const installed = queryToolchain(pin.tool, env);
  if (installed.version !== pin.version) {
    throw new UserError(
      `toolchain mismatch: ${pin.tool} is ${installed.version} but ${pin.version} is pinned: install ${pin.tool} ${pin.version} or change the pin`,
    );
  }
  return installed;
}
