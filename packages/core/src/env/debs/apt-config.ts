import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../errors';
import { writeFileAtomic } from '../../manifest/json-file';

/**
 * `env lock` resolves with an apt configuration of its own: its own sources list (the suites the
 * spec names, nothing of the host's), lists directory, empty dpkg status and no preferences. So a
 * lock depends on the spec and the archive, not on the machine that made it.
 */

/** The suites an env.json without `suites` locks from: Debian 12's release pocket, frozen since 12.15. */
export const DEFAULT_SUITES = ['bookworm'];
export const DEBIAN_ARCHIVE = 'http://deb.debian.org/debian';
export const DEBIAN_SECURITY_ARCHIVE = 'http://deb.debian.org/debian-security';
const KEYRING = '/usr/share/keyrings/debian-archive-keyring.gpg';
/** A moving suite's index is asked again when older than this; a frozen one only when missing. */
const MOVING_INDEX_MAX_AGE_MS = 60 * 60 * 1000;

/**
 * Suites that keep only the newest version of each package and delete the superseded file within
 * days (security, updates, backports, proposed-updates). A release pocket such as `bookworm` stops
 * changing with its final point release and stays on the mirrors for years.
 */
export function suiteDropsVersions(suite: string): boolean {
  return /-(security|updates|backports|proposed-updates)$/.test(suite);
}

/**
 * The archive a suite's files are served from: Debian's security archive for `*-security`, the
 * main archive otherwise; REPROKIT_DEBIAN_SECURITY_MIRROR / REPROKIT_DEBIAN_MIRROR name another
 * server with the same layout (a mirror, or archive.debian.org once a release is archived).
 */
export function suiteArchive(suite: string): string {
  const security = suite.endsWith('-security');
  const override = process.env[security ? 'REPROKIT_DEBIAN_SECURITY_MIRROR' : 'REPROKIT_DEBIAN_MIRROR'];
  const base = (override || (security ? DEBIAN_SECURITY_ARCHIVE : DEBIAN_ARCHIVE)).replace(/\/+$/, '');
  if (!/^https?:\/\/[^/\s]+(\/\S*)?$/.test(base)) {
    throw new UserError(`${security ? 'REPROKIT_DEBIAN_SECURITY_MIRROR' : 'REPROKIT_DEBIAN_MIRROR'} ${JSON.stringify(base)}: give http(s)://host[/path]`);
  }
  return base;
}

/** The URL of a locked file in its suite's archive (`pool/…` stays valid as long as the suite has the version). */
export function poolUrl(suite: string, filename: string): string {
  return `${suiteArchive(suite)}/${filename}`;
}

export interface AptConfig {
  /** The directory holding apt.conf, the sources list, the lists and an empty status. */
  dir: string;
  /** The environment to run apt-get/apt-cache with (APT_CONFIG, LC_ALL=C). */
  env: NodeJS.ProcessEnv;
  suites: string[];
}

export function defaultAptDir(): string {
  return join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'reprokit', 'apt');
}

function sourcesList(suites: string[], architecture: string): string {
  return suites.map((suite) => `deb [arch=${architecture} signed-by=${KEYRING}] ${suiteArchive(suite)} ${suite} main\n`).join('');
}

/**
 * The apt configuration for `suites`, its index fetched when missing (or, for a suite that moves,
 * older than an hour, or when `refresh` is asked). One directory per sources list, so two specs
 * with the same suites share the index.
 */
