import type Docker from 'dockerode';
import { chmodSync, chownSync, closeSync, copyFileSync, createWriteStream, fstatSync, mkdirSync, openSync, readSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { findEnvLockForImage } from '../env/build-env';
import { prepareBuilder } from '../build/container-build';
import { loadDockerArchive, parsePinnedImageRef, runInContainer } from '../docker/docker';
import { UserError } from '../errors';
import type { RunnerOverrides } from '../build/runner-overrides';
import { isoDate, sha256Digest } from '../env/oci-config';
import { archiveKind, downloadChecked, downloadName, gunzipFile } from './add-sources';
import { exportBaseImage } from './base-image';
import { BuildContext } from './dockerfile/build-context';
import { DEFAULT_SHELL, planDockerfile, type CopySource, type ImageSource, type Owner, type Stage, type StageInstruction } from './dockerfile/dockerfile';
import type { RunMount } from './dockerfile/dockerfile-mount';
import { imageConfigJson, writeDockerArchive, type HistoryEntry, type ImageConfig, type LayerFile, type RuntimeConfig } from './layout/image-files';
import { imagePath, writeLayer, type LayerEntry } from './layer';
import { runChanges } from './run-changes';
import { FsView, resolveInStage, statInContainer, type FileNode } from './stage-files';
import { extractTar } from './tar-import';
import { hasWildcard, matchesPattern } from './dockerfile/wildcard';

export interface OciBuildInput {
  dockerfile: string;
  /** The build context directory (COPY's sources). */
  context: string;
  buildArgs?: Record<string, string>;
  sourceDateEpoch: number;
  /** Scratch space, emptied first. */
  workDir: string;
  /** Environment locks that build a `FROM` image docker does not have (matched by image ID). */
  envLocks?: string[];
  /** Keep what a RUN leaves in /tmp, /var/tmp and package manager caches and logs (dropped by default). */
  keepTemporaryFiles?: boolean;
  /** Variation builds only: the environment (under the Dockerfile's), host name and CPUs of every RUN. */
  runOverrides?: Pick<RunnerOverrides, 'env' | 'hostname' | 'domainname' | 'cpuset'>;
  logPrefix: string;
  log?: (line: string) => void;
}

export interface BuiltImage {
  config: Buffer;
  imageId: string;
  layers: LayerFile[];
  /** The pinned images the build used, as written in the Dockerfile. */
  images: string[];
  /** With runOverrides: the variables of its env that reached a RUN (not set there by the image or Dockerfile). */
  overridesReached?: string[];
  /** RUN instructions executed (in every stage the image needs). */
  runs: number;
}

/** One stage's state while its instructions are applied. */
interface StageState {
  config: ImageConfig;
  /** Every layer of the stage's image, when known (scratch, an exported base, or inherited). */
  layers?: LayerFile[];
  /** A docker image holding the stage's files, except `pending` (what RUN and COPY --from use). */
  fsImage?: string;
  pending: LayerFile[];
  /** What this stage's own layers added, by path (a stage FROM scratch has nothing else). */
  added: Map<string, LayerEntry>;
  /** The whole filesystem, for stages whose every layer reprokit holds. */
  view?: FsView;
  cmdFromBase: boolean;
}

/** Stage images loaded by this process, for unique tags. */
let stageLoads = 0;

/** The largest Dockerfile read (bytes): a Dockerfile is text a person wrote. */
const MAX_DOCKERFILE = 1024 * 1024;

/**
 * Builds the image a Dockerfile describes, deterministically. The whole file is validated first
 * (every refusal names its line), then each stage is built. The final stage's layers are the pinned
 * base image's (exported and checked against their digests) plus one layer per COPY, ADD, RUN and
 * created WORKDIR, written by reprokit: sorted, mtime SOURCE_DATE_EPOCH, numeric owners, deletions
 * as OCI whiteouts. Earlier stages are scaffolding: their RUN instructions execute in containers of
 * their pinned images (no network, root only with file capabilities), and only what the final stage
 * copies out of them reaches the image.
 */
export async function buildOciImage(docker: Docker, input: OciBuildInput): Promise<BuiltImage> {
  const log = input.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const say = (line: string) => log(input.logPrefix + line);
  const where = relative(process.cwd(), input.dockerfile) || input.dockerfile;
  const text = readDockerfile(input.dockerfile, where);
  // Validation of the whole file before anything is built or prepared.
  const validated = planDockerfile(text, where, { buildArgs: input.buildArgs });
  const context = new BuildContext(input.context);
  rmSync(input.workDir, { recursive: true, force: true });
  mkdirSync(input.workDir, { recursive: true });
  const created = isoDate(input.sourceDateEpoch);
  const cleanup: (() => Promise<unknown>)[] = [];
  const images: string[] = [];
  let counter = 0;
  const scratchPath = (what: string) => join(input.workDir, `${what}-${++counter}`);

  // A pinned image, built from the environment lock that records it when docker lacks it.
  const prepared = new Map<string, string>();
  const pinnedImage = async (ref: string): Promise<string> => {
    if (!images.includes(ref)) images.push(ref);
    if (!prepared.has(ref)) {
      const envLock = findEnvLockForImage(parsePinnedImageRef(ref).digest, input.envLocks ?? []);
      prepared.set(ref, (await prepareBuilder({ docker, image: ref, envLock, logPrefix: input.logPrefix, log })).imageId);
    }
    return prepared.get(ref)!;
  };
  // The base images' configs seed ENV expansion ($PATH), as docker build does; then the file is planned for good.
  const baseConfigs = new Map<string, RuntimeConfig>();
  const neededFirst = neededStages(validated.stages, validated.stages.length - 1);
  for (const ref of validated.fromImages) {
    if (!validated.stages.some((stage) => neededFirst.has(stage.index) && stage.from.kind === 'image' && stage.from.ref === ref)) continue;
    const info = await docker.getImage(await pinnedImage(ref)).inspect();
    baseConfigs.set(ref, info.Config as RuntimeConfig);
  }
  const plan = planDockerfile(text, where, { buildArgs: input.buildArgs, baseConfig: (ref) => baseConfigs.get(ref) ?? {} });

  const final = plan.stages.at(-1)!;
  // Stages whose layers end up in the image: the final one and those it is built FROM.
  const layered = new Set<number>([final.index]);
  for (let stage: Stage | undefined = final; stage?.from.kind === 'stage'; stage = plan.stages[stage.from.index]) layered.add(stage.from.index);
  const needed = neededStages(plan.stages, final.index);
  const caches = new Map<string, string>();
  const overridesReached = new Set<string>();
  let runs = 0;

  const states = new Map<number, StageState>();
  try {
    for (const stage of plan.stages) {
      if (!needed.has(stage.index)) continue;
      say(`stage ${stage.index}${stage.name ? ` (${stage.name})` : ''}: FROM ${describeSource(stage.from, plan.stages)}`);
      const state = await startStage(stage, layered.has(stage.index));
      states.set(stage.index, state);
      for (const instruction of stage.instructions) {
        say(`${where}:${instruction.line}: ${instruction.text}`);
        try {
          await apply(state, instruction, layered.has(stage.index));
        } catch (error) {
          if (error instanceof UserError) throw error;
          // Docker's own errors (a 500 from the daemon) still name the instruction that caused them.
          throw new UserError(`${where}:${instruction.line}: ${instruction.op}: ${(error as Error).message.split('\n')[0]}`);
        }
      }
    }
    const state = states.get(final.index)!;
    const config = imageConfigJson({ ...state.config, created, rootfs: { type: 'layers', diff_ids: state.layers!.map((layer) => layer.diffId) } });
    return { config, imageId: sha256Digest(config), layers: state.layers!, images, runs, ...(input.runOverrides ? { overridesReached: [...overridesReached].sort() } : {}) };
  } finally {
    for (const undo of cleanup.reverse()) await undo().catch(() => undefined);
  }

  async function startStage(stage: Stage, needsLayers: boolean): Promise<StageState> {
    const empty: ImageConfig = { architecture: 'amd64', os: 'linux', config: {}, created, history: [], rootfs: { type: 'layers', diff_ids: [] } };
    if (stage.from.kind === 'scratch') return { config: empty, layers: [], pending: [], added: new Map(), view: new FsView(), cmdFromBase: false };
    if (stage.from.kind === 'stage') {
      const from = states.get(stage.from.index)!;
      return { ...from, config: structuredClone(from.config), layers: from.layers && [...from.layers], pending: [...from.pending], added: new Map(from.added), view: from.view?.clone(), cmdFromBase: true };
    }
    const imageId = await pinnedImage(stage.from.ref);
    if (needsLayers) {
      say(`exporting ${stage.from.ref} and checking its digests`);
      const base = await exportBaseImage(docker, imageId, scratchPath('base'), say);
      const config: ImageConfig = {
        architecture: base.config.architecture ?? 'amd64',
        os: base.config.os ?? 'linux',
        config: pickRuntimeConfig(base.config.config ?? {}),
        created,
        history: (base.config.history ?? []).map((entry) => ({ created: entry.created, created_by: entry.created_by, ...(entry.empty_layer ? { empty_layer: true as const } : {}) })),
        rootfs: base.config.rootfs,
      };
      return { config, layers: base.layers, fsImage: imageId, pending: [], added: new Map(), view: base.view, cmdFromBase: true };
    }
    const info = await docker.getImage(imageId).inspect();
    return { config: { ...empty, config: pickRuntimeConfig(info.Config as RuntimeConfig) }, fsImage: imageId, pending: [], added: new Map(), cmdFromBase: true };
  }

  async function apply(state: StageState, instruction: StageInstruction, needsLayers: boolean): Promise<void> {
    const runtime = state.config.config;
    const history = (layer: boolean): HistoryEntry => ({ created, created_by: instruction.text, ...(layer ? {} : { empty_layer: true as const }) });
    const at = `${where}:${instruction.line}`;
    const fail = (message: string): never => {
      throw new UserError(`${at}: ${message}`);
    };
    const addLayer = (entries: LayerEntry[]) => {
      if (state.view) {
        checkSymlinkCrossing(state.view, entries, fail);
        entries = withParents(state.view, entries);
      }
      const layer = writeLayer(entries, scratchPath('layer') + '.tar', input.sourceDateEpoch);
      state.layers?.push(layer);
      state.pending.push(layer);
      for (const entry of entries) state.added.set(entry.name, entry);
      state.view?.applyEntries(entries);
      state.config.history.push(history(true));
    };
    const stat = statOf(state);
    switch (instruction.op) {
      case 'ENV': {
        const env = [...(runtime.Env ?? [])];
        for (const [key, value] of instruction.vars) {
          const index = env.findIndex((item) => item.startsWith(`${key}=`));
          if (index >= 0) env[index] = `${key}=${value}`;
          else env.push(`${key}=${value}`);
        }
        runtime.Env = env;
        break;
      }
      case 'LABEL':
        runtime.Labels = { ...runtime.Labels, ...Object.fromEntries(instruction.labels) };
        break;
      case 'USER':
        runtime.User = instruction.user;
        break;
      case 'EXPOSE':
        runtime.ExposedPorts = { ...runtime.ExposedPorts, ...Object.fromEntries(instruction.ports.map((port) => [port, {}])) };
        break;
      case 'SHELL':
        runtime.Shell = instruction.shell;
        break;
      case 'VOLUME':
        runtime.Volumes = { ...runtime.Volumes, ...Object.fromEntries(instruction.volumes.map((volume) => [volume, {}])) };
        break;
      case 'STOPSIGNAL':
        runtime.StopSignal = instruction.signal;
        break;
      case 'HEALTHCHECK':
        runtime.Healthcheck = instruction.healthcheck;
        break;
      case 'ENTRYPOINT':
        runtime.Entrypoint = instruction.argv;
        // As docker does: a new ENTRYPOINT drops the CMD the base image had.
        if (state.cmdFromBase) delete runtime.Cmd;
        break;
      case 'CMD':
        runtime.Cmd = instruction.argv;
        state.cmdFromBase = false;
        break;
      case 'WORKDIR': {
        const path = posix.resolve(runtime.WorkingDir || '/', instruction.path);
        runtime.WorkingDir = path;
        // Created owned by the stage's USER, as BuildKit does (the classic builder makes it root's).
        const entries = await missingDirectories(stat, [await resolveInStage(imagePath(path), stat)], ownerOf(runtime.User));
        if (entries.length > 0) {
          addLayer(entries);
          return;
        }
        break;
      }
      case 'COPY':
      case 'ADD': {
        const destPath = instruction.dest.startsWith('/') ? instruction.dest : posix.join(runtime.WorkingDir || '/', instruction.dest);
        // Into a directory when the destination says so (`dir/`, `.`) or already is one, as docker build does.
        const dest = await resolveInStage(imagePath(destPath), stat);
        const into = /(^|\/)\.?$/.test(instruction.dest) || (await stat(dest))?.type === 'directory';
        const owner = instruction.chown ?? { uid: 0, gid: 0 };
        const entries: LayerEntry[] = [];
        let count = 0;
        for (const source of instruction.sources) {
          const placed = await copySource(instruction, source, dest, into, fail);
          count += placed.count;
          entries.push(...placed.entries);
        }
        if (count > 1 && !into) fail(`${instruction.op} with several sources (here after matching wildcards) needs a destination ending in /`);
        const parents = [...new Set(entries.map((entry) => posix.dirname(entry.name)).filter((dir) => dir !== '.'))];
        addLayer([...(await missingDirectories(stat, parents, owner)), ...entries]);
        return;
      }
      case 'RUN':
        await run(state, instruction, needsLayers, fail);
        state.config.history.push(history(true));
        return;
    }
    state.config.history.push(history(false));
  }

  /** The files one COPY/ADD source places: how many sources it stood for (wildcards) and the entries. */
  async function copySource(instruction: Extract<StageInstruction, { op: 'COPY' | 'ADD' }>, source: CopySource, dest: string, into: boolean, fail: (message: string) => never): Promise<{ count: number; entries: LayerEntry[] }> {
    const { chown, chmod } = instruction;
    const target = (name: string) => (into ? posix.join(dest, name) : dest);
    const owned = (entry: LayerEntry): LayerEntry => ({ ...entry, uid: chown?.uid ?? entry.uid, gid: chown?.gid ?? entry.gid });
    if (source.kind === 'heredoc') {
      const path = scratchPath('heredoc');
      writeFileSync(path, source.content);
      return { count: 1, entries: [{ name: imagePath(target(source.name)), type: 'file', path, size: Buffer.byteLength(source.content), mode: chmod ?? 0o644, uid: chown?.uid ?? 0, gid: chown?.gid ?? 0 }] };
    }
    if (source.kind === 'url') {
      const path = scratchPath('download');
      say(`downloading ${source.url}`);
      const size = await downloadChecked(source.url, instruction.checksum!, path, `${where}:${instruction.line}: ADD`);
      // Docker gives downloads mode 0600 and never unpacks them.
      return { count: 1, entries: [{ name: imagePath(target(downloadName(source.url, `${where}:${instruction.line}: ADD`))), type: 'file', path, size, mode: chmod ?? 0o600, uid: chown?.uid ?? 0, gid: chown?.gid ?? 0 }] };
    }
    if (instruction.from) {
      const roots = await copyFrom(instruction.from, source.path, fail);
      return { count: roots.length, entries: roots.flatMap((root) => place(root, dest, target, chown, chmod)) };
    }
    const at = `${where}:${instruction.line}`;
    const matches = context.match(source.path, at);
    const entries: LayerEntry[] = [];
    for (const match of matches) {
      const kind = instruction.op === 'ADD' ? localArchiveKind(context.dir, match) : undefined;
      if (kind) {
        // ADD unpacks a local tar into the destination, owners and modes as the archive has them.
        if (kind !== 'tar' && kind !== 'gzip') fail(`ADD ${match}: a ${kind}-compressed tar; reprokit unpacks plain and gzip tars (recompress it, or unpack it in a build stage)`);
        let archive = join(context.dir, match);
        if (kind === 'gzip') {
          const plain = scratchPath('unpacked') + '.tar';
          await gunzipFile(archive, plain, `${at}: ADD ${match}`);
          archive = plain;
        }
        const files = extractTar(archive, scratchPath('add'), `${at}: ADD ${match}`);
        entries.push(...files.map((entry) => owned({ ...entry, name: imagePath(posix.join(dest, entry.name)), mode: chmod ?? entry.mode })));
        continue;
      }
      entries.push(...context.copyEntries(match, into ? dest + '/' : dest, chown, chmod, at));
    }
    return { count: matches.length, entries };
  }

  /** A RUN: in a container of the stage; in a stage whose layers ship, its changes become one normalized layer. */
  async function run(state: StageState, instruction: Extract<StageInstruction, { op: 'RUN' }>, needsLayers: boolean, fail: (message: string) => never): Promise<void> {
    const runtime = state.config.config;
    if (!state.fsImage) state.fsImage = await loadStageImage(state);
    const user = runtime.User ?? '';
    const env = Object.fromEntries((runtime.Env ?? []).map((item) => item.split(/=(.*)/s).slice(0, 2) as [string, string]));
    // umask 022 whatever the image's default, so that modes do not depend on it; a stage without a shell runs the program as it is.
    const stat = statOf(state);
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
      else mounts.push({ host: await mountSource(mount, fail), container: mount.target, readOnly: mount.readOnly });
    }
    if (instruction.files.length > 0) {
      const pipes = scratchPath('pipes');
      mkdirSync(pipes, { recursive: true });
      for (const file of instruction.files) writeFileSync(join(pipes, file.name), file.content, { mode: 0o755 });
      mounts.push({ host: pipes, container: '/dev/pipes', readOnly: true });
    }
    const pending = [...state.pending];
    runs++;
    for (const name of Object.keys(input.runOverrides?.env ?? {})) if (!(name in instruction.args) && !(name in env)) overridesReached.add(name);
    const result = await runInContainer(
      docker,
      {
        image: state.fsImage!,
        cmd: argv,
        user,
        allowRoot: true,
        env: { ...input.runOverrides?.env, ...instruction.args, ...env, SOURCE_DATE_EPOCH: String(input.sourceDateEpoch) },
        mounts,
        tmpfs,
        hostname: input.runOverrides?.hostname,
        domainname: input.runOverrides?.domainname,
        cpuset: input.runOverrides?.cpuset,
        workdir: runtime.WorkingDir || '/',
        logPrefix: input.logPrefix,
        log,
        readOnlyRootfs: false,
        beforeStart: async (container) => {
          for (const layer of pending) await container.putArchive(layer.path, { path: '/' });
        },
      },
      async (container) => {
        const entries = needsLayers
          ? await runChanges(container, scratchPath('run'), { mountTargets: [...instruction.mounts.map((mount) => mount.target), '/tmp', ...Object.keys(tmpfs)], keepTemporaryFiles: input.keepTemporaryFiles ?? false, what: `${where}:${instruction.line}: RUN` })
          : [];
        const image = ((await container.commit({ comment: 'reprokit build stage (never shipped)' })) as { Id: string }).Id;
        return { image, entries };
      },
    );
    state.fsImage = result!.image;
    state.pending = [];
    cleanup.push(() => docker.getImage(result!.image).remove({ force: true }));
    if (needsLayers) {
      const layer = writeLayer(result!.entries, scratchPath('layer') + '.tar', input.sourceDateEpoch);
      state.layers!.push(layer);
      state.view?.applyEntries(result!.entries);
    }
  }

  /** A stage built FROM scratch as a docker image (for a RUN of a program it holds): its layers, loaded. */
  async function loadStageImage(state: StageState): Promise<string> {
    const config = imageConfigJson({ ...state.config, created, rootfs: { type: 'layers', diff_ids: state.layers!.map((layer) => layer.diffId) } });
    const archive = scratchPath('stage') + '.tar';
    // Unique per load: two builds of one Dockerfile side by side (vary) load the same stage, and each removes its tag.
    const tag = `reprokit-stage/${sha256Digest(config).slice(7, 19)}:${process.pid}-${++stageLoads}`;
    writeDockerArchive(archive, config, state.layers!, tag);
    await loadDockerArchive(docker, archive);
    cleanup.push(() => docker.getImage(tag).remove({ force: true }));
    state.pending = [];
    return sha256Digest(config);
  }

  /** A host directory for a cache (one per id and build, empty at first) or bind mount (a copy, so writes are thrown away). */
  async function mountSource(mount: RunMount, fail: (message: string) => never): Promise<string> {
    if (mount.type === 'cache') {
      const id = mount.id ?? mount.target;
      if (!caches.has(id)) {
        const dir = scratchPath('cache');
        mkdirSync(dir, { recursive: true });
        chmodSync(dir, mount.mode);
        ownAs(dir, mount.uid, mount.gid);
        caches.set(id, dir);
      }
      return caches.get(id)!;
    }
    const source = mount.source ?? '/';
    const trees = mount.from
      ? await copyFrom(mount.from, source, fail)
      : context.match(source, 'RUN --mount').map((match): SourceTree => {
          const entries = context.copyEntries(match, 'context', undefined, undefined, 'RUN --mount');
          if (entries.length === 1 && entries[0].name === 'context' && entries[0].type !== 'directory') return { top: entries[0], below: [] };
          return { top: { name: 'context', type: 'directory', mode: 0o755, uid: 0, gid: 0 }, below: entries };
        });
    const dir = scratchPath('bind');
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

  /** `lstat` inside a stage: its view, or docker for a stage only docker holds. */
  function statOf(state: StageState): (path: string) => Promise<FileNode | undefined> {
    if (state.view) {
      const view = state.view;
      return async (path) => view.get(path);
    }
    let container: Docker.Container | undefined;
    const cache = new Map<string, FileNode | undefined>();
    return async (path) => {
      if (cache.has(path)) return cache.get(path);
      container ??= await probeContainer(state.fsImage!, state.pending);
      const node = await statInContainer(container, path);
      cache.set(path, node);
      return node;
    };
  }

  /** Directory entries for the given paths and their parents that the stage does not have yet. */
  async function missingDirectories(stat: (path: string) => Promise<FileNode | undefined>, paths: string[], owner: Owner): Promise<LayerEntry[]> {
    const wanted = new Set<string>();
    for (const path of paths) {
      const parts = path.split('/').filter(Boolean);
      for (let i = 1; i <= parts.length; i++) wanted.add(parts.slice(0, i).join('/'));
    }
    const entries: LayerEntry[] = [];
    for (const dir of [...wanted].sort()) {
      if (await stat(dir)) continue;
      entries.push({ name: dir, type: 'directory', mode: 0o755, uid: owner.uid, gid: owner.gid });
    }
    return entries;
  }

  async function probeContainer(image: string, pending: LayerFile[] = []): Promise<Docker.Container> {
    const container = await docker.createContainer({ Image: image, Cmd: ['true'], NetworkDisabled: true, Labels: { 'dev.reprokit.run': 'probe' } });
    cleanup.push(() => container.remove({ force: true }));
    for (const layer of pending) await container.putArchive(layer.path, { path: '/' });
    return container;
  }

  /**
   * What `COPY --from=<stage or image> source` takes: one tree per match (a wildcard may match
   * several), each with its top entry named by the match and the rest relative to it.
   */
  async function copyFrom(from: ImageSource, source: string, fail: (message: string) => never): Promise<SourceTree[]> {
    const sourcePath = imagePath(posix.resolve('/', source));
    if (from.kind === 'scratch') return fail('COPY --from=scratch copies nothing');
    const what = from.kind === 'image' ? from.ref : `stage ${from.index}`;
    const parts = sourcePath.split('/');
    const wildcardAt = parts.findIndex(hasWildcard);
    if (wildcardAt === 0) fail(`COPY --from: ${source}: a wildcard in the first path component is not supported; start with a directory`);
    // What is fetched: the source, or the directory above its first wildcard.
    const fetchRoot = wildcardAt < 0 ? sourcePath : parts.slice(0, wildcardAt).join('/');
    const top = posix.basename(fetchRoot);
    let entries: LayerEntry[];
    const state = from.kind === 'stage' ? states.get(from.index)! : undefined;
    if (state && !state.fsImage) {
      // A stage built FROM scratch: its files are the ones reprokit wrote.
      entries = [...state.added.values()]
        .filter((entry) => entry.name === fetchRoot || entry.name.startsWith(fetchRoot + '/'))
        .map((entry) => ({ ...entry, name: top + entry.name.slice(fetchRoot.length) }))
        .sort((a, b) => a.name.length - b.name.length);
      if (entries[0]?.name !== top) fail(`COPY --from: ${source} does not exist in ${what}`);
    } else {
      const image = from.kind === 'image' ? await pinnedImage(from.ref) : state!.fsImage!;
      const container = await probeContainer(image, state ? state.pending : []);
      // Symlinks on the way (the last one too) are followed inside the source, as docker build does.
      const resolved = await resolveInStage(fetchRoot, (path) => statInContainer(container, path));
      const archive = scratchPath('copy') + '.tar';
      try {
        await pipeline(await container.getArchive({ path: '/' + resolved }), createWriteStream(archive));
      } catch {
        fail(`COPY --from: ${source} does not exist in ${what}`);
      }
      const fetched = extractTar(archive, scratchPath('copy'), `COPY --from ${source}`);
      // The archive's top entry is named after the resolved path: name it as asked.
      const fetchedTop = fetched[0]?.name ?? '';
      entries = fetched.map((entry) => ({ ...entry, name: top + entry.name.slice(fetchedTop.length) }));
    }
    if (wildcardAt < 0) return [treeOf(entries, top)];
    const pattern = parts.slice(wildcardAt).join('/');
    const depth = pattern.split('/').length + 1;
    const roots = entries.filter((entry) => entry.name.split('/').length === depth && matchesPattern(pattern, entry.name.slice(top.length + 1))).map((entry) => entry.name);
    if (roots.length === 0) fail(`COPY --from: nothing in ${what} matches ${source}`);
    return roots.sort().map((root) => treeOf(entries, root));
  }
}

/** A copied tree: its top entry and everything below it (names relative to the top's parent). */
interface SourceTree {
  top: LayerEntry;
  below: LayerEntry[];
}

function treeOf(entries: LayerEntry[], root: string): SourceTree {
  const top = entries.find((entry) => entry.name === root)!;
  return { top, below: entries.filter((entry) => entry.name.startsWith(root + '/')) };
}

/** Where a tree lands: a directory's contents into `dest`, a file or link at `target(its name)`. Owners --chown or 0:0. */
function place(tree: SourceTree, dest: string, target: (name: string) => string, chown: Owner | undefined, chmod: number | undefined): LayerEntry[] {
  const owned = (entry: LayerEntry, name: string): LayerEntry => ({ ...entry, name: imagePath(name), mode: chmod !== undefined && entry.type !== 'symlink' ? chmod : entry.mode, uid: chown?.uid ?? 0, gid: chown?.gid ?? 0 });
  if (tree.top.type !== 'directory') return [owned(tree.top, target(posix.basename(tree.top.name)))];
  return tree.below.map((entry) => owned(entry, posix.join(dest, entry.name.slice(tree.top.name.length + 1))));
}

/**
 * Refuses a layer entry that would land below a symlink of the stage (`COPY rootfs/ /` with
 * rootfs/bin/x over an image whose /bin is a link): docker's layer application would replace the
 * link with a directory, a different image from the one docker build makes.
 */
function checkSymlinkCrossing(view: FsView, entries: LayerEntry[], fail: (message: string) => never): void {
  const own = new Set(entries.map((entry) => entry.name));
  for (const entry of entries) {
    const parts = entry.name.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const path = parts.slice(0, i).join('/');
      if (i === parts.length && entry.type !== 'directory') break;
      if (own.has(path) && i < parts.length) continue;
      const node = view.get(path);
      if (node?.type === 'symlink') fail(`/${entry.name} would be written through /${path}, a symlink to ${node.target}: copy to the link's target instead`);
    }
  }
}

