import type Docker from 'dockerode';
import { chmodSync, existsSync, lstatSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';
import { prepareBuilder } from '../build/container-build';
import { runInContainer } from '../docker/docker';
import { isUserError, UserError } from '../errors';
import { describeDifference } from './compare';
import { COPY_AND_BUILD_SCRIPT, sourceCopyList } from './source-copy';
import { controlConditions, VARIATIONS, type BuildConditions, type ImageFacts, type Variation, type VariationName } from './variations';

/** A build run in a pinned image as a command: what `elf` (cargo or a declared command) runs. */
export interface VaryCommandBuild {
  /** Names the build in the report, e.g. `asdf:elf`. */
  label: string;
  /** The project, copied into each build's fresh source directory. */
  projectDir: string;
  image: string;
  envLock?: string;
  command: string[];
  /** The build's own environment (e.g. CARGO_HOME); it wins over the varied conditions. */
  env?: Record<string, string>;
  /** The artifacts, by name, as paths below /out. */
  artifacts: { name: string; path: string }[];
  sourceDateEpoch: number;
  /** Top-level entries of the project not copied: outputs and work directories. */
  exclude: string[];
  /** Host directory for the builds' outputs (emptied first; removed when everything reproduces). */
  workDir: string;
}

export interface VaryOptions {
  /** Which variations to try; default all. */
  variations?: readonly VariationName[];
  logPrefix: string;
  log: (line: string) => void;
  /** Builds run at the same time (default 2: a control and a varied build side by side). */
  parallel?: number;
}

export interface VariationOutcome {
  variation: VariationName;
  /** What differs from the control build's artifact. */
  difference: string;
}

export interface ArtifactVerdict {
  name: string;
  reproducible: boolean;
  /** Under all variations at once, what differs (when something does). */
  allAtOnce?: string;
  /** The variations that change the artifact alone, with what differs. */
  culprits: VariationOutcome[];
  /** When no single variation explains the difference: why (combination, or plain nondeterminism). */
  note?: string;
  /** Set when the artifact was not varied at all: why (e.g. reprokit makes it on the host, outside any build). */
  notVaried?: string;
}

export interface VaryResult {
  build: string;
  image: string;
  /** The ID docker knows the builder image by (`sha256:…`). */
  imageId: string;
  applied: { name: VariationName; description: string }[];
  notApplied: { name: VariationName; reason: string }[];
  artifacts: ArtifactVerdict[];
  /** Where the differing builds' outputs were kept, when something differs. */
  keptIn?: string;
}

const LIBFAKETIME_PATHS = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'];

/** Looks into the builder image for what the variations need. */
async function probeImage(docker: Docker, imageId: string, user: string, logPrefix: string): Promise<ImageFacts> {
  const lines: string[] = [];
  const script = [
    ...LIBFAKETIME_PATHS.map((path) => `[ -e ${path} ] && echo faketime ${path}`),
    '[ -d /usr/lib/locale/C.utf8 ] && echo locale C.UTF-8',
    'command -v setarch >/dev/null && echo setarch',
    'true',
  ].join('\n');
  await runInContainer(docker, { image: imageId, cmd: ['sh', '-c', script], user, env: {}, mounts: [], workdir: '/', logPrefix, log: (line) => lines.push(line.slice(logPrefix.length)) });
  const info = (await docker.info()) as { NCPU?: number };
  return {
    libfaketime: lines.find((line) => line.startsWith('faketime '))?.slice('faketime '.length),
    utf8Locale: lines.includes('locale C.UTF-8') ? 'C.UTF-8' : undefined,
    setarch: lines.includes('setarch'),
    cpus: Math.max(1, info.NCPU ?? 1),
    user,
  };
}

/** Runs `jobs` with at most `limit` at a time, results in order. */
async function pool<T>(jobs: (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = new Array(jobs.length);
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const index = next++;
      results[index] = await jobs[index]();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, jobs.length) }, worker));
  return results;
}

/** A build's outcome: its output directory, or why it failed. */
type BuildOutcome = { out: string } | { failed: string };

/**
 * Builds the project under control conditions and under every applicable variation at once; when
 * an artifact differs, under each variation alone, to name the ones that change it. Every build is
 * a fresh container of the same pinned image with a fresh copy of the source.
 */
