import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../../errors';
import { readJsonFile } from '../../manifest/json-file';

/** The environment variable that lists the registries (comma or space separated); it wins over nx.json. */
export const IMAGE_REGISTRIES_ENV = 'REPROKIT_IMAGE_REGISTRIES';

// `host[:port]` then optional repository path components: where `<entry>/<image name>` is looked up.
const ENTRY = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*$/;

/** A registry entry, `host:port` or `host:port/path`, or a one-line error naming `where`. */
export function checkEntry(entry: unknown, where: string): string {
  if (typeof entry !== 'string' || !ENTRY.test(entry) || !/[.:]|^localhost(\/|$)/.test(entry.split('/')[0])) {
    throw new UserError(`${where}: ${JSON.stringify(entry)} is not a registry (host:port or host:port/path, e.g. 127.0.0.1:5000 or registry.example/team)`);
  }
  return entry;
}

/** The environment variable that lists the .deb vaults (comma or space separated); it wins over nx.json. */
export const DEB_VAULTS_ENV = 'REPROKIT_DEB_VAULTS';

/**
 * The registries the workspace lists for its pinned builder and base images, in the order they are
 * tried: REPROKIT_IMAGE_REGISTRIES when set (empty: none), else the `imageRegistries` option of the
 * `@reprokit/nx` plugin in the nx.json of the workspace around `cwd`. An image
 * `reprokit/rust-builder@sha256:<ID>` is looked for in `<entry>/reprokit/rust-builder`.
 */
export async function imageRegistries(cwd = process.cwd()): Promise<string[]> {
  return listedRegistries(IMAGE_REGISTRIES_ENV, 'imageRegistries', cwd);
}

/**
 * The registries that hold the workspace's package vaults (`reprokit env vault push`), tried for
 * locked .debs after the cache and before apt: REPROKIT_DEB_VAULTS when set (empty: none), else the
 * plugin's `debVaults` option in nx.json, entries as in imageRegistries.
 */
export async function debVaults(cwd = process.cwd()): Promise<string[]> {
  return listedRegistries(DEB_VAULTS_ENV, 'debVaults', cwd);
}

/** A list the user gives on the command line (`--vault`, `--registry`), checked like the others. */
export function checkRegistries(entries: string[], option: string): string[] {
  return entries.map((entry) => checkEntry(entry, option));
}

async function listedRegistries(envName: string, option: string, cwd: string): Promise<string[]> {
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined) {
    return fromEnv
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((entry) => checkEntry(entry, envName));
  }
  const nxJson = findNxJson(cwd);
  if (!nxJson) return [];
  const json = (await readJsonFile(nxJson)) as { plugins?: unknown };
  const plugins = Array.isArray(json?.plugins) ? json.plugins : [];
  const found: string[] = [];
  plugins.forEach((plugin: any, i) => {
    if (plugin?.plugin !== '@reprokit/nx' || plugin.options?.[option] === undefined) return;
    const where = `${nxJson}: $.plugins[${i}].options.${option}`;
    const list: unknown = plugin.options[option];
    if (!Array.isArray(list)) throw new UserError(`${where}: not a list of registries`);
    list.forEach((entry, j) => found.push(checkEntry(entry, `${where}[${j}]`)));
  });
  return [...new Set(found)];
}

function findNxJson(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'nx.json'))) return join(dir, 'nx.json');
    if (dirname(dir) === dir) return undefined;
  }
}
