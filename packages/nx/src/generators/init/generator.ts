import { readNxJson, updateNxJson, type Tree } from '@nx/devkit';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ReprokitPluginOptions } from '../../plugin';
import type { InitGeneratorSchema } from './schema';

const PLUGIN = '@reprokit/nx';
const DEFAULT_ENV = 'rust-builder';
const GITIGNORED = ['target/', '.nx/cache', '.nx/workspace-data'];

/** The environment definitions @reprokit/core ships, to copy into a workspace. */
function shippedEnvDir(name: string): string {
  return join(dirname(require.resolve('@reprokit/core/package.json')), 'envs', name);
}

/**
 * `nx g @reprokit/nx:init` (what `nx add @reprokit/nx` runs): registers the plugin in nx.json, copies
 * the Rust builder environment into the workspace and pins its image ID as the default for inferred
 * elf targets, adds an empty pin policy and ignores build directories. Running it again changes nothing.
 */
export default async function initGenerator(tree: Tree, options: InitGeneratorSchema): Promise<void> {
  const envDir = options.envDir ?? 'tools/envs';
  const pluginOptions: ReprokitPluginOptions = {};
  if (!options.skipEnv) {
    const target = `${envDir}/${DEFAULT_ENV}`;
    for (const file of ['env.json', 'env.lock.json']) {
      if (!tree.exists(`${target}/${file}`)) tree.write(`${target}/${file}`, readFileSync(join(shippedEnvDir(DEFAULT_ENV), file)));
    }
    const lock = JSON.parse(tree.read(`${target}/env.lock.json`, 'utf-8')!) as { imageId?: string };
    if (lock.imageId) {
      pluginOptions.elf = { environment: 'container', image: `reprokit/${DEFAULT_ENV}@${lock.imageId}`, envLock: `${target}/env.lock.json` };
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
