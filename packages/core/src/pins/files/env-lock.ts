import { lstatSync, readFileSync } from 'node:fs';
import { join, posix } from 'node:path';
import { readBuildEnvLock } from '../../env/build-env';
import { checkLocks } from '../../env/check/env-check';
import { isUserError } from '../../errors';
import type { Finding } from '../rules';

/** The name of the files this checker reads: environment locks (`reprokit env lock`). */
export const ENV_LOCK_NAME = 'env.lock.json';

/**
 * Findings for a repository's environment locks: a lock with packages that no source (the .deb
 * cache, the package vaults, apt's index, snapshot, the mirrors) can serve now no longer builds on
 * a fresh machine (`env-lock-unservable`, at the first such package); a lock that cannot be read is
 * `pins-unparsable`. Each source is asked only about the packages the earlier ones lack, so a
 * machine with the .deb cache asks nobody. Symlinks and special files are never opened.
 */
export async function envLockFindings(root: string, files: string[]): Promise<{ findings: Omit<Finding, 'severity' | 'fix'>[]; checked: string[] }> {
  const findings: Omit<Finding, 'severity' | 'fix'>[] = [];
  const valid: string[] = [];
  for (const file of files) {
    if (posix.basename(file) !== ENV_LOCK_NAME) continue;
    const path = join(root, file);
    try {
      if (!lstatSync(path).isFile()) continue;
      await readBuildEnvLock(path);
      valid.push(file);
    } catch (error) {
      if (!isUserError(error)) throw error;
      findings.push({ rule: 'pins-unparsable', file, line: 1, column: 1, message: `environment lock not checked: ${error.message.replace(`${path}: `, '')}` });
    }
  }
  if (!valid.length) return { findings, checked: [] };
  const checks = await checkLocks(valid.map((file) => join(root, file)), { firstOnly: true });
  checks.forEach((check, i) => {
    if (!check.unservable.length) return;
    const file = valid[i];
    // `name=version` of a .deb, `name@version` of an npm tarball (a scope's @ first).
    const first = check.unservable[0].includes('=') ? check.unservable[0].split('=')[0] : check.unservable[0].replace(/(.)@[^@]*$/, '$1');
    const { line, column } = position(readFileSync(join(root, file), 'utf8'), first);
    const names = check.unservable.slice(0, 5).join(', ') + (check.unservable.length > 5 ? `, … (${check.unservable.length})` : '');
    const asked = check.sources.map((source) => `${source.kind === 'apt' ? 'apt' : source.kind}${source.unreachable ? ' (unreachable)' : ''}`).join(', ');
    findings.push({ rule: 'env-lock-unservable', file, line, column, message: `${check.unservable.length} of ${check.packages} packages have no source now: ${names} (asked: ${asked})` });
  });
  return { findings, checked: valid };
}

/** Where `"name": "<name>"` of a package is written (JSON.parse does not say). */
function position(text: string, name: string): { line: number; column: number } {
  const at = text.indexOf(`"name": ${JSON.stringify(name)}`);
  if (at < 0) return { line: 1, column: 1 };
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before[before.length - 1].length + 1 };
}
