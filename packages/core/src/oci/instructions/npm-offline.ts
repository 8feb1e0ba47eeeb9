import { mkdirSync } from 'node:fs';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createWriteStream } from 'node:fs';
import { tarEntries } from '../../archive/tar-reader';
import { readRegularFile } from '../../fs/regular-file';
import { configuredRegistry } from '../../npm/npm-config';
import { defaultNpmFetchCacheRoot, fetchNpmLock } from '../../npm/npm-ci-fetch';
import { MAX_PACKAGE_LOCK_BYTES } from '../../npm/package-lock';
import type { NpmInstall } from '../npm/npm-installs';
import { resolveInStage } from '../stage-files';
import type { Mount } from './apt-offline';
import type { Step } from './handler';
import type { BuildSession } from './session';
import type { StageState } from './stage-state';

/** Where a RUN's npm finds the filled cache: read-only (npm ci --offline only reads it). */
const NPM_CACHE = '/var/cache/reprokit-npm';

/**
 * What makes a RUN's `npm ci` (or lockfile `npm install`) work with no network: for each, the
 * stage's package-lock.json and package.json at its directory (what COPY put there), their
 * tarballs fetched once into an npm cache keyed by the lock (fetchNpmLock), mounted read-only,
 * and npm told to use only that cache and to write its logs and update check to /tmp, which is
 * not part of the layer. Only for this RUN: mounts and these variables are not in the image.
 */
export async function offlineNpm(build: BuildSession, state: StageState, installs: NpmInstall[], step: Step): Promise<{ mounts: Mount[]; env: Record<string, string> }> {
  const caches = new Set<string>();
  const registry = configuredRegistry({ cwd: build.input.context }).registry;
  for (const install of installs) {
    const lockPath = posix.join(install.dir, 'package-lock.json');
    const where = `${step.at}: ${lockPath}`;
    const lock = await stageFile(build, state, lockPath, step, `${install.command} needs a package-lock.json in ${install.dir}: COPY package.json package-lock.json there first (npm install on your machine writes the lock)`);
    const packageJson = await stageFile(build, state, posix.join(install.dir, 'package.json'), step, `${install.command} needs a package.json in ${install.dir}: COPY it there first`);
    const fetched = await fetchNpmLock({
      lock,
      packageJson,
      where,
      registry,
      network: build.input.fetchNetwork ?? 'host',
      cacheRoot: build.input.npmCacheRoot ?? defaultNpmFetchCacheRoot(),
      scratch: build.scratchPath('npm-lock'),
      logPrefix: build.input.logPrefix,
      log: build.log,
    });
    if (fetched) caches.add(fetched.dir);
  }
  // Two installs of one RUN with other locks would need two caches at one path: a rare case, told how to avoid.
  if (caches.size > 1) step.fail(`RUN runs npm ci for ${caches.size} different lockfiles: give each its own RUN`);
  const [cache] = caches;
  // The registry the cache was filled from: npm files tarballs by URL, and replaces the public registry's host with its configured one.
  const env: Record<string, string> = { npm_config_registry: registry, npm_config_offline: 'true', npm_config_update_notifier: 'false', npm_config_logs_dir: '/tmp/npm-logs', npm_config_audit: 'false', npm_config_fund: 'false' };
  if (!cache) return { mounts: [], env };
  return { mounts: [{ host: cache, container: NPM_CACHE, readOnly: true }], env: { ...env, npm_config_cache: NPM_CACHE } };
}

/** A regular file of the stage, bounded: from the COPY that added it, else from docker. */
async function stageFile(build: BuildSession, state: StageState, path: string, step: Step, missing: string): Promise<Buffer> {
  const stat = build.statOf(state);
  const resolved = await resolveInStage(path, stat);
  const node = await stat(resolved);
  if (!node) step.fail(missing);
  if (node.type !== 'file') step.fail(`${path} is not a regular file`);
  const added = state.added.get(resolved);
  if (added?.type === 'file') {
    if (added.size > MAX_PACKAGE_LOCK_BYTES) step.fail(`${path}: over ${MAX_PACKAGE_LOCK_BYTES >> 20} MiB`);
    return readRegularFile(added.path, MAX_PACKAGE_LOCK_BYTES);
  }
  const container = await build.probeContainer(state.fsImage!, state.pending);
  const archive = build.scratchPath('npm-file') + '.tar';
  mkdirSync(posix.dirname(archive), { recursive: true });
  await pipeline(await container.getArchive({ path: '/' + resolved }), createWriteStream(archive));
  for (const entry of tarEntries(archive, path, { safe: true })) {
    if (entry.type !== 'file') continue;
    if (entry.size > MAX_PACKAGE_LOCK_BYTES) step.fail(`${path}: over ${MAX_PACKAGE_LOCK_BYTES >> 20} MiB`);
    return entry.content();
  }
  step.fail(`${path} is not a regular file`);
}
