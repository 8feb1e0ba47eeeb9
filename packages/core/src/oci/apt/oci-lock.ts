import type Docker from 'dockerode';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import type { LockedPackage } from '../../env/build-env';
import { fetchLockedDebs, type DebSources } from '../../env/debs/deb-cache';
import { prepareApt, releaseSuiteNames, suiteDropsVersions, DEFAULT_SUITES, type AptConfig } from '../../env/debs/apt-config';
import { recordSources } from '../../env/debs/deb-sources';
import { describedPackages } from '../../env/debs/locked-packages';
import { tarEntries } from '../../archive/tar-reader';
import { UserError } from '../../errors';
import { planDockerfile, type Stage } from '../dockerfile/dockerfile';
import type { RuntimeConfig } from '../layout/image-files';
import { BuildSession } from '../instructions/session';
import { readDockerfile } from '../build-image';
import { runAptInstalls, type AptInstall } from './apt-installs';
import { dockerfileLockPath, readDockerfileLockIfAny, serializeDockerfileLock, writeDockerfileLock, type DockerfileLock, type LockedInstall } from './dockerfile-lock';

export interface OciLockOptions {
  buildArgs?: Record<string, string>;
  /** Environment locks that build a FROM image docker lacks. */
  envLocks?: string[];
  /** Suites to resolve from; default: the existing lock's, else bookworm (the frozen release pocket). */
  suites?: string[];
  aptDir?: string;
  cacheDir?: string;
  sources?: DebSources;
  log?: (line: string) => void;
}

/** One install found in the Dockerfile, with what it is resolved against. */
interface FoundInstall {
  line: number;
  install: AptInstall;
  base: string;
  /** Installs earlier in the same stage (or the stages it is built FROM): already on the system. */
  before: FoundInstall[];
  locked?: LockedInstall;
}

/**
 * `reprokit oci lock`: every `apt-get install` / `apt install` in the Dockerfile's RUN
 * instructions, resolved as apt in that stage would resolve it (its base image's dpkg status plus
 * what earlier installs of the stage added, recommends as the command says) from reprokit's own
 * index of the lock's suites, then every .deb fetched and checked, into `<Dockerfile>.lock.json`.
 */
