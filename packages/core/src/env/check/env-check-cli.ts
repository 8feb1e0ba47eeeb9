import { parseArgs } from 'node:util';
import { DEB_SOURCE_OPTIONS, debSources } from '../debs/deb-source-options';
import { checkLocks, renderLockChecks, workspaceLocks } from './env-check';

/**
 * `reprokit env check [LOCK…] [--json] [SOURCES]`: which packages of each lock (default: every
 * env.lock.json of the git work tree) each source can serve now. Exit 1 when some package has none.
 */
export async function envCheckCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { json: { type: 'boolean', default: false }, ...DEB_SOURCE_OPTIONS }, allowPositionals: true });
  const locks = positionals.length ? positionals : workspaceLocks();
  const checks = await checkLocks(locks, { sources: debSources(values) });
  const ok = checks.every((check) => !check.unservable.length);
  process.stdout.write(values.json ? JSON.stringify({ ok, locks: checks }, null, 2) + '\n' : renderLockChecks(checks));
  return ok ? 0 : 1;
}
