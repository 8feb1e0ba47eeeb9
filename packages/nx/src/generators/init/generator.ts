import { readNxJson, updateNxJson, type Tree } from '@nx/devkit';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ReprokitPluginOptions } from '../../plugin';
import type { InitGeneratorSchema } from './schema';

const PLUGIN = '@reprokit/nx';
/** The environments @reprokit/core ships that init copies, and the inferred target each one pins. */
const DEFAULT_ENVS = [
  { name: 'rust-builder', target: 'elf' },
  { name: 'arch-builder', target: 'arch' },
] as const;
const GITIGNORED = ['target/', '.nx/cache', '.nx/workspace-data'];

/** The environment definitions @reprokit/core ships, to copy into a workspace. */
function shippedEnvDir(name: string): string {
  return join(dirname(require.resolve('@reprokit/core/package.json')), 'envs', name);
}

/**
 * `nx g @reprokit/nx:init` (what `nx add @reprokit/nx` runs): registers the plugin in nx.json, copies
 * the Rust and Arch builder environments into the workspace and pins their image IDs as the defaults
 * for inferred elf and arch targets, adds an empty pin policy and ignores build directories. Running it again changes nothing.
 */
export default async function initGenerator(tree: Tree, options: InitGeneratorSchema): Promise<void> {
  const envDir = options.envDir ?? 'tools/envs';
  const pluginOptions: ReprokitPluginOptions = {};
  if (!options.skipEnv) {
    for (const env of DEFAULT_ENVS) {
      const target = `${envDir}/${env.name}`;
      for (const file of ['env.json', 'env.lock.json']) {
        if (!tree.exists(`${target}/${file}`)) tree.write(`${target}/${file}`, readFileSync(join(shippedEnvDir(env.name), file)));
      }
      const lock = JSON.parse(tree.read(`${target}/env.lock.json`, 'utf-8')!) as { imageId?: string };
      if (lock.imageId) {
        pluginOptions[env.target] = { environment: 'container', image: `reprokit/${env.name}@${lock.imageId}`, envLock: `${target}/env.lock.json` };
      }
    }
  }
  const nxJson = readNxJson(tree) ?? {};
  nxJson.plugins ??= [];
  if (!nxJson.plugins.some((entry) => (typeof entry === 'string' ? entry : entry.plugin) === PLUGIN)) {
    nxJson.plugins.push(Object.keys(pluginOptions).length ? { plugin: PLUGIN, options: pluginOptions } : PLUGIN);
  }
  updateNxJson(tree, nxJson);
  if (!tree.exists('reprokit.pins.json')) {
    tree.write('reprokit.pins.json', JSON.stringify({ $schema: './node_modules/@reprokit/core/schema/reprokit-pins.schema.json', exemptions: [] }, null, 2) + '\n');
  }
  const gitignore = tree.exists('.gitignore') ? tree.read('.gitignore', 'utf-8')! : '';
  const missing = GITIGNORED.filter((line) => !gitignore.split('\n').includes(line));
  if (missing.length) tree.write('.gitignore', gitignore + (gitignore && !gitignore.endsWith('\n') ? '\n' : '') + missing.join('\n') + '\n');
}
