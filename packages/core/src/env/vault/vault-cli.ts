import { parseArgs } from 'node:util';
import { readBuildEnvLock } from '../build-env';
import { fetchLockedDebs } from '../debs/deb-cache';
import { DEB_SOURCE_OPTIONS, debSources } from '../debs/deb-source-options';
import { checkRegistries, debVaults } from '../registry/image-registries';
import { pushVault } from './vault';
import { UserError } from '../../errors';

/**
 * `reprokit env vault push LOCK [--registry R]…`: the lock's .debs (from the cache or any source,
 * each verified) and its vault manifest into each registry; default: the workspace's debVaults.
 * One line per registry on stdout: the manifest's reference by tag and digest.
 */
export async function envVaultCommand(args: string[], log: (line: string) => void): Promise<number> {
  const [action, ...rest] = args;
  if (action !== 'push') throw new UserError(`env vault: unknown action ${JSON.stringify(action ?? '')} (push)`);
  const { values, positionals } = parseArgs({ args: rest, options: { registry: { type: 'string', multiple: true }, ...DEB_SOURCE_OPTIONS }, allowPositionals: true });
  if (positionals.length !== 1) throw new UserError('env vault push: name exactly one LOCK (an env.lock.json)');
  const lockPath = positionals[0];
  const registries = values.registry?.length ? checkRegistries(values.registry, '--registry') : await debVaults();
  if (!registries.length) throw new UserError('env vault push: no registry to push to: give --registry HOST:PORT[/PATH], or list debVaults in nx.json');
  const lock = await readBuildEnvLock(lockPath);
  // The files come from anywhere but the vaults being filled (unless --vault names some).
  const sources = debSources(values);
  const debs = await fetchLockedDebs(lock.packages, lockPath, undefined, log, { ...sources, vaults: sources.vaults ?? [] });
  for (const registry of registries) {
    const result = await pushVault(lock, debs, registry, log);
    log(`${registry}: ${result.pushed} packages stored, ${result.present} already there`);
    process.stdout.write(`${result.ref}\n`);
  }
  return 0;
}
