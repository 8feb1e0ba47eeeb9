import type Docker from 'dockerode';
import { closeSync, fstatSync, mkdirSync, openSync, readSync, rmSync } from 'node:fs';
import { relative } from 'node:path';
import { UserError } from '../errors';
import { sha256Digest } from '../env/oci-config';
import { planDockerfile, type ImageSource, type Stage, type StageInstruction } from './dockerfile/dockerfile';
import { imageConfigJson, type LayerFile, type RuntimeConfig } from './layout/image-files';
import { copyHandler } from './instructions/copy';
import type { Handler, Handlers, Step } from './instructions/handler';
import { imageConfigHandlers } from './instructions/image-config';
import { runHandler } from './instructions/run';
import { BuildSession, type OciBuildInput } from './instructions/session';
import { startStage } from './instructions/stage-state';

export type { OciBuildInput } from './instructions/session';

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

/** The largest Dockerfile read (bytes): a Dockerfile is text a person wrote. */
const MAX_DOCKERFILE = 1024 * 1024;

/** Every instruction's handler (ARG and FROM are resolved when the file is planned). */
const HANDLERS: Handlers = { ...imageConfigHandlers, COPY: copyHandler, ADD: copyHandler, RUN: runHandler };

/**
 * Builds the image a Dockerfile describes, deterministically. The whole file is validated first
 * (every refusal names its line), then each stage is built. The final stage's layers are the pinned
 * base image's (exported and checked against their digests) plus one layer per COPY, ADD, RUN and
 * created WORKDIR, written by reprokit: sorted, mtime SOURCE_DATE_EPOCH, numeric owners, deletions
 * as OCI whiteouts. Earlier stages are scaffolding: their RUN instructions execute in containers of
 * their pinned images (no network, root only with file capabilities), and only what the final stage
 * copies out of them reaches the image. Each instruction is one handler (instructions/) over the
 * stage's explicit state.
 */
export async function buildOciImage(docker: Docker, input: OciBuildInput): Promise<BuiltImage> {
  const where = relative(process.cwd(), input.dockerfile) || input.dockerfile;
  const text = readDockerfile(input.dockerfile, where);
  // Validation of the whole file before anything is built or prepared.
  const validated = planDockerfile(text, where, { buildArgs: input.buildArgs });
  const build = new BuildSession(docker, input, where);
  rmSync(input.workDir, { recursive: true, force: true });
  mkdirSync(input.workDir, { recursive: true });

  // The base images' configs seed ENV expansion ($PATH), as docker build does; then the file is planned for good.
  const baseConfigs = new Map<string, RuntimeConfig>();
  const neededFirst = neededStages(validated.stages, validated.stages.length - 1);
  for (const ref of validated.fromImages) {
    if (!validated.stages.some((stage) => neededFirst.has(stage.index) && stage.from.kind === 'image' && stage.from.ref === ref)) continue;
    const info = await docker.getImage(await build.pinnedImage(ref)).inspect();
    baseConfigs.set(ref, info.Config as RuntimeConfig);
  }
  const plan = planDockerfile(text, where, { buildArgs: input.buildArgs, baseConfig: (ref) => baseConfigs.get(ref) ?? {} });

  const final = plan.stages.at(-1)!;
  // Stages whose layers end up in the image: the final one and those it is built FROM.
  const layered = new Set<number>([final.index]);
  for (let stage: Stage | undefined = final; stage?.from.kind === 'stage'; stage = plan.stages[stage.from.index]) layered.add(stage.from.index);
  const needed = neededStages(plan.stages, final.index);

  try {
    for (const stage of plan.stages) {
      if (!needed.has(stage.index)) continue;
      build.say(`stage ${stage.index}${stage.name ? ` (${stage.name})` : ''}: FROM ${describeSource(stage.from, plan.stages)}`);
      const state = await startStage(build, stage, layered.has(stage.index));
      build.states.set(stage.index, state);
      for (const instruction of stage.instructions) {
        build.say(`${where}:${instruction.line}: ${instruction.text}`);
        const at = `${where}:${instruction.line}`;
        const step: Step = {
          at,
          needsLayers: layered.has(stage.index),
          fail: (message) => {
            throw new UserError(`${at}: ${message}`);
          },
        };
        let outcome;
        try {
          outcome = await (HANDLERS[instruction.op] as Handler<StageInstruction>)(build, state, instruction, step);
        } catch (error) {
          if (error instanceof UserError) throw error;
          // Docker's own errors (a 500 from the daemon) still name the instruction that caused them.
          throw new UserError(`${at}: ${instruction.op}: ${(error as Error).message.split('\n')[0]}`);
        }
        state.config.history.push({ created: build.created, created_by: instruction.text, ...(outcome === 'layer' ? {} : { empty_layer: true as const }) });
      }
    }
    const state = build.states.get(final.index)!;
    const config = imageConfigJson({ ...state.config, created: build.created, rootfs: { type: 'layers', diff_ids: state.layers!.map((layer) => layer.diffId) } });
    return {
      config,
      imageId: sha256Digest(config),
      layers: state.layers!,
      images: build.images,
      runs: build.runs,
      ...(input.runOverrides ? { overridesReached: [...build.overridesReached].sort() } : {}),
    };
  } finally {
    await build.cleanup();
  }
}

/** A Dockerfile's text, bounded; a missing or oversized file is one line naming it. */
export function readDockerfile(path: string, where: string): string {
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
