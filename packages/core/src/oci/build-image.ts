import type Docker from 'dockerode';
import { createWriteStream, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, posix, relative } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { findEnvLockForImage } from '../build-env';
import { prepareBuilder } from '../container-build';
import { parsePinnedImageRef, runInContainer } from '../docker';
import { UserError } from '../errors';
import { isoDate, sha256Digest } from '../oci-config';
import { exportBaseImage } from './base-image';
import { BuildContext } from './build-context';
import { planDockerfile, type ImageSource, type Owner, type Stage, type StageInstruction } from './dockerfile';
import { imageConfigJson, type HistoryEntry, type ImageConfig, type LayerFile, type RuntimeConfig } from './image-files';
import { imagePath, writeLayer, type LayerEntry } from './layer';
import { extractTar } from './tar-import';

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
  logPrefix: string;
  log?: (line: string) => void;
}

export interface BuiltImage {
  config: Buffer;
  imageId: string;
  layers: LayerFile[];
  /** The pinned images the build used, as written in the Dockerfile. */
  images: string[];
}

/** One stage's state while its instructions are applied. */
interface StageState {
  config: ImageConfig;
  /** Every layer of the stage's image, when known (scratch, an exported base, or inherited). */
  layers?: LayerFile[];
  /** A docker image holding the stage's files, except `pending` (what RUN and COPY --from use). */
  fsImage?: string;
  pending: LayerFile[];
  /** What this stage's own layers added, by path. */
  added: Map<string, LayerEntry>;
  /** Paths of the exported base image, when there is one. */
  basePaths?: Set<string>;
  cmdFromBase: boolean;
}

const SHELL = ['/bin/sh', '-c'];

/**
 * Builds the image a Dockerfile describes, deterministically: the final stage's layers are the
 * pinned base image's (exported and checked against their digests) plus one layer per COPY and
 * WORKDIR, written by reprokit (sorted, mtime SOURCE_DATE_EPOCH, fixed owners). Earlier stages are
 * scaffolding: their RUN instructions execute in containers of their pinned images (no network,
 * non-root), and only the files the final stage copies out of them reach the image.
 */
