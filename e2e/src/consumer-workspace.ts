import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './workspace';

export interface ConsumerWorkspace {
  root: string;
  env: NodeJS.ProcessEnv;
  sh(command: string, args: string[], cwd?: string): { status: number | null; output: string };
  nx(...args: string[]): { status: number | null; output: string };
}

/**
 * A new user's workspace: a fresh directory with Nx and the packed @reprokit packages installed
 * from their tarballs, as `npm install` from a registry would put them (no link to this checkout).
 */
export function consumerWorkspace(prefix = 'reprokit-consumer-'): ConsumerWorkspace {
  const root = mkdtempSync(join(tmpdir(), prefix));
  const env = { ...process.env, NX_DAEMON: 'false', NX_TUI: 'false', NX_NO_CLOUD: 'true', FORCE_COLOR: '0', CI: 'true' };
  const sh = (command: string, args: string[], cwd = root) => {
    const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 << 20 });
    return { status: result.status, output: result.stdout + result.stderr };
  };
  const nx = (...args: string[]) => sh(process.execPath, [join(root, 'node_modules', '.bin', 'nx'), ...args]);
  return { root, env, sh, nx };
}

/**
 * Packs @reprokit/core and @reprokit/nx from this checkout and installs them with Nx into the
 * workspace; `workspaces` become the root package.json's (npm links them, Nx infers their projects).
 */
export function installPackedReprokit({ root, sh }: ConsumerWorkspace, extra: { workspaces?: string[] } = {}): void {
  const packs = join(root, 'packs');
  mkdirSync(packs);
  const packed = sh('npm', ['pack', '--silent', '-w', '@reprokit/core', '-w', '@reprokit/nx', '--pack-destination', packs], repoRoot);
  assert.equal(packed.status, 0, packed.output);
  const tarball = (name: string) => join(packs, readdirSync(packs).find((file) => file.startsWith(`reprokit-${name}-`))!);
  const versions = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).devDependencies;
  writeFileSync(
    join(root, 'package.json'),
    JSON.stringify({
      name: 'consumer',
      private: true,
      ...extra,
      devDependencies: { nx: versions.nx, '@nx/devkit': versions['@nx/devkit'], '@reprokit/core': `file:${tarball('core')}`, '@reprokit/nx': `file:${tarball('nx')}` },
    }),
  );
  writeFileSync(join(root, 'nx.json'), JSON.stringify({ analytics: false, neverConnectToCloud: true }));
  const installed = sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline']);
  assert.equal(installed.status, 0, installed.output);
}