/**
 * The entries plus every existing directory above them, as they are: a layer without its parent
 * directories would have docker create them root-owned 0755 on top of the lower layers' (as docker
 * and BuildKit do, each layer carries its files' parents).
 */
function withParents(view: FsView, entries: LayerEntry[]): LayerEntry[] {
  const names = new Set(entries.map((entry) => entry.name));
  const parents: LayerEntry[] = [];
  for (const entry of entries) {
    const parts = entry.name.split('/');
    for (let i = 1; i < parts.length; i++) {
      const path = parts.slice(0, i).join('/');
      if (names.has(path)) continue;
      names.add(path);
      const node = view.get(path);
      if (node?.type === 'directory') parents.push({ name: path, type: 'directory', mode: node.mode, uid: node.uid, gid: node.gid });
    }
  }
  return [...parents, ...entries];
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

function localArchiveKind(dir: string, path: string): ReturnType<typeof archiveKind> {
  const full = join(dir, path);
  const fd = openSync(full, 'r');
  try {
    if (!fstatSync(fd).isFile()) return undefined;
  } finally {
    closeSync(fd);
  }
  return archiveKind(full);
}

function readDockerfile(path: string, where: string): string {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    throw new UserError(`${where}: cannot read the Dockerfile`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size > MAX_DOCKERFILE) throw new UserError(`${where}: ${size} bytes; a Dockerfile over ${MAX_DOCKERFILE} bytes is refused`);
    const buffer = Buffer.alloc(size);
    const n = readSync(fd, buffer, 0, size, 0);
    return buffer.subarray(0, n).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** The stages the final one needs, through FROM, COPY --from and RUN --mount from=. */
function neededStages(stages: Stage[], finalIndex: number): Set<number> {
  const needed = new Set<number>();
  const visit = (index: number) => {
    if (needed.has(index)) return;
    needed.add(index);
    const stage = stages[index];
    if (stage.from.kind === 'stage') visit(stage.from.index);
    for (const instruction of stage.instructions) {
      if ((instruction.op === 'COPY' || instruction.op === 'ADD') && instruction.from?.kind === 'stage') visit(instruction.from.index);
      if (instruction.op === 'RUN') for (const mount of instruction.mounts) if (mount.from?.kind === 'stage') visit(mount.from.index);
    }
  };
  visit(finalIndex);
  return needed;
}

function describeSource(source: ImageSource, stages: Stage[]): string {
  if (source.kind === 'scratch') return 'scratch';
  if (source.kind === 'image') return source.ref;
  return `stage ${stages[source.index].name ?? source.index}`;
}

/** The runtime settings an image passes on; everything else in a base config is builder noise. */
function pickRuntimeConfig(config: RuntimeConfig): RuntimeConfig {
  const { User, ExposedPorts, Env, Entrypoint, Cmd, WorkingDir, Labels, Healthcheck, Volumes, StopSignal, Shell } = config;
  return {
    User: User || undefined,
    ExposedPorts: ExposedPorts ?? undefined,
    Env: Env ?? undefined,
    Entrypoint,
    Cmd,
    WorkingDir: WorkingDir || undefined,
    Labels: Labels ?? undefined,
    Healthcheck: Healthcheck ?? undefined,
    Volumes: Volumes ?? undefined,
    StopSignal: StopSignal || undefined,
    Shell: Shell && Shell.length > 0 ? Shell : undefined,
  };
}

/** Numeric `uid[:gid]` of a USER value; names (resolved by the image's /etc/passwd) count as 0:0. */
function ownerOf(user: string | undefined): Owner {
  const match = /^(\d+)(?::(\d+))?$/.exec(user ?? '');
  return match ? { uid: Number(match[1]), gid: Number(match[2] ?? match[1]) } : { uid: 0, gid: 0 };
}
