import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { BuildEnvLock, LockedPackage } from './build-env-lock-types';
import type { BuildEnvSpec } from './build-env-spec-types';
import { fetchLockedDebs, type DebSources } from './debs/deb-cache';
import { prepareApt, releaseSuiteNames, suiteDropsVersions, DEFAULT_SUITES, type AptConfig } from './debs/apt-config';
import { recordSources } from './debs/deb-sources';
import { describedPackages, orderedLockedPackages } from './debs/locked-packages';
import { UserError } from '../errors';
import { checkRelativePath } from '../fs/contained-path';
import { readJsonFile, writeFileAtomic } from '../manifest/json-file';
import { lockNpmPackages } from './npm/npm-env';
import { schemaChecker } from '../manifest/json-schema';
import { compareStrings } from '../manifest/manifest';

export type { BuildEnvLock, LockedPackage, LockedNpmPackage } from './build-env-lock-types';
export type { BuildEnvSpec } from './build-env-spec-types';

/**
 * Build environments are defined in the workspace as `<dir>/env.json` (package names) and locked
 * into `<dir>/env.lock.json` (every package of the closure by version and sha256, from apt's index):
 * the idea of kpcyrd's repro-env, on Debian packages.
 */
export const ENV_SPEC_FILE = 'env.json';
export const ENV_LOCK_FILE = 'env.lock.json';
export const DEFAULT_BUILD_USER = '1000:1000';

const checkSpec = schemaChecker<BuildEnvSpec>('build-env-spec.schema.json');
const checkLock = schemaChecker<BuildEnvLock>('build-env-lock.schema.json');

export async function readBuildEnvSpec(path: string): Promise<BuildEnvSpec> {
  return checkSpec(await readJsonFile(path), path);
}

export async function readBuildEnvLock(path: string): Promise<BuildEnvLock> {
  const lock = checkLock(await readJsonFile(path), path);
  // The links are created as root in the image's root directory: a key like ../../etc/x must not get there.
  for (const link of Object.keys(lock.links)) checkRelativePath(link, `${path}: $.links[${JSON.stringify(link)}]`);
  return lock;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C' }): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 256 << 20 });
  if (result.error) throw new UserError(`cannot run ${command} (${result.error.message}): reprokit env needs Debian's apt`);
  return result;
}

interface ResolvedPackage {
  name: string;
  version: string;
  arch: string;
  suite: string;
}

/**
 * The closure of the spec's packages as apt would install them on an empty system (an empty dpkg
 * status file, no recommends), from reprokit's own index of the spec's suites. Each package's
 * suite is the one apt names for the version; where several have it, the first that does not drop
 * superseded versions (a frozen release pocket outlives a security suite's copy of the same file).
 */
function resolveClosure(spec: BuildEnvSpec, specPath: string, apt: AptConfig): ResolvedPackage[] {
  const result = run('apt-get', ['-s', 'install', ...spec.packages], apt.env);
  if (result.status !== 0) {
    const why = result.stderr.split('\n').find((line) => line.startsWith('E:')) ?? result.stderr.trim();
    throw new UserError(`${specPath}: $.packages: apt cannot resolve them from ${apt.suites.join(', ')}: ${why.replace(/^E:\s*/, '')}`);
  }
  const suiteNames = releaseSuiteNames(apt);
  return [...result.stdout.matchAll(/^Inst (\S+) \((\S+) (.*) \[(\S+)\]\)/gm)].map(([, name, version, releases, arch]) => {
    // `Debian:12.15/oldstable, Debian-Security:12/oldstable-security`: origin:version/suite, comma separated.
    const suites = releases.split(', ').map((release) => suiteNames.get(release.slice(release.lastIndexOf('/') + 1))).filter((s): s is string => !!s);
    const suite = suites.find((s) => !suiteDropsVersions(s)) ?? suites[0];
    if (!suite) throw new UserError(`${specPath}: apt names ${name} ${version} from ${releases}, none of the suites ${apt.suites.join(', ')}`);
    return { name, version, arch, suite };
  });
}

/** Filename, size and sha256 of exact package versions, from `apt-cache show` over the same index. */
function describePackages(wanted: ResolvedPackage[], apt: AptConfig): LockedPackage[] {
  const result = run('apt-cache', ['show', ...wanted.map((p) => `${p.name}=${p.version}`)], apt.env);
  if (result.status !== 0) throw new UserError(`apt-cache show failed: ${result.stderr.trim()}`);
  const found = describedPackages(result.stdout);
  return wanted.map((p) => {
    const described = found.get(`${p.name}=${p.version}`);
    if (!described || described.version !== p.version) throw new UserError(`apt-cache has no ${p.name}=${p.version} in ${apt.suites.join(', ')}`);
    return { ...described, suite: p.suite };
  });
}

/** The lock as committed: keys in schema order, packages sorted by name. */
export function serializeBuildEnvLock(lock: BuildEnvLock): string {
  return JSON.stringify(orderedLock(lock, true), null, 2) + '\n';
}

/**
 * The lock as the image carries it (/etc/reprokit/env.lock.json): what decides the image's
 * content, without the image ID (it cannot contain itself) and without where the .debs can be
 * fetched from (suites, sha1, snapshot URL). Those say where, not what: the sha256 already fixes every
 * byte, so recording a new source (snapshot's URL once it can be asked, a move to another mirror)
 * must not give another image, and every pin stays valid.
 */