export async function buildOciImage(docker: Docker, input: OciBuildInput): Promise<BuiltImage> {
  const log = input.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const say = (line: string) => log(input.logPrefix + line);
  const where = relative(process.cwd(), input.dockerfile) || input.dockerfile;
  const plan = planDockerfile(readFileSync(input.dockerfile, 'utf8'), where, input.buildArgs);
  const context = new BuildContext(input.context);
  rmSync(input.workDir, { recursive: true, force: true });
  mkdirSync(input.workDir, { recursive: true });
  const created = isoDate(input.sourceDateEpoch);
  const cleanup: (() => Promise<unknown>)[] = [];
  const images: string[] = [];
  let counter = 0;
  const scratchPath = (what: string) => join(input.workDir, `${what}-${++counter}`);

  const final = plan.stages.at(-1)!;
  // Stages whose layers end up in the image: the final one and those it is built FROM.
  const layered = new Set<number>([final.index]);
  for (let stage: Stage | undefined = final; stage?.from.kind === 'stage'; stage = plan.stages[stage.from.index]) layered.add(stage.from.index);
  const needed = neededStages(plan.stages, final.index);

  // A pinned image, built from the environment lock that records it when docker lacks it.
  const pinnedImage = async (ref: string): Promise<string> => {
    if (!images.includes(ref)) images.push(ref);
    const envLock = findEnvLockForImage(parsePinnedImageRef(ref).digest, input.envLocks ?? []);
    return (await prepareBuilder({ docker, image: ref, envLock, logPrefix: input.logPrefix, log })).imageId;
  };

  const states = new Map<number, StageState>();
  try {
    for (const stage of plan.stages) {
      if (!needed.has(stage.index)) continue;
      say(`stage ${stage.index}${stage.name ? ` (${stage.name})` : ''}: FROM ${describeSource(stage.from, plan.stages)}`);
      const state = await startStage(stage, layered.has(stage.index));
      states.set(stage.index, state);
      for (const instruction of stage.instructions) {
        say(`${where}:${instruction.line}: ${instruction.text}`);
        await apply(state, instruction, layered.has(stage.index));
      }
    }
    const state = states.get(final.index)!;
    const config = imageConfigJson({ ...state.config, created, rootfs: { type: 'layers', diff_ids: state.layers!.map((layer) => layer.diffId) } });
    return { config, imageId: sha256Digest(config), layers: state.layers!, images };
  } finally {
    for (const undo of cleanup.reverse()) await undo().catch(() => undefined);
  }

  async function startStage(stage: Stage, needsLayers: boolean): Promise<StageState> {
    const empty: ImageConfig = { architecture: 'amd64', os: 'linux', config: {}, created, history: [], rootfs: { type: 'layers', diff_ids: [] } };
    if (stage.from.kind === 'scratch') return { config: empty, layers: [], pending: [], added: new Map(), cmdFromBase: false };
    if (stage.from.kind === 'stage') {
      const from = states.get(stage.from.index)!;
      return { ...from, config: structuredClone(from.config), layers: from.layers && [...from.layers], pending: [...from.pending], added: new Map(from.added), cmdFromBase: true };
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
      return { config, layers: base.layers, fsImage: imageId, pending: [], added: new Map(), basePaths: base.paths, cmdFromBase: true };
    }
    const info = await docker.getImage(imageId).inspect();
    return { config: { ...empty, config: pickRuntimeConfig(info.Config as RuntimeConfig) }, fsImage: imageId, pending: [], added: new Map(), cmdFromBase: true };
  }

  async function apply(state: StageState, instruction: StageInstruction, needsLayers: boolean): Promise<void> {
    const runtime = state.config.config;
    const history = (layer: boolean): HistoryEntry => ({ created, created_by: instruction.text, ...(layer ? {} : { empty_layer: true as const }) });
    const fail = (message: string): never => {
      throw new UserError(`${where}:${instruction.line}: ${message}`);
    };
    const addLayer = (entries: LayerEntry[]) => {
      const layer = writeLayer(entries, scratchPath('layer') + '.tar', input.sourceDateEpoch);
      state.layers?.push(layer);
      state.pending.push(layer);
      for (const entry of entries) state.added.set(entry.name, entry);
      state.config.history.push(history(true));
    };
    switch (instruction.op) {
      case 'ENV': {
        const env = [...(runtime.Env ?? [])];
        for (const [key, value] of instruction.vars) {
          const at = env.findIndex((item) => item.startsWith(`${key}=`));
          if (at >= 0) env[at] = `${key}=${value}`;
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
        const entries = await missingDirectories(state, [imagePath(path)], ownerOf(runtime.User));
        if (entries.length > 0) {
          addLayer(entries);
          return;
        }
        break;
      }
      case 'COPY': {
        const dest = instruction.dest.startsWith('/') ? instruction.dest : posix.join(runtime.WorkingDir || '/', instruction.dest) + (instruction.dest.endsWith('/') ? '/' : '');
        if (instruction.sources.length > 1 && !dest.endsWith('/')) fail('COPY with several sources needs a destination ending in /');
        const entries: LayerEntry[] = [];
        for (const source of instruction.sources) {
          entries.push(
            ...(instruction.from
              ? await copyFrom(instruction.from, source, dest, instruction.chown, instruction.chmod, fail)
              : context.copyEntries(source, dest, instruction.chown, instruction.chmod, `${where}:${instruction.line}`)),
          );
        }
        const parents = [...new Set(entries.map((entry) => posix.dirname(entry.name)).filter((dir) => dir !== '.'))];
        addLayer([...(await missingDirectories(state, parents, instruction.chown ?? { uid: 0, gid: 0 })), ...entries]);
        return;
      }
      case 'RUN': {
        if (needsLayers) fail('RUN in the final stage is not supported: run it in a build stage and COPY --from=<stage> what it makes');
        if (!state.fsImage) fail('RUN needs an image to run in, not scratch');
        const user = runtime.User ?? '';
        if (user === '' || /^(0|root)(:|$)/.test(user)) fail(`RUN would run as root: add USER <uid>[:<gid>] before it (builds never run as root)`);
        const env = Object.fromEntries((runtime.Env ?? []).map((item) => item.split(/=(.*)/s).slice(0, 2) as [string, string]));
        const argv = instruction.shell ? [...SHELL, `umask 022\n${instruction.argv[0]}`] : [...SHELL, 'umask 022 && exec "$@"', 'sh', ...instruction.argv];
        const pending = [...state.pending];
        const committed = await runInContainer(
          docker,
          {
            image: state.fsImage!,
            cmd: argv,
            user,
            env: { ...instruction.args, ...env, SOURCE_DATE_EPOCH: String(input.sourceDateEpoch) },
            mounts: [],
            workdir: runtime.WorkingDir || '/',
            logPrefix: input.logPrefix,
            log,
            readOnlyRootfs: false,
            beforeStart: async (container) => {
              for (const layer of pending) await container.putArchive(layer.path, { path: '/' });
            },
          },
          async (container) => ((await container.commit({ comment: 'reprokit build stage (never shipped)' })) as { Id: string }).Id,
        );
        state.fsImage = committed!;
        state.pending = [];
        // Files the command made are known only to docker now.
        state.basePaths = undefined;
        cleanup.push(() => docker.getImage(committed!).remove({ force: true }));
        state.config.history.push(history(true));
        return;
      }
    }
    state.config.history.push(history(false));
  }

  /** Directory entries for the given paths and their parents that the stage does not have yet. */
  async function missingDirectories(state: StageState, paths: string[], owner: Owner): Promise<LayerEntry[]> {
    const wanted = new Set<string>();
    for (const path of paths) {
      const parts = path.split('/').filter(Boolean);
      for (let i = 1; i <= parts.length; i++) wanted.add(parts.slice(0, i).join('/'));
    }
    const entries: LayerEntry[] = [];
    for (const dir of [...wanted].sort()) {
      if (await exists(state, dir)) continue;
      entries.push({ name: dir, type: 'directory', mode: 0o755, uid: owner.uid, gid: owner.gid });
    }
    return entries;
  }

  async function exists(state: StageState, path: string): Promise<boolean> {
    if (state.added.has(path)) return true;
    if (state.basePaths) return state.basePaths.has(path);
    if (!state.fsImage) return false;
    const container = await probeContainer(state.fsImage);
    return container.infoArchive({ path: '/' + path }).then(
      () => true,
      () => false,
    );
  }

  async function probeContainer(image: string, pending: LayerFile[] = []): Promise<Docker.Container> {
    const container = await docker.createContainer({ Image: image, Cmd: ['true'], NetworkDisabled: true, Labels: { 'dev.reprokit.run': 'probe' } });
    cleanup.push(() => container.remove({ force: true }));
    for (const layer of pending) await container.putArchive(layer.path, { path: '/' });
    return container;
  }

  /** What `COPY --from=<stage or image> source dest` adds: the files as they are there, owned by --chown or 0:0. */
  async function copyFrom(from: ImageSource, source: string, dest: string, chown: Owner | undefined, chmod: number | undefined, fail: (message: string) => never): Promise<LayerEntry[]> {
    const sourcePath = imagePath(posix.resolve('/', source));
    if (from.kind === 'scratch') return fail('COPY --from=scratch copies nothing');
    let entries: LayerEntry[];
    if (from.kind === 'stage' && !states.get(from.index)!.fsImage) {
      // A stage built FROM scratch: its files are the ones reprokit wrote.
      const state = states.get(from.index)!;
      entries = [...state.added.values()]
        .sort((a, b) => a.name.length - b.name.length)
        .filter((entry) => entry.name === sourcePath || entry.name.startsWith(sourcePath + '/'))
        .map((entry) => ({ ...entry, name: posix.join(posix.basename(sourcePath), entry.name.slice(sourcePath.length)) }));
      if (entries.length === 0) fail(`COPY --from: ${source} does not exist in stage ${from.index}`);
    } else {
      const image = from.kind === 'image' ? await pinnedImage(from.ref) : states.get(from.index)!.fsImage!;
      const container = await probeContainer(image, from.kind === 'stage' ? states.get(from.index)!.pending : []);
      const archive = scratchPath('copy') + '.tar';
      try {
        await pipeline(await container.getArchive({ path: '/' + sourcePath }), createWriteStream(archive));
      } catch {
        fail(`COPY --from: ${source} does not exist in ${from.kind === 'image' ? from.ref : `stage ${from.index}`}`);
      }
      entries = extractTar(archive, scratchPath('copy'), `COPY --from ${source}`);
    }
    const top = entries[0]?.name;
    const isDirectory = entries.length > 0 && entries[0].type === 'directory';
    return entries.flatMap((entry): LayerEntry[] => {
      const inside = entry.name === top ? '' : entry.name.slice(top.length + 1);
      let name: string;
      if (isDirectory) {
        if (inside === '') return [];
        name = posix.join(dest, inside);
      } else {
        name = dest.endsWith('/') ? posix.join(dest, posix.basename(top)) : dest;
      }
      const mode = chmod !== undefined && entry.type !== 'symlink' ? chmod : entry.mode;
      return [{ ...entry, name: imagePath(name), mode, uid: chown?.uid ?? 0, gid: chown?.gid ?? 0 }];
    });
  }
}

/** The stages the final one needs, through FROM and COPY --from. */
function neededStages(stages: Stage[], finalIndex: number): Set<number> {
  const needed = new Set<number>();
  const visit = (index: number) => {
    if (needed.has(index)) return;
    needed.add(index);
    const stage = stages[index];
    if (stage.from.kind === 'stage') visit(stage.from.index);
    for (const instruction of stage.instructions) {
      if (instruction.op === 'COPY' && instruction.from?.kind === 'stage') visit(instruction.from.index);
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
  const { User, ExposedPorts, Env, Entrypoint, Cmd, WorkingDir, Labels } = config;
  return { User: User || undefined, ExposedPorts: ExposedPorts ?? undefined, Env: Env ?? undefined, Entrypoint, Cmd, WorkingDir: WorkingDir || undefined, Labels: Labels ?? undefined };
}

/** Numeric `uid[:gid]` of a USER value; names (resolved by the image's /etc/passwd) count as 0:0. */
function ownerOf(user: string | undefined): Owner {
  const match = /^(\d+)(?::(\d+))?$/.exec(user ?? '');
  return match ? { uid: Number(match[1]), gid: Number(match[2] ?? match[1]) } : { uid: 0, gid: 0 };
}
