import { chmodSync, chownSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadDockerArchive, runInContainer } from '../../docker/docker';
import { sha256Digest } from '../../env/oci-config';
import { DEFAULT_SHELL } from '../dockerfile/dockerfile';
import type { RunMount } from '../dockerfile/dockerfile-mount';
import { imageConfigJson, writeDockerArchive } from '../layout/image-files';
import { writeLayer, type LayerEntry } from '../layer';
import { runChanges } from '../run-changes';
import { resolveInStage } from '../stage-files';
import { runAptInstalls, runRunsApt } from '../apt/apt-installs';
import { offlineAptMounts } from './apt-offline';
import { runNpmInstalls } from '../npm/npm-installs';
import { offlineNpm } from './npm-offline';
import { copyFrom, type SourceTree } from './copy';
import type { Handlers } from './handler';
import type { BuildSession } from './session';
import type { StageState } from './stage-state';

/** Stage images loaded by this process, for unique tags. */
let stageLoads = 0;

/** A RUN: in a container of the stage; in a stage whose layers ship, its changes become one normalized layer. */
export const runHandler: Handlers['RUN'] = async (build, state, instruction, step) => {
  const { docker, input } = build;
  const runtime = state.config.config;
  if (!state.fsImage) state.fsImage = await loadStageImage(build, state);
  const user = runtime.User ?? '';
  const env = Object.fromEntries((runtime.Env ?? []).map((item) => item.split(/=(.*)/s).slice(0, 2) as [string, string]));
  // umask 022 whatever the image's default, so that modes do not depend on it; a stage without a shell runs the program as it is.
  const stat = build.statOf(state);
  const hasShell = (await stat(await resolveInStage('bin/sh', stat)))?.type === 'file';
  const argv = instruction.defaultShell
    ? [...DEFAULT_SHELL, `umask 022\n${instruction.argv.at(-1)}`]
    : hasShell
      ? [...DEFAULT_SHELL, 'umask 022 && exec "$@"', 'sh', ...instruction.argv]
      : instruction.argv;
  const mounts: { host: string; container: string; readOnly: boolean }[] = [];
  const tmpfs: Record<string, string> = {};
  for (const mount of instruction.mounts) {
    if (mount.type === 'tmpfs') tmpfs[mount.target] = `rw,exec,mode=1777${mount.size ? `,size=${mount.size}` : ''}`;
    else mounts.push({ host: await mountSource(build, mount, step.fail), container: mount.target, readOnly: mount.readOnly });
  }
  // Debian package installs get their locked packages offline, or stop the build here; any other
  // use of apt (update, clean…) gets the same offline setup with an empty repository.
  const installs = runAptInstalls(instruction, runtime.Env, step.fail);
  if (installs.length > 0 || runRunsApt(instruction, step.fail)) mounts.push(...(await offlineAptMounts(build, state, instruction.line, installs, step)));
  // npm ci from the stage's package-lock.json: its tarballs fetched once, by integrity, then read offline.
  const npmInstalls = runNpmInstalls(instruction, runtime.WorkingDir || '/', step.fail);
  const npm = npmInstalls.length > 0 ? await offlineNpm(build, state, npmInstalls, step) : { mounts: [], env: {} };
  mounts.push(...npm.mounts);
  if (instruction.files.length > 0) {
    const pipes = build.scratchPath('pipes');
    mkdirSync(pipes, { recursive: true });
    for (const file of instruction.files) writeFileSync(join(pipes, file.name), file.content, { mode: 0o755 });
    mounts.push({ host: pipes, container: '/dev/pipes', readOnly: true });
  }
  const pending = [...state.pending];
  build.runs++;
  for (const name of Object.keys(input.runOverrides?.env ?? {})) if (!(name in instruction.args) && !(name in env)) build.overridesReached.add(name);
  const result = await runInContainer(
    docker,
    {
      image: state.fsImage!,
      cmd: argv,
      user,
      allowRoot: true,
      env: { ...input.runOverrides?.env, ...instruction.args, ...env, ...npm.env, SOURCE_DATE_EPOCH: String(input.sourceDateEpoch) },
      mounts,
      tmpfs,
      hostname: input.runOverrides?.hostname,
      domainname: input.runOverrides?.domainname,
      cpuset: input.runOverrides?.cpuset,
      workdir: runtime.WorkingDir || '/',
      logPrefix: input.logPrefix,
      log: build.log,
      readOnlyRootfs: false,
      beforeStart: async (container) => {
        for (const layer of pending) await container.putArchive(layer.path, { path: '/' });
      },
    },
    async (container) => {
      const entries = step.needsLayers
        ? await runChanges(container, build.scratchPath('run'), {
            mountTargets: [...mounts.map((mount) => mount.container), '/tmp', ...Object.keys(tmpfs)],
            keepTemporaryFiles: input.keepTemporaryFiles ?? false,
            what: `${step.at}: RUN`,
          })
        : [];
      const image = ((await container.commit({ comment: 'reprokit build stage (never shipped)' })) as { Id: string }).Id;
      return { image, entries };
    },
  );
  state.fsImage = result!.image;
  state.pending = [];
  build.onCleanup(() => docker.getImage(result!.image).remove({ force: true }));
  if (step.needsLayers) {
    const layer = writeLayer(result!.entries, build.scratchPath('layer') + '.tar', input.sourceDateEpoch);
    state.layers!.push(layer);
    state.view?.applyEntries(result!.entries);
  }
  return 'layer';
};

