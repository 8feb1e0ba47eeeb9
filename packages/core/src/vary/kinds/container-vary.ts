import { chmodSync, existsSync, lstatSync, mkdirSync, realpathSync, rmSync } from 'node:fs';
import { isAbsolute, join, posix, sep } from 'node:path';
import { prepareBuilder } from '../../build/container-build';
import { runInContainer } from '../../docker/docker';
import { isUserError, UserError } from '../../errors';
import { selectVariations } from '../applicability';
import { imageFacts } from '../image-facts';
import { runVariations, type BuildOutcome } from '../run-variations';
import { writeSourceCopyTar } from '../../build/source-copy';
import { COPY_AND_BUILD_SCRIPT } from '../source-copy';
import { variedConditions, type BuildConditions, type Variation, type VariationName } from '../variations';

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

/**
 * Builds the project under control conditions and under every applicable variation at once; when
 * an artifact differs, under each variation alone, to name the ones that change it. Every build is
 * a fresh container of the same pinned image with a fresh copy of the source.
 */
export async function varyCommandBuild(build: VaryCommandBuild, options: VaryOptions): Promise<VaryResult> {
  const paths = build.artifacts.map((artifact) => checkArtifactPath(artifact.path, `${build.label}: artifact`));
  const after = copyFromSource(paths);
  const { docker, imageId, user } = await prepareBuilder({ image: build.image, envLock: build.envLock, logPrefix: options.logPrefix, log: options.log });
  const facts = await imageFacts(docker, imageId, user, options.logPrefix);
  const { applied, notApplied } = selectVariations('command', facts, options.variations);
  rmSync(build.workDir, { recursive: true, force: true });
  mkdirSync(build.workDir, { recursive: true });
  if (!facts.tar) throw new UserError(`${build.image}: the image has no tar, which vary unpacks each build's source copy with (add tar to its environment)`);
  // The in-tree builds' normalized copy (what a checkout has, one mtime, modes 0644/0755), in the
  // two orders file-order needs: unpacked on tmpfs, the order written is the order readdir returns.
  const [uid, gid] = user.split(':').map(Number);
  const copy = (order: 'name' | 'reverse') => {
    const path = join(build.workDir, `source.${order}.tar`);
    writeSourceCopyTar(build.projectDir, path, { mtime: build.sourceDateEpoch, uid, gid, excluded: build.exclude, order });
    // Mounted read-only for the build user, whoever runs reprokit.
    chmodSync(path, 0o644);
    return path;
  };
  const sources = { name: copy('name'), reverse: copy('reverse') };

  const run = async (label: string, variations: readonly Variation[]): Promise<BuildOutcome> => {
    const conditions: BuildConditions = variedConditions(facts, build.sourceDateEpoch, variations);
    const out = join(build.workDir, label);
    mkdirSync(out, { recursive: true });
    // The build user (varied too) must be able to write here, whatever the host user is.
    chmodSync(out, 0o777);
    const [runUid, runGid] = conditions.user.split(':');
    const prefix = `${options.logPrefix}[${label}] `;
    options.log(`${prefix}building`);
    try {
      await runInContainer(docker, {
        image: imageId,
        cmd: ['sh', '-c', COPY_AND_BUILD_SCRIPT, 'sh', conditions.sourcePath, conditions.umask, after, ...conditions.wrapper, ...build.command],
        user: conditions.user,
        env: { ...conditions.env, ...build.env },
        mounts: [
          { host: sources[conditions.fileOrder], container: '/reprokit/source.tar', readOnly: true },
          { host: out, container: '/out', readOnly: false },
        ],
        workdir: '/',
        tmpfs: { [conditions.sourcePath]: `rw,exec,uid=${runUid},gid=${runGid},mode=0755` },
        hostname: conditions.hostname,
        domainname: conditions.domainname,
        cpuset: conditions.cpuset,
        logPrefix: prefix,
        log: options.log,
      });
    } catch (error) {
      if (!isUserError(error)) throw error;
      // runInContainer names the whole command (here the copy script); name the build's instead.
      const exit = /failed with exit (\d+)/.exec(error.message)?.[1];
      const last = error.message.split('\n').at(-1)?.trim();
      return { failed: exit ? `\`${build.command.join(' ')}\` failed with exit ${exit}${last && error.message.includes('\n') ? ` (last line: ${last})` : ''}` : error.message.split('\n')[0] };
    }
    const files = new Map<string, string>();
    build.artifacts.forEach((artifact, i) => {
      const file = artifactFile(out, paths[i].out);
      if (file) files.set(artifact.name, file);
      else if (label === 'control') throw new UserError(`${build.label}: the control build (no variation applied) left no regular file ${paths[i].inSource ? artifact.path : `/out/${artifact.path}`}: check that the build writes it there (the artifact's path in the manifest, the target's artifact option)`);
    });
    return { files };
  };
  return runVariations({ label: build.label, image: build.image, imageId, facts, applied, notApplied, run, workDir: build.workDir, parallel: options.parallel });
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

/** Where an in-tree build's artifacts (below the source copy) are copied to, inside /out. */
const FROM_SOURCE = '.reprokit-src';

/**
 * Artifact paths stay below /out (relative) or, for an in-tree build, below /src (`/src/lua`, the
 * copy the build ran in, wherever the build-path variation put it). Returns the path below /out
 * where the build leaves it, and the path below the source copy to copy it from.
 */
export function checkArtifactPath(path: string, where: string): { out: string; inSource?: string } {
  const inSource = path.startsWith('/src/') ? path.slice('/src/'.length) : undefined;
  const rel = inSource ?? path;
  if (isAbsolute(rel) || rel.split('/').some((part) => part === '..' || part === '' || part === '.')) {
    throw new UserError(`${where}: ${JSON.stringify(path)} must be a relative path below /out, or below /src for an in-tree build, without ..`);
  }
  return inSource ? { out: `${FROM_SOURCE}/${inSource}`, inSource } : { out: path };
}

/** Shell text that copies the in-tree artifacts out of the source copy ($src) after the build. */
function copyFromSource(paths: { out: string; inSource?: string }[]): string {
  const quote = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;
  const copies = paths.flatMap((p) => (p.inSource ? [`mkdir -p ${quote(posix.dirname('/out/' + p.out))} && cp -P -- "$src"/${quote(p.inSource)} ${quote('/out/' + p.out)}`] : []));
  return copies.join('\n') || ':';
}
