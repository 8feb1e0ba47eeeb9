import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { prepareBuilder } from '../build/container-build';
import { runInContainer } from '../docker/docker';
import { isUserError, UserError } from '../errors';
import { fetchOnce } from '../fetch-phase/fetch-phase';
import { checkDestination, privateNetworkAllowedByEnv, RefusedLocationError } from '../net/address-policy';
import { defaultNodeBuilder } from './npm-pack';
import { npmFetchKey, readPackageLock } from './package-lock';

/** Where npm caches filled from lockfiles are kept by default: $XDG_CACHE_HOME/reprokit/npm-ci. */
export function defaultNpmFetchCacheRoot(): string {
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'reprokit', 'npm-ci');
}

export interface NpmLockFetch {
  /** package-lock.json's and package.json's bytes. */
  lock: Buffer;
  packageJson: Buffer;
  /** How messages name the lock: `Dockerfile:12: /app/package-lock.json`. */
  where: string;
  /** The registry npm is configured with (the workspace's configuration: never refused). */
  registry: string;
  /** Docker network of the fetch container, e.g. `host`. */
  network: string;
  cacheRoot: string;
  /** Scratch directory for the lock copy the fetch runs on. */
  scratch: string;
  allowPrivateNetwork?: boolean;
  logPrefix: string;
  log: (line: string) => void;
}

export interface FetchedNpmCache {
  /** An npm cache (`_cacache`) holding every tarball the lock names, each checked against its integrity. */
  dir: string;
  key: string;
  packages: number;
  reused: boolean;
}

/**
 * The npm cache a lockfile's `npm ci` needs offline. Filled by the real npm: `npm ci
 * --ignore-scripts` in reprokit's node-builder, with network, on a copy of just package.json and
 * package-lock.json (npm checks every tarball against the lock's integrity and fails on a
 * mismatch); only its cache is kept. Every `resolved` URL is a stranger's: one on a loopback,
 * private or link-local address is refused unless allowed, the configured registry excepted.
 * Undefined when the lock downloads nothing.
 */
export async function fetchNpmLock(input: NpmLockFetch): Promise<FetchedNpmCache | undefined> {
  const lock = readPackageLock(input.lock, input.where);
  if (lock.tarballs.length === 0) return undefined;
  const key = npmFetchKey(lock, input.registry);
  const allowPrivate = input.allowPrivateNetwork ?? privateNetworkAllowedByEnv();
  const cache = await fetchOnce({
    what: 'npm packages',
    count: lock.tarballs.length,
    key,
    cacheRoot: input.cacheRoot,
    prepare: async () => {
      if (!allowPrivate) await checkResolved(lock.tarballs, input.registry, input.where);
      const builder = defaultNodeBuilder();
      return prepareBuilder({ image: builder.image, envLock: builder.envLock, logPrefix: input.logPrefix, log: input.log });
    },
    how: `npm ci --ignore-scripts in the node-builder, network ${input.network}`,
    logPrefix: input.logPrefix,
    log: input.log,
    fill: async (dir, { docker, imageId, user }) => {
      mkdirSync(input.scratch, { recursive: true });
      writeFileSync(join(input.scratch, 'package.json'), input.packageJson);
      writeFileSync(join(input.scratch, 'package-lock.json'), input.lock);
      const mounts = [
        { host: input.scratch, container: '/src', readOnly: true },
        { host: dir, container: '/cache', readOnly: false },
      ];
      // A machine behind a TLS-inspecting proxy trusts its CA through NODE_EXTRA_CA_CERTS: npm in the container needs it too.
      const extraCa = process.env.NODE_EXTRA_CA_CERTS;
      const env: Record<string, string> = { HOME: '/home/build', TZ: 'UTC', LC_ALL: 'C', npm_config_registry: input.registry, npm_config_update_notifier: 'false', npm_config_logs_dir: '/tmp/npm-logs' };
      if (extraCa && existsSync(extraCa)) {
        mounts.push({ host: extraCa, container: '/etc/reprokit-extra-ca.crt', readOnly: true });
        env.NODE_EXTRA_CA_CERTS = '/etc/reprokit-extra-ca.crt';
      }
      const lines: string[] = [];
      try {
        await runInContainer(docker, {
          image: imageId,
          cmd: ['sh', '-c', 'umask 022 && mkdir /tmp/project && cp /src/package.json /src/package-lock.json /tmp/project/ && cd /tmp/project && exec npm ci --ignore-scripts --no-audit --no-fund --cache /cache'],
          user,
          env,
          mounts,
          workdir: '/tmp',
          network: input.network,
          logPrefix: input.logPrefix,
          log: (line) => {
            lines.push(line);
            input.log(line);
          },
        });
      } catch (error) {
        // npm: "npm error code EINTEGRITY" / "sha512-… integrity checksum failed when using sha512: wanted … but got …"
        const integrity = lines.find((line) => /EINTEGRITY|integrity checksum failed/.test(line));
        if (integrity) throw new UserError(`${input.where}: a downloaded tarball has other bytes than the lock's integrity (${integrity.replace(/^.*?npm error\s*/, '').trim()}): refusing it (a changed or tampered registry)`);
        const reason = lines.filter((line) => /npm error/.test(line)).slice(0, 2).map((line) => line.replace(/^.*?npm error\s*/, '').trim()).join('; ');
        if (isUserError(error)) throw new UserError(`${input.where}: npm ci (the fetch, with network) failed: ${reason || error.message.split('\n')[0]}`);
        throw error;
      }
    },
  });
  return { dir: cache.dir, key, packages: lock.tarballs.length, reused: cache.reused };
}

/** Refuses a `resolved` URL on a non-public address (the configured registry's host excepted), before anything is asked. */
export async function checkResolved(tarballs: { resolved?: string; field: string }[], registry: string, where: string): Promise<void> {
  const trusted = new URL(registry).host;
  const checked = new Set<string>();
  for (const { resolved, field } of tarballs) {
    if (!resolved) continue;
    let url: URL;
    try {
      url = new URL(resolved);
    } catch {
      throw new UserError(`${where}: ${field}.resolved: ${resolved}: not a URL`);
    }
    if (url.host === trusted || checked.has(url.host)) continue;
    checked.add(url.host);
    try {
      await checkDestination(resolved);
    } catch (error) {
      if (error instanceof RefusedLocationError) throw new UserError(`${where}: ${field}.resolved: ${error.message.split('\n')[0]}`);
      throw error;
    }
  }
}
