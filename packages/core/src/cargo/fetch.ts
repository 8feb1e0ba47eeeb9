import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { readRegularText } from '../fs/regular-file';
import { prepareBuilder } from '../build/container-build';
import { runInContainer } from '../docker/docker';
import { isUserError, UserError } from '../errors';
import { fetchOnce } from '../fetch-phase/fetch-phase';
import { MAX_TOML_BYTES, parseToml, readTomlFile, string, table } from './toml-file';

/** Where fetched crates are cached by default: $XDG_CACHE_HOME/reprokit/crates. */
export function defaultCrateCacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'reprokit', 'crates');
}

/** The config cargo reads in the build root (`.cargo/config.toml`, else the legacy `.cargo/config`), if any. */
function buildRootConfig(buildRoot: string): string | undefined {
  for (const name of ['config.toml', 'config']) {
    const path = join(buildRoot, '.cargo', name);
    if (existsSync(path) && lstatSync(path).isFile()) return path;
  }
  return undefined;
}

export interface LockedCrates {
  /** `name version` of every package Cargo.lock takes from a registry or git. */
  fetched: string[];
  /** Whether the build root's config replaces sources with a directory (vendored crates): then nothing is fetched. */
  vendored: boolean;
  /** The fetched-crate cache key: Cargo.lock's sha256, and the source configuration's when there is one (it decides where crates come from and where cargo files them). */
  key: string;
}

/** What Cargo.lock in `buildRoot` needs from outside the repository. */
export function lockedCrates(buildRoot: string): LockedCrates {
  const lockPath = join(buildRoot, 'Cargo.lock');
  const lock = readTomlFile(lockPath, 16 * MAX_TOML_BYTES);
  const packages = lock.package === undefined ? [] : lock.package;
  if (!Array.isArray(packages)) throw new UserError(`${lockPath}: package: must be an array of tables ([[package]])`);
  const fetched: string[] = [];
  packages.forEach((entry, index) => {
    const pkg = table(entry);
    const source = string(pkg?.source);
    if (source === undefined) return;
    const name = string(pkg?.name);
    const version = string(pkg?.version);
    if (!name || !version) throw new UserError(`${lockPath}: package[${index}]: a package from ${source} needs a name and a version`);
    fetched.push(`${name} ${version}`);
  });
  const configPath = buildRootConfig(buildRoot);
  let vendored = false;
  const hash = createHash('sha256').update(readFileSync(lockPath));
  let key = hash.digest('hex');
  if (configPath) {
    const config = readRegularText(configPath, MAX_TOML_BYTES, 'a cargo configuration');
    const sources = table(parseToml(config, configPath).source) ?? {};
    vendored = Object.values(sources).some((source) => string(table(source)?.directory) !== undefined || string(table(source)?.['local-registry']) !== undefined);
    key += '-' + createHash('sha256').update(config).digest('hex').slice(0, 16);
  }
  return { fetched, vendored, key };
}

export interface CrateFetch {
  /** Absolute path of the Cargo workspace root (Cargo.lock's directory), mounted read-only. */
  buildRoot: string;
  image: string;
  envLock?: string;
  /** Docker network of the fetch container, e.g. `host`. */
  network: string;
  /** Absolute directory holding one cache per key. */
  cacheRoot: string;
  logPrefix: string;
  log?: (line: string) => void;
}

export interface FetchedCrates {
  /** The complete cache: a CARGO_HOME with `registry/` (and `git/`) filled by `cargo fetch --locked`. */
  dir: string;
  key: string;
  crates: number;
  reused: boolean;
}

/**
 * `cargo fetch --locked` in the pinned builder image, with network, non-root, the sources
 * read-only and one writable directory: a fresh cache that becomes `<cacheRoot>/<key>` only when
 * the fetch succeeded (cargo checks every downloaded crate against Cargo.lock's checksum). A
 * complete cache with the same key is reused. Undefined when there is nothing to fetch.
 */
export async function fetchCrates(fetch: CrateFetch): Promise<FetchedCrates | undefined> {
  const log = fetch.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const locked = lockedCrates(fetch.buildRoot);
  if (!locked.fetched.length || locked.vendored) return undefined;
  const cache = await fetchOnce({
    what: 'crates',
    count: locked.fetched.length,
    key: locked.key,
    cacheRoot: fetch.cacheRoot,
    prepare: () => prepareBuilder({ image: fetch.image, envLock: fetch.envLock, logPrefix: fetch.logPrefix, log }),
    how: `cargo fetch --locked, network ${fetch.network}`,
    logPrefix: fetch.logPrefix,
    log,
    fill: async (temp, { docker, imageId, user }) => {
      const lines: string[] = [];
      try {
        await runInContainer(docker, {
          image: imageId,
          cmd: ['sh', '-c', 'umask 022 && exec "$@"', 'sh', 'cargo', 'fetch', '--locked'],
          user,
          env: { CARGO_HOME: '/crates', CARGO_TERM_COLOR: 'never', HOME: '/home/build', TZ: 'UTC', LC_ALL: 'C' },
          mounts: [
            { host: fetch.buildRoot, container: '/src', readOnly: true },
            { host: temp, container: '/crates', readOnly: false },
          ],
          workdir: '/src',
          network: fetch.network,
          logPrefix: fetch.logPrefix,
          log: (line) => {
            lines.push(line);
            log(line);
          },
        });
      } catch (error) {
        // cargo: "failed to verify the checksum of `itoa v1.0.1 (registry `local`)`"
        const mismatch = lines.map((line) => /failed to verify the checksum of `([^`]+?)(?: \([^)]*\))?`/.exec(line)).find(Boolean);
        if (mismatch) throw new UserError(`${join(fetch.buildRoot, 'Cargo.lock')}: the crate ${mismatch[1]} downloaded has other bytes than the lock's checksum: refusing it (a changed or tampered registry)`);
        if (isUserError(error)) throw new UserError(`crate fetch failed: ${error.message.split('\n')[0]}`);
        throw error;
      }
    },
  });
  return { dir: cache.dir, key: locked.key, crates: locked.fetched.length, reused: cache.reused };
}