export function prepareApt(suites: string[], architecture: string, options: { baseDir?: string; refresh?: boolean; log?: (line: string) => void } = {}): AptConfig {
  if (!existsSync(KEYRING)) throw new UserError(`${KEYRING} is missing: install Debian's archive keys (apt-get install debian-archive-keyring)`);
  const list = sourcesList(suites, architecture);
  const dir = join(options.baseDir ?? defaultAptDir(), createHash('sha256').update(list).digest('hex').slice(0, 16));
  for (const sub of ['lists/partial', 'cache/archives/partial', 'sources.list.d', 'preferences.d', 'apt.conf.d']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileAtomic(join(dir, 'sources.list'), list);
  if (!existsSync(join(dir, 'status'))) writeFileAtomic(join(dir, 'status'), '');
  const setting = (key: string, value: string) => `${key} ${JSON.stringify(value)};\n`;
  writeFileAtomic(
    join(dir, 'apt.conf'),
    setting('Dir::Etc::SourceList', join(dir, 'sources.list')) +
      setting('Dir::Etc::SourceParts', join(dir, 'sources.list.d')) +
      setting('Dir::Etc::Preferences', join(dir, 'preferences')) +
      setting('Dir::Etc::PreferencesParts', join(dir, 'preferences.d')) +
      setting('Dir::State::Lists', join(dir, 'lists')) +
      setting('Dir::State::status', join(dir, 'status')) +
      setting('Dir::State::extended_states', join(dir, 'extended_states')) +
      setting('Dir::Cache', join(dir, 'cache')) +
      setting('APT::Architecture', architecture) +
      `APT::Architectures { ${JSON.stringify(architecture)}; };\n` +
      setting('APT::Install-Recommends', 'false') +
      setting('APT::Default-Release', '') +
      setting('Acquire::Languages', 'none') +
      // The index lives in the user's cache, which apt's unprivileged download user cannot enter.
      (process.getuid?.() === 0 ? setting('APT::Sandbox::User', 'root') : ''),
  );
  const config: AptConfig = { dir, env: { ...process.env, APT_CONFIG: join(dir, 'apt.conf'), LC_ALL: 'C' }, suites };
  const stale = suites.some((suite) => {
    const release = releaseFile(dir, suite);
    if (!release) return true;
    return suiteDropsVersions(suite) && Date.now() - statSync(release).mtimeMs > MOVING_INDEX_MAX_AGE_MS;
  });
  if (stale || options.refresh) {
    options.log?.(`apt-get update for ${suites.join(', ')} (reprokit's own index in ${dir})`);
    const result = spawnSync('apt-get', ['update', '-q'], { encoding: 'utf8', env: config.env });
    if (result.error) throw new UserError(`cannot run apt-get (${result.error.message}): reprokit env lock needs Debian's apt`);
    const failed = [...result.stdout.split('\n'), ...result.stderr.split('\n')].filter((line) => /^(E:|Err:)/.test(line));
    const missing = suites.filter((suite) => !releaseFile(dir, suite));
    if (result.status !== 0 || missing.length) {
      throw new UserError(`apt-get update for suites ${suites.join(', ')} failed${missing.length ? ` (no index for ${missing.join(', ')})` : ''}: ${failed[0]?.replace(/^(E:|Err:\S*)\s*/, '') ?? `exit ${result.status}`}`);
    }
  }
  return config;
}

/** The `…_dists_<suite>_InRelease` (or `Release`) file apt keeps for a suite, if any. */
function releaseFile(dir: string, suite: string): string | undefined {
  const lists = join(dir, 'lists');
  const name = readdirSync(lists).find((file) => file.endsWith(`_dists_${suite}_InRelease`) || file.endsWith(`_dists_${suite}_Release`));
  return name && join(lists, name);
}

/**
 * What apt's `Inst` lines call a suite (the Release file's `Suite:`, e.g. `oldstable-security`)
 * mapped to the suite the sources list names (its `Codename:`-based name, e.g. `bookworm-security`).
 */
export function releaseSuiteNames(config: AptConfig): Map<string, string> {
  const names = new Map<string, string>();
  for (const suite of config.suites) {
    const release = releaseFile(config.dir, suite);
    if (!release) continue;
    const head = readFileSync(release, 'utf8').slice(0, 4096);
    const field = (name: string) => new RegExp(`^${name}: (\\S+)$`, 'm').exec(head)?.[1];
    for (const value of [field('Suite'), field('Codename'), suite]) if (value) names.set(value, suite);
  }
  return names;
}
