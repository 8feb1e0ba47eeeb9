import { readNxJson, updateNxJson, type Tree } from '@nx/devkit';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ReprokitPluginOptions } from '../../plugin';
import type { InitGeneratorSchema } from './schema';

const PLUGIN = '@reprokit/nx';

/**
 * The environments @reprokit/core ships, all copied by init because the README's examples use them
 * all: rust-builder (Rust elf targets, and a FROM image), arch-builder (arch targets), c-builder
 * (elf targets declared with a `command`, the C example), static-base (the FROM of a final image
 * stage), node-builder (npm targets, and a FROM image for `RUN npm ci`). `pin` says which plugin options name the image; `fromImage` that oci targets may build
 * it from its lock when a Dockerfile's FROM names it and docker lacks it.
 */
const DEFAULT_ENVS: { name: string; pin?: 'elf' | 'arch' | 'elfCommand' | 'npm'; extra?: Record<string, string>; fromImage: boolean }[] = [
  { name: 'rust-builder', pin: 'elf', fromImage: true },
  { name: 'arch-builder', pin: 'arch', fromImage: false },
  // The lock's package whose version the manifest records as the toolchain.
  { name: 'c-builder', pin: 'elfCommand', extra: { toolchainPackage: '^gcc-[0-9]+$' }, fromImage: true },
  { name: 'static-base', fromImage: true },
  // npm targets pack in it; a Dockerfile's FROM it runs `RUN npm ci`.
  { name: 'node-builder', pin: 'npm', fromImage: true },
];
/**
 * Build outputs and Nx's cache stay out of git: a committed dist/ (build records, artifacts) would
 * be a commit touching the project, which moves SOURCE_DATE_EPOCH after every `git add -A`.
 */
const GITIGNORED = ['dist/', 'target/', '.nx/cache', '.nx/workspace-data'];

/** The environment definitions @reprokit/core ships, to copy into a workspace. */
function shippedEnvDir(name: string): string {
  return join(dirname(require.resolve('@reprokit/core/package.json')), 'envs', name);
}

/** Copies the shipped environments (keeping ones the workspace already has) and the plugin options that pin them. */
function copyEnvironments(tree: Tree, envDir: string): ReprokitPluginOptions {
  const options: ReprokitPluginOptions = {};
  const fromLocks: string[] = [];
  for (const env of DEFAULT_ENVS) {
    const target = `${envDir}/${env.name}`;
    for (const file of ['env.json', 'env.lock.json']) {
      if (!tree.exists(`${target}/${file}`)) tree.write(`${target}/${file}`, readFileSync(join(shippedEnvDir(env.name), file)));
    }
    const lockPath = `${target}/env.lock.json`;
    const lock = JSON.parse(tree.read(lockPath, 'utf-8')!) as { imageId?: string };
    if (!lock.imageId) continue;
    // The npm target always packs in a container: it has no `environment` option.
    const environment = env.pin === 'npm' ? {} : { environment: 'container' as const };
    if (env.pin) options[env.pin] = { ...environment, image: `reprokit/${env.name}@${lock.imageId}`, envLock: lockPath, ...env.extra };
    if (env.fromImage) fromLocks.push(lockPath);
  }
  if (fromLocks.length) options.oci = { envLocks: fromLocks };
  return options;
}

/**
 * `nx g @reprokit/nx:init` (what `nx add @reprokit/nx` runs): registers the plugin in nx.json, copies
 * the builder environments into the workspace and pins their image IDs as the defaults of inferred
 * targets, adds an empty pin policy and ignores build directories. Running it again changes nothing;
 * on a workspace set up by an older init it adds only the options that are missing.
 */
export default async function initGenerator(tree: Tree, options: InitGeneratorSchema): Promise<void> {
  const pluginOptions = options.skipEnv ? {} : copyEnvironments(tree, options.envDir ?? 'tools/envs');
  const nxJson = readNxJson(tree) ?? {};
  nxJson.plugins ??= [];
  const index = nxJson.plugins.findIndex((entry) => (typeof entry === 'string' ? entry : entry.plugin) === PLUGIN);
  if (index < 0) {
    nxJson.plugins.push(Object.keys(pluginOptions).length ? { plugin: PLUGIN, options: pluginOptions } : PLUGIN);
  } else if (Object.keys(pluginOptions).length) {
    // The workspace's own choices win: only keys it does not set yet are added.
    const entry = nxJson.plugins[index];
    const existing = (typeof entry === 'string' ? {} : (entry.options ?? {})) as ReprokitPluginOptions;
    const missing = Object.fromEntries(Object.entries(pluginOptions).filter(([key]) => !(key in existing)));
    if (Object.keys(missing).length) nxJson.plugins[index] = { ...(typeof entry === 'string' ? {} : entry), plugin: PLUGIN, options: { ...existing, ...missing } };
  }
  updateNxJson(tree, nxJson);
  if (!tree.exists('reprokit.pins.json')) {
    tree.write('reprokit.pins.json', JSON.stringify({ $schema: './node_modules/@reprokit/core/schema/reprokit-pins.schema.json', exemptions: [] }, null, 2) + '\n');
  }
  const gitignore = tree.exists('.gitignore') ? tree.read('.gitignore', 'utf-8')! : '';
  const missing = GITIGNORED.filter((line) => !gitignore.split('\n').includes(line));
  if (missing.length) tree.write('.gitignore', gitignore + (gitignore && !gitignore.endsWith('\n') ? '\n' : '') + missing.join('\n') + '\n');
}
