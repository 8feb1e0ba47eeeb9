import type Docker from 'dockerode';
import { join } from 'node:path';
import { findEnvLockForImage } from '../../env/build-env';
import { prepareBuilder } from '../../build/container-build';
import { parsePinnedImageRef } from '../../docker/docker';
import type { RunnerOverrides } from '../../build/runner-overrides';
import { isoDate } from '../../env/oci-config';
import { BuildContext } from '../dockerfile/build-context';
import type { Owner } from '../dockerfile/dockerfile';
import type { LayerFile } from '../layout/image-files';
import { writeLayer, type LayerEntry } from '../layer';
import { statInContainer, type FileNode, type FsView } from '../stage-files';
import type { StageState } from './stage-state';
import { dockerfileLockPath, readDockerfileLockIfAny, type DockerfileLock } from '../apt/dockerfile-lock';

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
  /** Where npm caches filled from a RUN's package-lock.json are kept (default $XDG_CACHE_HOME/reprokit/npm-ci). */
  npmCacheRoot?: string;
  /** Docker network of the fetch phase that fills them (default `host`); the RUN itself has none. */
  fetchNetwork?: string;
  logPrefix: string;
  log?: (line: string) => void;
}

export type Stat = (path: string) => Promise<FileNode | undefined>;

/**
 * What one build shares across its stages and instructions: the input, the pinned images prepared
 * so far, the stages' states (COPY --from reads them), RUN's caches, scratch files and the
 * containers and images to remove at the end. Each instruction's handler gets it with the state
 * of its own stage.
 */
export class BuildSession {
  readonly log: (line: string) => void;
  /** The Dockerfile as shown in messages (relative to the working directory). */
  readonly where: string;
  readonly created: string;
  readonly context: BuildContext;
  readonly states = new Map<number, StageState>();
  /** The pinned images the build used, as written in the Dockerfile. */
  readonly images: string[] = [];
  /** RUN --mount=type=cache directories by id, shared by the build's stages. */
  readonly caches = new Map<string, string>();
  readonly overridesReached = new Set<string>();
  runs = 0;
  private readonly cleanups: (() => Promise<unknown>)[] = [];
  private readonly prepared = new Map<string, string>();
  private lock?: Promise<DockerfileLock | undefined>;
  private counter = 0;

  constructor(
    readonly docker: Docker,
    readonly input: OciBuildInput,
    where: string,
  ) {
    this.log = input.log ?? ((line: string) => process.stderr.write(line + '\n'));
    this.where = where;
    this.created = isoDate(input.sourceDateEpoch);
    this.context = new BuildContext(input.context);
  }

  say(line: string): void {
    this.log(this.input.logPrefix + line);
  }

  scratchPath(what: string): string {
    return join(this.input.workDir, `${what}-${++this.counter}`);
  }

  /** Something to undo when the build ends, successful or not (in reverse order). */
  onCleanup(undo: () => Promise<unknown>): void {
    this.cleanups.push(undo);
  }

  async cleanup(): Promise<void> {
    for (const undo of this.cleanups.reverse()) await undo().catch(() => undefined);
  }

  /** A pinned image, built from the environment lock that records it when docker lacks it. */
  async pinnedImage(ref: string): Promise<string> {
    if (!this.images.includes(ref)) this.images.push(ref);
    if (!this.prepared.has(ref)) {
      const envLock = findEnvLockForImage(parsePinnedImageRef(ref).digest, this.input.envLocks ?? []);
      this.prepared.set(ref, (await prepareBuilder({ docker: this.docker, image: ref, envLock, logPrefix: this.input.logPrefix, log: this.log })).imageId);
    }
    return this.prepared.get(ref)!;
  }

  /** The Dockerfile's package lock (`<Dockerfile>.lock.json`), read once; undefined when there is none. */
  dockerfileLock(): Promise<DockerfileLock | undefined> {
    return (this.lock ??= readDockerfileLockIfAny(dockerfileLockPath(this.input.dockerfile)));
  }

  /** `lstat` inside a stage: its view, or docker for a stage only docker holds. */
  statOf(state: StageState): Stat {
    if (state.view) {
      const view = state.view;
      return async (path) => view.get(path);
    }
    let container: Docker.Container | undefined;
    const cache = new Map<string, FileNode | undefined>();
    return async (path) => {
      if (cache.has(path)) return cache.get(path);
      container ??= await this.probeContainer(state.fsImage!, state.pending);
      const node = await statInContainer(container, path);
      cache.set(path, node);
      return node;
    };
  }

  /** A container (never started) of an image with the pending layers put in: for stat and getArchive. */
  async probeContainer(image: string, pending: LayerFile[] = []): Promise<Docker.Container> {
    const container = await this.docker.createContainer({ Image: image, Cmd: ['true'], NetworkDisabled: true, Labels: { 'dev.reprokit.run': 'probe' } });
    this.onCleanup(() => container.remove({ force: true }));
    for (const layer of pending) await container.putArchive(layer.path, { path: '/' });
    return container;
  }

  /** A layer reprokit writes (COPY, ADD, WORKDIR), with the parents it needs, added to the stage. */
  addLayer(state: StageState, entries: LayerEntry[], fail: (message: string) => never): void {
    if (state.view) {
      checkSymlinkCrossing(state.view, entries, fail);
      entries = withParents(state.view, entries);
    }
    const layer = writeLayer(entries, this.scratchPath('layer') + '.tar', this.input.sourceDateEpoch);
    state.layers?.push(layer);
    state.pending.push(layer);
    for (const entry of entries) state.added.set(entry.name, entry);
    state.view?.applyEntries(entries);
  }
}

/** Directory entries for the given paths and their parents that the stage does not have yet. */
export async function missingDirectories(stat: Stat, paths: string[], owner: Owner): Promise<LayerEntry[]> {
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