/** A stage built FROM scratch as a docker image (for a RUN of a program it holds): its layers, loaded. */
async function loadStageImage(build: BuildSession, state: StageState): Promise<string> {
  const config = imageConfigJson({ ...state.config, created: build.created, rootfs: { type: 'layers', diff_ids: state.layers!.map((layer) => layer.diffId) } });
  const archive = build.scratchPath('stage') + '.tar';
  // Unique per load: two builds of one Dockerfile side by side (vary) load the same stage, and each removes its tag.
  const tag = `reprokit-stage/${sha256Digest(config).slice(7, 19)}:${process.pid}-${++stageLoads}`;
  writeDockerArchive(archive, config, state.layers!, tag);
  await loadDockerArchive(build.docker, archive);
  build.onCleanup(() => build.docker.getImage(tag).remove({ force: true }));
  state.pending = [];
  return sha256Digest(config);
}

/** A host directory for a cache (one per id and build, empty at first) or bind mount (a copy, so writes are thrown away). */
async function mountSource(build: BuildSession, mount: RunMount, fail: (message: string) => never): Promise<string> {
  if (mount.type === 'cache') {
    const id = mount.id ?? mount.target;
    if (!build.caches.has(id)) {
      const dir = build.scratchPath('cache');
      mkdirSync(dir, { recursive: true });
      chmodSync(dir, mount.mode);
      ownAs(dir, mount.uid, mount.gid);
      build.caches.set(id, dir);
    }
    return build.caches.get(id)!;
  }
  const source = mount.source ?? '/';
  const trees = mount.from
    ? await copyFrom(build, mount.from, source, fail)
    : build.context.match(source, 'RUN --mount').map((match): SourceTree => {
        const entries = build.context.copyEntries(match, 'context', undefined, undefined, 'RUN --mount');
        if (entries.length === 1 && entries[0].name === 'context' && entries[0].type !== 'directory') return { top: entries[0], below: [] };
        return { top: { name: 'context', type: 'directory', mode: 0o755, uid: 0, gid: 0 }, below: entries };
      });
  const dir = build.scratchPath('bind');
  mkdirSync(dir, { recursive: true });
  const [tree] = trees;
  // A file is mounted as itself, a directory as its contents.
  if (tree.top.type !== 'directory') {
    materialize(dir, { ...tree.top, name: 'file' });
    return join(dir, 'file');
  }
  for (const entry of tree.below) materialize(dir, { ...entry, name: entry.name.slice(tree.top.name.length + 1) });
  return dir;
}

/** Writes an entry into a host directory (for a bind mount), owners and modes as given. */
function materialize(dir: string, entry: LayerEntry): void {
  const path = join(dir, entry.name);
  mkdirSync(join(path, '..'), { recursive: true });
  if (entry.type === 'directory') mkdirSync(path, { recursive: true });
  else if (entry.type === 'symlink') symlinkSync(entry.target, path);
  else if (entry.type === 'file') copyFileSync(entry.path, path);
  else return;
  if (entry.type !== 'symlink') chmodSync(path, entry.mode);
  ownAs(path, entry.uid, entry.gid);
}

function ownAs(path: string, uid: number, gid: number): void {
  try {
    chownSync(path, uid, gid);
  } catch {
    // Not root on the host: the files stay the caller's, usable as their modes say.
  }
}
