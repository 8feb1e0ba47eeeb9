import { parseArgs } from 'node:util';
import { readBuildEnvLock } from '../build-env';
import { buildEnv } from '../env-build';
import { imageRegistries } from './image-registries';
import { registryRepository } from './registry-pull';
import { UserError } from '../../errors';

/**
 * `reprokit env push` and `env pull`: how a team puts its pinned environment images in a registry,
 * and gets them back on a machine that lacks them (builds do the same on their own, before
 * building an image from its lock).
 */
export async function envRegistryCommand(action: 'push' | 'pull', args: string[], log: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { registry: { type: 'string', multiple: true } }, allowPositionals: true });
  if (positionals.length !== 1) throw new UserError(`env ${action}: name exactly one LOCK (an env.lock.json)`);
  const lockPath = positionals[0];
  const registries = values.registry?.length ? values.registry : await imageRegistries();
  if (action === 'pull') {
    const result = await buildEnv(lockPath, { reuse: true, pullOnly: true, registries, log });
    process.stdout.write(`${result.ref}${result.pulledFrom ? ` (pulled from ${result.pulledFrom})` : ' (already in docker)'}\n`);
    return 0;
  }
  if (registries.length === 0) throw new UserError(`env push: no registry to push to: give --registry HOST:PORT, or list imageRegistries in nx.json`);
  const lock = await readBuildEnvLock(lockPath);
  for (const registry of registries) {
    // Only the registries named here are pushed to; the image itself comes from docker or the lock.
    const result = await buildEnv(lockPath, { reuse: true, registries: [], push: registryRepository(registry, `reprokit/${lock.name}`), log });
    process.stdout.write(`${result.pushed}\n`);
  }
  return 0;
}