export function imageLockText(lock: BuildEnvLock): string {
  const { imageId: _id, ...content } = orderedLock(lock, false);
  return JSON.stringify(content, null, 2) + '\n';
}

function orderedLock(lock: BuildEnvLock, withSources: boolean): BuildEnvLock {
  const sorted = (record: Record<string, string>) => Object.fromEntries(Object.entries(record).sort(([a], [b]) => compareStrings(a, b)));
  return {
    lockVersion: 1,
    name: lock.name,
    architecture: lock.architecture,
    ...(withSources && lock.suites ? { suites: lock.suites } : {}),
    packages: orderedLockedPackages(lock.packages, withSources),
    // In the order given: a later package's bins may not shadow an earlier one's (refused), but the
    // order is the spec's, not a sort that could hide a change.
    ...(lock.npm
      ? {
          npm: lock.npm.map((p) => ({
            name: p.name,
            version: p.version,
            integrity: p.integrity,
            size: p.size,
            ...(withSources && p.tarball ? { tarball: p.tarball } : {}),
          })),
        }
      : {}),
    links: sorted(lock.links),
    env: sorted(lock.env),
    user: lock.user,
    ...(lock.maintainerScripts ? { maintainerScripts: true } : {}),
    ...(lock.sourceDateEpoch !== undefined ? { sourceDateEpoch: lock.sourceDateEpoch } : {}),
    ...(lock.cmd ? { cmd: lock.cmd } : {}),
    ...(lock.imageId ? { imageId: lock.imageId } : {}),
  };
}

/**
 * `reprokit env lock`: resolves `env.json` into `env.lock.json` beside it, from the suites the spec
 * names (default: Debian 12's frozen release pocket) with reprokit's own apt index, and its npm
 * packages by the registry's integrity (each tarball downloaded and checked). Every .deb of
 * the closure is then fetched and verified (into the .deb cache the build uses anyway) to record its
 * sha1 and lasting snapshot URL: apt's index has no sha1, and snapshot addresses files by it.
 */
export async function lockBuildEnv(
  specPath: string,
  options: { aptDir?: string; refresh?: boolean; snapshot?: string; cacheDir?: string; sources?: DebSources; log?: (line: string) => void } = {},
): Promise<{ lockPath: string; lock: BuildEnvLock; moving: Map<string, number> }> {
  const spec = await readBuildEnvSpec(specPath);
  const suites = spec.suites ?? DEFAULT_SUITES;
  const architecture = run('dpkg', ['--print-architecture']).stdout.trim() as BuildEnvLock['architecture'];
  const apt = prepareApt(suites, architecture, { baseDir: options.aptDir, refresh: options.refresh, log: options.log });
  const lockPath = join(dirname(resolve(specPath)), ENV_LOCK_FILE);
  const packages = describePackages(resolveClosure(spec, specPath, apt), apt);
  const debs = await fetchLockedDebs(packages, lockPath, options.cacheDir, options.log, options.sources);
  const lock: BuildEnvLock = {
    lockVersion: 1,
    name: spec.name,
    architecture,
    suites,
    packages: await recordSources(packages, debs, { snapshot: options.snapshot ?? options.sources?.snapshot, log: options.log }),
    ...(spec.npm ? { npm: await lockNpmPackages(spec.npm, specPath, { log: options.log }) } : {}),
    links: spec.links ?? {},
    env: spec.env ?? {},
    user: spec.user ?? DEFAULT_BUILD_USER,
    ...(spec.maintainerScripts ? { maintainerScripts: true } : {}),
    ...(spec.sourceDateEpoch !== undefined ? { sourceDateEpoch: spec.sourceDateEpoch } : {}),
    ...(spec.cmd ? { cmd: spec.cmd } : {}),
  };
  writeFileAtomic(lockPath, serializeBuildEnvLock(lock));
  // Said once: these files vanish from Debian within days of a newer version.
  const moving = new Map<string, number>();
  for (const p of lock.packages) if (p.suite && suiteDropsVersions(p.suite)) moving.set(p.suite, (moving.get(p.suite) ?? 0) + 1);
  if (moving.size) {
    const counts = [...moving].map(([suite, n]) => `${n} from ${suite}`).join(', ');
    options.log?.(
      `warning: ${counts}: ${[...moving.keys()].join(' and ')} ${moving.size > 1 ? 'drop' : 'drops'} superseded versions within days, so a fresh machine will soon not find them; ` +
        `keep them buildable with \`reprokit env vault push ${lockPath} --registry REGISTRY\` (or \`reprokit env fetch ${lockPath} --to DIR\`), or lock from frozen suites only`,
    );
  }
  return { lockPath, lock, moving };
}

/**
 * The environment lock among `locks` (env.lock.json paths) that records the image ID `digest`, so a
 * pinned image docker does not have can be built again; undefined when none does.
 */
export function findEnvLockForImage(digest: string, locks: string[]): string | undefined {
  for (const path of locks) {
    try {
      if ((JSON.parse(readFileSync(path, 'utf8')) as { imageId?: string }).imageId === digest) return path;
    } catch {
      // Not a lock: look further.
    }
  }
  return undefined;
}
