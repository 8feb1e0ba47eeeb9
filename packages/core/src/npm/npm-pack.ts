import { existsSync, lstatSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { buildArtifactInContainer, prepareBuilder } from '../build/container-build';
import { runInContainer } from '../docker/docker';
import { UserError } from '../errors';
import { readPackablePackage } from './package-json';
import { sha512Integrity } from './registry-tarball';

export interface NpmPackInput {
  /** The package's directory: copied (what git would check out) to a writable /src. */
  projectDir: string;
  /** The workspace root: its node_modules is what the package's prepack/prepare scripts require. */
  workspaceRoot: string;
  /** The Node environment, `name@sha256:…` (the node-builder, or any image with node and npm on PATH). */
  image: string;
  envLock?: string;
  outputDir: string;
  sourceDateEpoch: number;
  logPrefix: string;
  log?: (line: string) => void;
}

export interface NpmPackResult {
  file: string;
  /** npm pack's file name, `<name>-<version>.tgz` (a scope's `@` dropped, its `/` made `-`). */
  filename: string;
  /** The tarball's `sha512-…`, as a registry's dist.integrity shows it. */
  integrity: string;
  /** `node <version>, npm <version>`, as the image's node and npm report themselves. */
  toolchain: string;
  imageId: string;
}

/**
 * npm's configuration in the container: nothing from the network, the cache in /tmp (the root is
 * read-only), no update check, audit or funding message (each would try the network).
 */
export const NPM_PACK_ENV: Record<string, string> = {
  npm_config_offline: 'true',
  npm_config_cache: '/tmp/npm-cache',
  npm_config_update_notifier: 'false',
  npm_config_audit: 'false',
  npm_config_fund: 'false',
};

/** node_modules the scripts can require: the package's own at /src/node_modules, the workspace's at /node_modules (Node looks up through /). */
export function nodeModulesMounts(projectDir: string, workspaceRoot: string): { host: string; container: string }[] {
  const mounts: { host: string; container: string }[] = [];
  const isDir = (path: string) => lstatSync(path, { throwIfNoEntry: false })?.isDirectory() ?? false;
  if (isDir(join(projectDir, 'node_modules'))) mounts.push({ host: join(projectDir, 'node_modules'), container: '/src/node_modules' });
  if (relative(workspaceRoot, projectDir) !== '' && isDir(join(workspaceRoot, 'node_modules'))) mounts.push({ host: join(workspaceRoot, 'node_modules'), container: '/node_modules' });
  return mounts;
}

/** The versions of node and npm in the image, asked in a container of it (no network, read-only). */
async function imageToolchain(input: NpmPackInput, log: (line: string) => void): Promise<{ toolchain: string; imageId: string }> {
  const prepared = await prepareBuilder({ image: input.image, envLock: input.envLock, logPrefix: input.logPrefix, log });
  const lines: string[] = [];
  await runInContainer(prepared.docker, {
    image: prepared.imageId,
    cmd: ['sh', '-c', 'node --version && npm --version'],
    user: prepared.user,
    env: { ...NPM_PACK_ENV, HOME: '/tmp' },
    mounts: [],
    workdir: '/tmp',
    logPrefix: '',
    log: (line) => lines.push(line),
  });
  const [node, npm] = lines.map((line) => line.trim()).filter(Boolean);
  if (!/^v[0-9]+\.[0-9]+\.[0-9]+/.test(node ?? '') || !/^[0-9]+\.[0-9]+\.[0-9]+/.test(npm ?? '')) {
    throw new UserError(`${input.image}: node --version and npm --version gave ${JSON.stringify(lines.join(' | ').slice(0, 200))}: the image needs node and npm on PATH`);
  }
  return { toolchain: `node ${node.slice(1)}, npm ${npm}`, imageId: prepared.imageId };
}

/**
 * `npm pack` of a package in a pinned Node image: a writable copy of the package at /src (its
 * git-visible files, as a clean checkout has them), no network, npm's prepack/prepare/postpack run
 * as npm runs them, the tarball written to /out and installed as `<outputDir>/<npm pack's file
 * name>` (mode 0644) with its build record (kind `npm`, the image, node's and npm's versions).
 */
export async function packNpmInContainer(input: NpmPackInput): Promise<NpmPackResult> {
  const log = input.log ?? ((line: string) => process.stderr.write(line + '\n'));
  const pkg = readPackablePackage(input.projectDir);
  if (!existsSync(input.projectDir)) throw new UserError(`${input.projectDir}: no such directory`);
  const { toolchain } = await imageToolchain(input, log);
  const result = await buildArtifactInContainer({
    projectDir: input.projectDir,
    image: input.image,
    envLock: input.envLock,
    command: ['npm', 'pack', '--pack-destination', '/out'],
    artifact: pkg.filename,
    inTree: true,
    name: pkg.filename,
    kind: 'npm',
    outputDir: input.outputDir,
    sourceDateEpoch: input.sourceDateEpoch,
    readOnlyMounts: nodeModulesMounts(input.projectDir, input.workspaceRoot),
    env: { ...NPM_PACK_ENV },
    toolchain,
    mode: 0o644,
    logPrefix: input.logPrefix,
    log,
  });
  return { file: result.file, filename: pkg.filename, integrity: await sha512Integrity(result.file), toolchain, imageId: result.imageId };
}

/** The lock @reprokit/core ships for the node-builder. */
export const NODE_BUILDER_LOCK = join(__dirname, '..', '..', 'envs', 'node-builder', 'env.lock.json');

/** reprokit's node-builder: the image its shipped lock records, and that lock to build it from. */
export function defaultNodeBuilder(): { image: string; envLock: string } {
  let imageId: unknown;
  try {
    imageId = JSON.parse(readFileSync(NODE_BUILDER_LOCK, 'utf8')).imageId;
  } catch (error) {
    throw new UserError(`${NODE_BUILDER_LOCK}: cannot read reprokit's node-builder lock (${(error as Error).message}): give the target an image`);
  }
  if (typeof imageId !== 'string') throw new UserError(`${NODE_BUILDER_LOCK}: records no image ID: give the target an image`);
  return { image: `reprokit/node-builder@${imageId}`, envLock: NODE_BUILDER_LOCK };
}
