import { existsSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { UserError } from '../errors';
import { DEFAULT_NPM_REGISTRY } from './registry-tarball';

/** Where npm's `registry` setting came from: reported beside every verdict. */
export interface ConfiguredRegistry {
  registry: string;
  /** `--registry`, `npm_config_registry`, a .npmrc's path, or npm's default. */
  source: string;
}

const NPMRC_LIMIT = 1 << 20;

/** An .npmrc's `key = value` lines, `${VAR}` expanded as npm does; comments and sections skipped. */
export function parseNpmrc(text: string, env: NodeJS.ProcessEnv = process.env): Map<string, string> {
  const values = new Map<string, string>();
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith(';') || line.startsWith('[')) continue;
    const eq = line.indexOf('=');
    if (eq <= 0) continue;
    let value = line.slice(eq + 1).trim();
    if (value.length >= 2 && value[0] === '"' && value.endsWith('"')) {
      try {
        value = JSON.parse(value);
      } catch {
        // npm keeps a value it cannot parse as written
      }
    }
    const expanded = value.replace(/(\\*)\$\{([^${}]+)\}/g, (all, slashes: string, name: string) => (slashes.length % 2 ? all.slice(1) : slashes + (env[name.replace(/\?$/, '')] ?? (name.endsWith('?') ? '' : all))));
    values.set(line.slice(0, eq).trim(), expanded);
  }
  return values;
}

function readNpmrc(path: string, env: NodeJS.ProcessEnv): Map<string, string> | undefined {
  if (!existsSync(path)) return undefined;
  const stat = statSync(path);
  if (!stat.isFile()) return undefined;
  if (stat.size > NPMRC_LIMIT) throw new UserError(`${path}: larger than ${NPMRC_LIMIT} bytes, not an .npmrc`);
  return parseNpmrc(readFileSync(path, 'utf8'), env);
}

/** A workspaces glob as npm's map-workspaces matches it against a relative path (`*`, `**`, `?`). */
function globMatches(pattern: string, path: string): boolean {
  const clean = pattern.replace(/^\.\//, '').replace(/\/+$/, '');
  const regex = clean
    .split('/')
    .map((part) => (part === '**' ? '(?:[^/]+/)*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]') + '/'))
    .join('');
  return new RegExp(`^${regex}$`).test(`${path}/`);
}

/** The `workspaces` globs of a package.json (an array, or yarn's `{ packages: [...] }`); none when unreadable. */
function workspaceGlobs(manifest: string): string[] {
  try {
    const stat = statSync(manifest);
    if (!stat.isFile() || stat.size > NPMRC_LIMIT) return [];
    const workspaces = JSON.parse(readFileSync(manifest, 'utf8')).workspaces;
    const globs = Array.isArray(workspaces) ? workspaces : workspaces?.packages;
    return Array.isArray(globs) ? globs.filter((glob): glob is string => typeof glob === 'string') : [];
  } catch {
    return [];
  }
}

/**
 * npm's project directory (@npmcli/config's localPrefix): the nearest ancestor holding a
 * package.json or node_modules (else the start); but when an ancestor above it has a package.json
 * whose `workspaces` include it, that workspace root, whose .npmrc npm then reads (as `npm prefix`
 * says in a workspace member).
 */
function localPrefix(start: string): string {
  let found = resolve(start);
  for (let dir = found; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) || existsSync(join(dir, 'node_modules'))) {
      found = dir;
      break;
    }
    if (dirname(dir) === dir) return found;
  }
  if (dirname(found) === found) return found;
  for (let dir = dirname(found); ; dir = dirname(dir)) {
    const member = relative(dir, found).split(sep).join('/');
    if (workspaceGlobs(join(dir, 'package.json')).some((glob) => globMatches(glob, member))) return dir;
    if (dirname(dir) === dir) return found;
  }
}

function envValue(env: NodeJS.ProcessEnv, key: string): string | undefined {
  // npm reads npm_config_* case-insensitively; the last one set wins as in npm's own loop.
  let found: string | undefined;
  for (const [name, value] of Object.entries(env)) if (name.toLowerCase() === `npm_config_${key}` && value !== undefined) found = value;
  return found;
}

/**
 * The registry npm itself would use for `name` run from `cwd`: `--registry`, else the
 * environment (npm_config_registry, or `npm_config_@scope:registry`), else the project's .npmrc,
 * the user's (npm_config_userconfig or ~/.npmrc), the global one (npm_config_globalconfig or
 * PREFIX/etc/npmrc), each with `@scope:registry` before `registry`; else npm's default.
 */
export function configuredRegistry(options: { cwd?: string; name?: string; explicit?: string; env?: NodeJS.ProcessEnv } = {}): ConfiguredRegistry {
  const env = options.env ?? process.env;
  const scope = options.name?.startsWith('@') ? options.name.split('/')[0] : undefined;
  const keys = [...(scope ? [`${scope}:registry`] : []), 'registry'];
  const normalize = (registry: string, source: string): ConfiguredRegistry => {
    if (!/^https?:\/\/[^/\s]+(\/\S*)?$/.test(registry)) throw new UserError(`${source}: registry ${JSON.stringify(registry)} is not http(s)://host[/path]`);
    return { registry: registry.endsWith('/') ? registry : `${registry}/`, source };
  };
  if (options.explicit !== undefined) return normalize(options.explicit, '--registry');
  for (const key of keys) {
    const value = envValue(env, key);
    if (value) return normalize(value, `npm_config_${key}`);
  }
  const userconfig = envValue(env, 'userconfig') ?? join(env.HOME ?? homedir(), '.npmrc');
  const globalconfig = envValue(env, 'globalconfig') ?? join(envValue(env, 'prefix') ?? dirname(dirname(process.execPath)), 'etc', 'npmrc');
  const files = [join(localPrefix(options.cwd ?? process.cwd()), '.npmrc'), userconfig, globalconfig];
  for (const file of files) {
    const values = readNpmrc(file, env);
    for (const key of keys) {
      const value = values?.get(key);
      if (value) return normalize(value, `${file} (${key})`);
    }
  }
  return { registry: DEFAULT_NPM_REGISTRY, source: "npm's default" };
}