export async function lockDockerfile(docker: Docker, dockerfile: string, options: OciLockOptions = {}): Promise<{ lockPath: string; lock: DockerfileLock; installs: number }> {
  const log = options.log ?? (() => {});
  const where = relative(process.cwd(), dockerfile) || dockerfile;
  const text = readDockerfile(dockerfile, where);
  const lockPath = dockerfileLockPath(dockerfile);
  const previous = await readDockerfileLockIfAny(lockPath).catch(() => undefined);
  const suites = options.suites ?? previous?.suites ?? DEFAULT_SUITES;
  const validated = planDockerfile(text, where, { buildArgs: options.buildArgs });
  const scratch = mkdtempSync(join(tmpdir(), 'reprokit-oci-lock-'));
  const build = new BuildSession(docker, { dockerfile, context: dirname(dockerfile), sourceDateEpoch: 0, workDir: scratch, envLocks: options.envLocks, logPrefix: '', log }, where);
  try {
    const baseConfigs = new Map<string, RuntimeConfig>();
    for (const ref of validated.fromImages) baseConfigs.set(ref, (await docker.getImage(await build.pinnedImage(ref)).inspect()).Config as RuntimeConfig);
    const plan = planDockerfile(text, where, { buildArgs: options.buildArgs, baseConfig: (ref) => baseConfigs.get(ref) ?? {} });
    const found = findInstalls(plan.stages, baseConfigs, where);
    if (found.length === 0) {
      log(`${where}: no RUN installs Debian packages`);
    }
    const architecture = spawnSync('dpkg', ['--print-architecture'], { encoding: 'utf8' }).stdout.trim() as DockerfileLock['architecture'];
    const apt = found.length ? prepareApt(suites, architecture, { baseDir: options.aptDir, log }) : undefined;
    const statuses = new Map<string, string>();
    for (const item of found) {
      if (!statuses.has(item.base)) statuses.set(item.base, await dpkgStatus(docker, await build.pinnedImage(item.base), item.base));
      const status = withInstalled(statuses.get(item.base)!, item.before.flatMap((earlier) => earlier.locked!.packages as LockedPackage[]), apt!);
      const statusFile = join(scratch, `status-${item.line}`);
      writeFileSync(statusFile, status);
      const packages = resolve(item, statusFile, apt!, `${where}:${item.line}`);
      log(`${where}:${item.line}: ${item.install.command}: ${packages.length} packages`);
      item.locked = { line: item.line, command: item.install.command, base: item.base, packages };
    }
    const all = found.flatMap((item) => item.locked!.packages as LockedPackage[]);
    const debs = await fetchLockedDebs(all, lockPath, options.cacheDir, log, options.sources);
    const recorded = new Map((await recordSources(all, debs, { snapshot: options.sources?.snapshot, log })).map((p) => [p.sha256, p]));
    const lock: DockerfileLock = {
      lockVersion: 1,
      architecture,
      suites,
      installs: found.map((item) => ({ ...item.locked!, packages: item.locked!.packages.map((p) => recorded.get(p.sha256) ?? p) })),
    };
    writeDockerfileLock(lockPath, lock);
    // As committed: installs by line, packages by name.
    return { lockPath, lock: JSON.parse(serializeDockerfileLock(lock)) as DockerfileLock, installs: found.length };
  } finally {
    await build.cleanup();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** Every install of every stage, with its base image and the installs before it on the same system. */
function findInstalls(stages: Stage[], baseConfigs: Map<string, RuntimeConfig>, where: string): FoundInstall[] {
  const found: FoundInstall[] = [];
  const ends = new Map<number, { env: string[]; base?: string; installs: FoundInstall[] }>();
  for (const stage of stages) {
    const start =
      stage.from.kind === 'image'
        ? { env: [...(baseConfigs.get(stage.from.ref)?.Env ?? [])], base: stage.from.ref, installs: [] as FoundInstall[] }
        : stage.from.kind === 'stage'
          ? { ...ends.get(stage.from.index)!, env: [...ends.get(stage.from.index)!.env], installs: [...ends.get(stage.from.index)!.installs] }
          : { env: [] as string[], base: undefined, installs: [] as FoundInstall[] };
    for (const instruction of stage.instructions) {
      const at = `${where}:${instruction.line}`;
      if (instruction.op === 'ENV') {
        for (const [key, value] of instruction.vars) {
          const index = start.env.findIndex((item) => item.startsWith(`${key}=`));
          if (index >= 0) start.env[index] = `${key}=${value}`;
          else start.env.push(`${key}=${value}`);
        }
      }
      if (instruction.op !== 'RUN') continue;
      const installs = runAptInstalls(instruction, start.env, (message) => {
        throw new UserError(`${at}: ${message}`);
      });
      for (const install of installs) {
        if (!start.base) throw new UserError(`${at}: RUN ${install.command}: the stage is built FROM scratch, which has no dpkg`);
        if (install.packages.length === 0) continue;
        const item: FoundInstall = { line: instruction.line, install, base: start.base, before: [...start.installs] };
        found.push(item);
        start.installs.push(item);
      }
    }
    ends.set(stage.index, start);
  }
  return found;
}

/** /var/lib/dpkg/status of an image (empty when it has none: then every package is new). */
async function dpkgStatus(docker: Docker, image: string, ref: string): Promise<string> {
  const container = await docker.createContainer({ Image: image, Cmd: ['true'], NetworkDisabled: true, Labels: { 'dev.reprokit.run': 'probe' } });
  try {
    const stream = await container.getArchive({ path: '/var/lib/dpkg/status' }).catch(() => undefined);
    if (!stream) throw new UserError(`${ref} has no /var/lib/dpkg/status: apt cannot install into it (build FROM reprokit/debian-base, or an image with dpkg)`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > 256 << 20) throw new UserError(`${ref}: /var/lib/dpkg/status is over 256 MiB`);
      chunks.push(chunk);
    }
    for (const entry of tarEntries(Buffer.concat(chunks), `${ref}: /var/lib/dpkg/status`)) {
      if (entry.type === 'file') return entry.content().toString('utf8');
    }
    throw new UserError(`${ref}: /var/lib/dpkg/status is not a file`);
  } finally {
    await container.remove({ force: true }).catch(() => undefined);
  }
}

/** A dpkg status with `packages` installed on top (their stanzas from the index, replacing older ones). */
function withInstalled(status: string, packages: LockedPackage[], apt: AptConfig): string {
  if (packages.length === 0) return status;
  const names = new Set(packages.map((p) => p.name));
  const kept = status.split(/\n\n+/).filter((stanza) => stanza.trim() && !names.has(/^Package: (.*)$/m.exec(stanza)?.[1] ?? ''));
  const shown = run('apt-cache', ['show', ...packages.map((p) => `${p.name}=${p.version}`)], apt.env);
  const added = shown.stdout
    .split(/\n\n+/)
    .filter((stanza) => stanza.trim())
    .map((stanza) => stanza.replace(/^(Package: .*)$/m, '$1\nStatus: install ok installed'));
  return [...kept, ...added].map((stanza) => stanza.trim() + '\n').join('\n');
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', env, maxBuffer: 256 << 20 });
  if (result.error) throw new UserError(`cannot run ${command} (${result.error.message}): reprokit oci lock needs Debian's apt`);
  return result;
}

/**
 * What apt installs or upgrades for one install, as it would in the stage: its `Inst` lines
 * (`Inst name [old] (version origin/suite [arch])`) against the stage's status, then each version's
 * file, size and sha256 from the same index.
 */
function resolve(item: FoundInstall, statusFile: string, apt: AptConfig, at: string): LockedPackage[] {
  const result = run(
    'apt-get',
    ['-s', '-o', `Dir::State::status=${statusFile}`, '-o', `Dir::State::extended_states=${statusFile}.ext`, '-o', `APT::Install-Recommends=${item.install.noRecommends ? 'false' : 'true'}`, 'install', ...item.install.packages],
    apt.env,
  );
  if (result.status !== 0) {
    const why = result.stderr.split('\n').find((line) => line.startsWith('E:')) ?? result.stderr.trim();
    throw new UserError(`${at}: ${item.install.command}: apt cannot resolve it from ${apt.suites.join(', ')} on ${item.base}: ${why.replace(/^E:\s*/, '')}`);
  }
  const suiteNames = releaseSuiteNames(apt);
  const wanted = [...result.stdout.matchAll(/^Inst (\S+) (?:\[[^\]]*\] )?\((\S+) (.*) \[(\S+)\]\)/gm)].map(([, name, version, releases]) => {
    const suites = releases.split(', ').map((release) => suiteNames.get(release.slice(release.lastIndexOf('/') + 1))).filter((s): s is string => !!s);
    return { name, version, suite: suites.find((s) => !suiteDropsVersions(s)) ?? suites[0] };
  });
  if (wanted.length === 0) return [];
  const shown = run('apt-cache', ['show', ...wanted.map((p) => `${p.name}=${p.version}`)], apt.env);
  const found = describedPackages(shown.stdout);
  return wanted.map((p) => {
    const described = found.get(`${p.name}=${p.version}`);
    if (!described) throw new UserError(`${at}: apt-cache has no ${p.name}=${p.version} in ${apt.suites.join(', ')}`);
    return { ...described, ...(p.suite ? { suite: p.suite } : {}) };
  });
}