export async function varyCommandBuild(build: VaryCommandBuild, options: VaryOptions): Promise<VaryResult> {
  for (const artifact of build.artifacts) checkArtifactPath(artifact.path, `${build.label}: artifact`);
  const { docker, imageId, user } = await prepareBuilder({ image: build.image, envLock: build.envLock, logPrefix: options.logPrefix, log: options.log });
  const facts = await probeImage(docker, imageId, user, options.logPrefix);
  const selected = VARIATIONS.filter((v) => !options.variations || options.variations.includes(v.name));
  const applied: Variation[] = [];
  const notApplied: VaryResult['notApplied'] = [];
  for (const variation of selected) {
    const reason = variation.unavailable(facts);
    if (reason) notApplied.push({ name: variation.name, reason });
    else applied.push(variation);
  }
  rmSync(build.workDir, { recursive: true, force: true });
  mkdirSync(build.workDir, { recursive: true });
  const lists = {
    name: writeList(build, 'name'),
    reverse: writeList(build, 'reverse'),
  };

  const runBuild = async (label: string, conditions: BuildConditions): Promise<BuildOutcome> => {
    const out = join(build.workDir, label);
    mkdirSync(out, { recursive: true });
    // The build user (varied too) must be able to write here, whatever the host user is.
    chmodSync(out, 0o777);
    const [uid, gid] = conditions.user.split(':');
    const prefix = `${options.logPrefix}[${label}] `;
    options.log(`${prefix}building`);
    try {
      await runInContainer(docker, {
        image: imageId,
        cmd: ['sh', '-c', COPY_AND_BUILD_SCRIPT, 'sh', conditions.sourcePath, conditions.umask, ...conditions.wrapper, ...build.command],
        user: conditions.user,
        env: { ...conditions.env, ...build.env },
        mounts: [
          { host: build.projectDir, container: '/reprokit/in', readOnly: true },
          { host: lists[conditions.fileOrder], container: '/reprokit/copy-list', readOnly: true },
          { host: out, container: '/out', readOnly: false },
        ],
        workdir: '/',
        tmpfs: { [conditions.sourcePath]: `rw,exec,uid=${uid},gid=${gid},mode=0755` },
        hostname: conditions.hostname,
        domainname: conditions.domainname,
        cpuset: conditions.cpuset,
        logPrefix: prefix,
        log: options.log,
      });
      return { out };
    } catch (error) {
      if (!isUserError(error)) throw error;
      // runInContainer names the whole command (here the copy script); name the build's instead.
      const exit = /failed with exit (\d+)/.exec(error.message)?.[1];
      const last = error.message.split('\n').at(-1)?.trim();
      return { failed: exit ? `\`${build.command.join(' ')}\` failed with exit ${exit}${last && error.message.includes('\n') ? ` (last line: ${last})` : ''}` : error.message.split('\n')[0] };
    }
  };
  const compare = (control: string, outcome: BuildOutcome, artifact: { path: string }): string | undefined => {
    if ('failed' in outcome) return `the build failed: ${outcome.failed}`;
    const varied = artifactFile(outcome.out, artifact.path);
    if (!varied) return `the build left no regular file /out/${artifact.path}`;
    return describeDifference(control, varied);
  };

  const parallel = Math.max(1, options.parallel ?? 2);
  const under = (variations: readonly Variation[]) => {
    const conditions = controlConditions(facts, build.sourceDateEpoch);
    for (const variation of variations) variation.apply(conditions, facts);
    return conditions;
  };
  const [control, all] = await pool([() => runBuild('control', under([])), () => runBuild('all-variations', under(applied))], parallel);
  if ('failed' in control) throw new UserError(`${build.label}: the control build failed: ${control.failed}`);
  const controlFile = (artifact: { path: string }) => {
    const path = artifactFile(control.out, artifact.path);
    if (!path) throw new UserError(`${build.label}: the control build left no regular file /out/${artifact.path}`);
    return path;
  };
  const verdicts: ArtifactVerdict[] = build.artifacts.map((artifact) => {
    const allAtOnce = compare(controlFile(artifact), all, artifact);
    return { name: artifact.name, reproducible: allAtOnce === undefined, allAtOnce, culprits: [] };
  });
  if (verdicts.every((v) => v.reproducible)) {
    rmSync(build.workDir, { recursive: true, force: true });
    return { build: build.label, image: build.image, imageId, applied: applied.map((v) => ({ name: v.name, description: v.describe(facts) })), notApplied, artifacts: verdicts };
  }

  // Something differs: each variation alone names the culprits.
  const alone = await pool(
    applied.map((variation) => () => runBuild(variation.name, under([variation]))),
    parallel,
  );
  applied.forEach((variation, index) => {
    build.artifacts.forEach((artifact, a) => {
      const difference = compare(controlFile(artifact), alone[index], artifact);
      if (difference !== undefined) verdicts[a].culprits.push({ variation: variation.name, difference });
    });
  });
  // Every variation "changes" it, or none does alone: does the same build twice differ?
  const unexplained = verdicts.filter((v) => !v.reproducible && (v.culprits.length === 0 || (applied.length > 1 && v.culprits.length === applied.length)));
  if (unexplained.length) {
    const again = await runBuild('control-again', under([]));
    build.artifacts.forEach((artifact, a) => {
      const verdict = verdicts[a];
      if (!unexplained.includes(verdict)) return;
      const twice = compare(controlFile(artifact), again, artifact);
      if (twice !== undefined) {
        verdict.note = `two builds under the same conditions differ (${twice}): the build is nondeterministic, whatever the variation`;
        verdict.culprits = [];
      } else if (verdict.culprits.length === 0) {
        verdict.note = 'no single variation changes it: only variations combined do';
      }
    });
  }
  return {
    build: build.label,
    image: build.image,
    imageId,
    applied: applied.map((v) => ({ name: v.name, description: v.describe(facts) })),
    notApplied,
    artifacts: verdicts,
    keptIn: build.workDir,
  };
}

/**
 * The artifact a build left, if it is a regular file inside its output directory: the build is
 * not trusted, and a symlink it leaves must not make reprokit read the host's files.
 */
function artifactFile(out: string, path: string): string | undefined {
  const file = join(out, path);
  if (!existsSync(file) || !lstatSync(file).isFile()) return undefined;
  const real = realpathSync(file);
  return real.startsWith(realpathSync(out) + sep) ? real : undefined;
}

/** Artifact paths are relative and stay below /out. */
export function checkArtifactPath(path: string, where: string): void {
  if (isAbsolute(path) || path.split('/').some((part) => part === '..' || part === '')) {
    throw new UserError(`${where}: ${JSON.stringify(path)} must be a relative path below /out without ..`);
  }
}

function writeList(build: VaryCommandBuild, order: 'name' | 'reverse'): string {
  const path = join(build.workDir, `copy-list.${order}`);
  writeFileSync(path, sourceCopyList(build.projectDir, { exclude: build.exclude, order }), { mode: 0o644 });
  return path;
}
