import type Docker from 'dockerode';
import { posix } from 'node:path';
import { UserError } from '../errors';
import { tarEntries } from '../archive/tar-reader';
import type { LayerEntry } from './layer';

/** What is at one path of a stage's filesystem. */
export interface FileNode {
  type: 'directory' | 'file' | 'symlink' | 'other';
  /** A symlink's target. */
  target?: string;
  mode: number;
  uid: number;
  gid: number;
}

export const WHITEOUT_PREFIX = '.wh.';
export const OPAQUE_WHITEOUT = '.wh..wh..opq';

/**
 * The whole filesystem of a stage whose layers reprokit holds (the exported base image, then every
 * layer the Dockerfile adds), applied as docker applies layers: later entries replace earlier ones,
 * `.wh.NAME` deletes NAME and what is below it, `.wh..wh..opq` empties its directory of what lower
 * layers put there. Paths have no leading `/`.
 */
export class FsView {
  private readonly nodes: Map<string, FileNode>;

  constructor(nodes?: Map<string, FileNode>) {
    this.nodes = new Map(nodes);
  }

  clone(): FsView {
    return new FsView(this.nodes);
  }

  get(path: string): FileNode | undefined {
    return this.nodes.get(path);
  }

  /** Applies a layer tar (a base image's). */
  applyTar(archive: string, what: string): void {
    const entries: { name: string; node: FileNode }[] = [];
    for (const entry of tarEntries(archive, what, { safe: true })) {
      const type = entry.type === 'directory' ? 'directory' : entry.type === 'symlink' ? 'symlink' : entry.type === 'file' || entry.type === 'hardlink' ? 'file' : 'other';
      entries.push({ name: entry.path.replace(/\/+$/, ''), node: { type, target: entry.type === 'symlink' ? entry.link : undefined, mode: entry.mode & 0o7777, uid: entry.uid, gid: entry.gid } });
    }
    this.applyLayer(entries);
  }

  /** Applies a layer reprokit wrote. */
  applyEntries(entries: LayerEntry[]): void {
    this.applyLayer(
      entries.map((entry) => ({
        name: entry.name,
        node: { type: entry.type === 'whiteout' ? 'file' : entry.type, target: entry.type === 'symlink' ? entry.target : undefined, mode: entry.mode, uid: entry.uid, gid: entry.gid },
      })),
    );
  }

  private applyLayer(entries: { name: string; node: FileNode }[]): void {
    // Whiteouts act on the lower layers only, so they go first.
    for (const { name } of entries) {
      const base = posix.basename(name);
      const dir = posix.dirname(name) === '.' ? '' : posix.dirname(name);
      if (base === OPAQUE_WHITEOUT) this.removeBelow(dir);
      else if (base.startsWith(WHITEOUT_PREFIX)) {
        const gone = (dir ? dir + '/' : '') + base.slice(WHITEOUT_PREFIX.length);
        this.nodes.delete(gone);
        this.removeBelow(gone);
      }
    }
    for (const { name, node } of entries) {
      if (name === '' || name === '.' || posix.basename(name).startsWith(WHITEOUT_PREFIX)) continue;
      // A directory entry over an existing directory changes its metadata; anything else replaces what was there.
      if (node.type !== 'directory' && this.nodes.get(name)?.type === 'directory') this.removeBelow(name);
      this.nodes.set(name, node);
    }
  }

  private removeBelow(dir: string): void {
    const prefix = dir === '' ? '' : dir + '/';
    for (const path of [...this.nodes.keys()]) if (path.startsWith(prefix) && path !== dir) this.nodes.delete(path);
  }
}

/** `lstat` of a path inside a stage (no leading `/`): the node, or undefined when nothing is there. */
export type StatInStage = (path: string) => Promise<FileNode | undefined>;

/**
 * Where `path` really is in the stage: every symlink on the way (the last component's too) followed
 * inside the stage's root, as docker does for a COPY destination. A missing component ends the walk
 * (what follows will be created). `..` and absolute targets never leave the root.
 */
export async function resolveInStage(path: string, stat: StatInStage): Promise<string> {
  let pending = path.split('/').filter((part) => part !== '' && part !== '.');
  let resolved: string[] = [];
  for (let hops = 0; pending.length > 0; ) {
    const part = pending.shift()!;
    if (part === '..') {
      resolved.pop();
      continue;
    }
    const candidate = [...resolved, part].join('/');
    const node = await stat(candidate);
    if (node?.type === 'symlink' && node.target !== undefined) {
      if (++hops > 40) throw new UserError(`/${path}: too many levels of symbolic links`);
      const target = node.target.split('/').filter((p) => p !== '' && p !== '.');
      if (node.target.startsWith('/')) resolved = [];
      pending = [...target, ...pending];
      continue;
    }
    resolved.push(part);
    if (!node) {
      resolved.push(...pending.filter((p) => p !== '..'));
      break;
    }
  }
  return resolved.join('/');
}

/**
 * `lstat` through docker for a stage only docker holds (after a RUN in a build stage): HEAD on the
 * container's archive endpoint, whose `X-Docker-Container-Path-Stat` header has Go's FileMode.
 */
export async function statInContainer(container: Docker.Container, path: string): Promise<FileNode | undefined> {
  let response: { headers: Record<string, string | undefined>; resume?: () => void };
  try {
    response = (await container.infoArchive({ path: '/' + path })) as unknown as typeof response;
  } catch {
    return undefined;
  }
  response.resume?.();
  const header = response.headers['x-docker-container-path-stat'];
  if (!header) return undefined;
  const stat = JSON.parse(Buffer.from(header, 'base64').toString('utf8')) as { mode: number; linkTarget?: string };
  const goMode = stat.mode >>> 0;
  const type = goMode & 0x80000000 ? 'directory' : goMode & 0x8000000 ? 'symlink' : goMode & 0x7280000 ? 'other' : 'file';
  // The owner is not in the header; callers only ask about types and link targets.
  return { type, target: type === 'symlink' ? stat.linkTarget : undefined, mode: goMode & 0o777, uid: 0, gid: 0 };
}
