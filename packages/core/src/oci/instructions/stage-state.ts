import type { Stage } from '../dockerfile/dockerfile';
import type { ImageConfig, LayerFile, RuntimeConfig } from '../layout/image-files';
import type { LayerEntry } from '../layer';
import { exportBaseImage } from '../base-image';
import { FsView } from '../stage-files';
import type { BuildSession } from './session';

/** One stage's state while its instructions are applied: what every handler reads and changes. */
export interface StageState {
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
  /** The pinned image the stage is built FROM, through earlier stages (none for scratch). */
  base?: string;
}

/** The state a stage starts from: empty (scratch), a copy of an earlier stage's, or its pinned base image's. */
export async function startStage(build: BuildSession, stage: Stage, needsLayers: boolean): Promise<StageState> {
  const empty: ImageConfig = { architecture: 'amd64', os: 'linux', config: {}, created: build.created, history: [], rootfs: { type: 'layers', diff_ids: [] } };
  if (stage.from.kind === 'scratch') return { config: empty, layers: [], pending: [], added: new Map(), view: new FsView(), cmdFromBase: false };
  const base = stage.from.kind === 'image' ? stage.from.ref : build.states.get(stage.from.index)!.base;
  if (stage.from.kind === 'stage') {
    const from = build.states.get(stage.from.index)!;
    return { ...from, config: structuredClone(from.config), layers: from.layers && [...from.layers], pending: [...from.pending], added: new Map(from.added), view: from.view?.clone(), cmdFromBase: true, base };
  }
  const imageId = await build.pinnedImage(stage.from.ref);
  if (needsLayers) {
    build.say(`exporting ${stage.from.ref} and checking its digests`);
    const exported = await exportBaseImage(build.docker, imageId, build.scratchPath('base'), (line) => build.say(line));
    const config: ImageConfig = {
      architecture: exported.config.architecture ?? 'amd64',
      os: exported.config.os ?? 'linux',
      config: pickRuntimeConfig(exported.config.config ?? {}),
      created: build.created,
      history: (exported.config.history ?? []).map((entry) => ({ created: entry.created, created_by: entry.created_by, ...(entry.empty_layer ? { empty_layer: true as const } : {}) })),
      rootfs: exported.config.rootfs,
    };
    return { config, layers: exported.layers, fsImage: imageId, pending: [], added: new Map(), view: exported.view, cmdFromBase: true, base };
  }
  const info = await build.docker.getImage(imageId).inspect();
  return { config: { ...empty, config: pickRuntimeConfig(info.Config as RuntimeConfig) }, fsImage: imageId, pending: [], added: new Map(), cmdFromBase: true, base };
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
