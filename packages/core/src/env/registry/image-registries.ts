import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UserError } from '../../errors';
import { readJsonFile } from '../../manifest/json-file';

/** The environment variable that lists the registries (comma or space separated); it wins over nx.json. */
export const IMAGE_REGISTRIES_ENV = 'REPROKIT_IMAGE_REGISTRIES';

// `host[:port]` then optional repository path components: where `<entry>/<image name>` is looked up.
const ENTRY = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*$/;

function checkEntry(entry: unknown, where: string): string {
  if (typeof entry !== 'string' || !ENTRY.test(entry) || !/[.:]|^localhost(\/|$)/.test(entry.split('/')[0])) {
    throw new UserError(`${where}: ${JSON.stringify(entry)} is not a registry (host:port or host:port/path, e.g. 127.0.0.1:5000 or registry.example/team)`);
  }
  return entry;
}

/**
 * The registries the workspace lists for its pinned builder and base images, in the order they are
 * tried: REPROKIT_IMAGE_REGISTRIES when set (empty: none), else the `imageRegistries` option of the
 * `@reprokit/nx` plugin in the nx.json of the workspace around `cwd`. An image
 * `reprokit/rust-builder@sha256:<ID>` is looked for in `<entry>/reprokit/rust-builder`.
 */
export async function imageRegistries(cwd = process.cwd()): Promise<string[]> {
  const fromEnv = process.env[IMAGE_REGISTRIES_ENV];
  if (fromEnv !== undefined) {
    return fromEnv
      .split(/[\s,]+/)
      .filter(Boolean)
      .map((entry) => checkEntry(entry, IMAGE_REGISTRIES_ENV));
  }
  const nxJson = findNxJson(cwd);
  if (!nxJson) return [];
  const json = (await readJsonFile(nxJson)) as { plugins?: unknown };
  const plugins = Array.isArray(json?.plugins) ? json.plugins : [];
  const found: string[] = [];
  plugins.forEach((plugin: any, i) => {
    if (plugin?.plugin !== '@reprokit/nx' || plugin.options?.imageRegistries === undefined) return;
    const where = `${nxJson}: $.plugins[${i}].options.imageRegistries`;
    const list: unknown = plugin.options.imageRegistries;
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
