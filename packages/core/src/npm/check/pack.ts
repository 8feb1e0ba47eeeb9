import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { UserError } from '../../errors';

export interface PackResult {
  /** The tarball npm wrote. */
  bytes: Buffer;
  /** The lifecycle scripts npm would have run while packing (they were not: see packDirectory). */
  skippedScripts: string[];
}

// npm runs these while packing a directory (prepack, prepare and postpack since npm 7; npm 6 also prepublish).
const PACK_SCRIPTS = ['prepublish', 'prepare', 'prepack', 'postpack'];

/**
 * `npm pack DIR` with a given npm (its npm-cli.js) run by a given Node: from an empty directory (npm
 * 6 has no --pack-destination), offline, with its own empty cache, user and global configuration,
 * and --ignore-scripts: the source is whatever was checked out, and its scripts are not run on this
 * machine (the ones npm would run are named instead).
 */
export function packDirectory(source: string, npmDir: string, nodeBinary: string, options: { timeoutMs?: number } = {}): PackResult {
  const dir = resolve(source);
  let manifest: { scripts?: Record<string, unknown> };
  try {
    manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  } catch (error) {
    throw new UserError(`${join(dir, 'package.json')}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no package.json: --source names the package directory' : `not JSON (${(error as Error).message})`}`);
  }
  const skippedScripts = PACK_SCRIPTS.filter((name) => typeof manifest.scripts?.[name] === 'string');
  const work = mkdtempSync(join(tmpdir(), 'reprokit-npm-pack-'));
  try {
    const out = join(work, 'out');
    mkdirSync(out);
    // Two empty files: npm refuses to load one file as both the user and the global configuration.
    const userrc = join(work, 'userrc');
    const globalrc = join(work, 'globalrc');
    writeFileSync(userrc, '');
    writeFileSync(globalrc, '');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: work,
      LC_ALL: 'C',
      TZ: 'UTC',
      npm_config_cache: join(work, 'cache'),
      npm_config_userconfig: userrc,
      npm_config_globalconfig: globalrc,
      npm_config_offline: 'true',
      npm_config_ignore_scripts: 'true',
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      npm_config_loglevel: 'error',
    };
    const result = spawnSync(nodeBinary, [join(npmDir, 'bin', 'npm-cli.js'), 'pack', '--ignore-scripts', dir], { cwd: out, env, encoding: 'utf8', timeout: options.timeoutMs ?? 300_000, maxBuffer: 16 << 20 });
    if (result.error) throw new UserError(`npm pack ${dir}: ${(result.error as Error).message.split('\n')[0]}`);
    if (result.status !== 0) throw new UserError(`npm pack ${dir}: exit ${result.status}: ${(result.stderr || result.stdout).trim().split('\n').slice(-2).join(' / ')}`);
    const files = readdirSync(out).filter((name) => name.endsWith('.tgz'));
    if (files.length !== 1) throw new UserError(`npm pack ${dir}: wrote ${files.length} tarballs (${files.join(', ')})`);
    return { bytes: readFileSync(join(out, files[0])), skippedScripts };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}
