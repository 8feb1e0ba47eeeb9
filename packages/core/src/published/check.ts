import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { renderArchVerify, verifyArchPackage } from '../arch/verify-package';
import { diffBuffersResult } from '../diff/diff';
import { diffImages, isOciLayoutDir, readOciLayoutDir, type ImageView } from '../diff/image';
import { DiffContext, type DiffResult } from '../diff/types';
import { diffBuffers } from '../diff/diff';
import { isUserError, UserError } from '../errors';
import { defaultKeepDir, KeepStore } from '../explain/keep-store';
import { hashFile } from '../hash';
import { readManifest, type Artifact, type PublishedLocation } from '../manifest/manifest';
import { workspaceRootOf } from '../fs/workspace-root';
import { RefusedLocationError } from '../net/address-policy';
import { downloadToFile, UnreachableError, type DownloadedFile, type FetchOptions } from '../net/bounded-fetch';
import { releaseOnSignal, removeOnSignal } from '../net/temp-files';
import { fetchNpmLocation } from './npm';
import { findInPacmanRepository, pacmanServer } from './pacman';
import { readRegistryImage } from './registry';

export type PublishedStatus = 'match' | 'differs' | 'unreachable';

export interface PublishedCheck {
  artifact: string;
  /** The location as the manifest writes it (a URL, an image reference, a pacman server and repo). */
  location: string;
  type: 'url' | 'oci' | 'pacman' | 'npm';
  status: PublishedStatus;
  /** Why it differs or is unreachable, one line. */
  reason?: string;
  /** Said of a match that is not byte for byte (a registry's recompressed layers). */
  note?: string;
  /** What differs, when the expected bytes were at hand (the kept copy the manifest points at). */
  diff?: DiffResult;
  /** The published file, for `--rebuild` (a pacman package), when kept. */
  downloaded?: string;
  /** `--rebuild`: `arch verify` of the published package (its .BUILDINFO rebuilt in the recorded image). */
  rebuild?: { reproducible: boolean; report: string };
}

export interface PublishedResult {
  manifestPath: string;
  project: string;
  checks: PublishedCheck[];
  /** 0 all match, 1 a publication differs, 2 one is unreachable. */
  exitCode: 0 | 1 | 2;
}

export interface PublishedOptions {
  /** Idle timeout of each download. */
  timeoutMs?: number;
  /** Total time of each download (default: 5 minutes plus a second per MiB of the artifact). */
  deadlineMs?: number;
  /** curl's --speed-limit/--speed-time (default 1 KiB/s for 30 s). */
  minRate?: FetchOptions['minRate'];
  retries?: number;
  /** Loopback, link-local and private addresses allowed (--allow-private-network); default REPROKIT_ALLOW_PRIVATE_NETWORK. */
  allowPrivateNetwork?: boolean;
  /** Keep downloaded files in this directory (e.g. for `arch verify`); otherwise a temporary one is removed. */
  keepDir?: string;
  /** Rebuild each published pacman package from its .BUILDINFO (`arch verify`) and report the verdict. */
  rebuild?: boolean;
  log?: (line: string) => void;
}

export function describeLocation(location: PublishedLocation): { type: PublishedCheck['type']; text: string } {
  if ('url' in location) return { type: 'url', text: location.url };
  if ('oci' in location) return { type: 'oci', text: location.oci };
  if ('npm' in location) return { type: 'npm', text: location.registry ? `${location.npm} (${location.registry})` : location.npm };
  return { type: 'pacman', text: `${location.pacman} (${location.repo})` };
}

/**
 * The bytes the manifest records: the file it points at if it still hashes as recorded, else the
 * copy a matching build left in the keep store (explain/keep-store.ts).
 */
async function keptCopy(manifestDir: string, artifact: Artifact): Promise<string | undefined> {
  const file = resolve(manifestDir, artifact.path);
  if (existsSync(file)) {
    const { size, digests } = await hashFile(file, ['sha256']);
    if (size === artifact.size && digests.sha256 === artifact.sha256) return file;
  }
  return new KeepStore(defaultKeepDir(manifestDir)).find(artifact.sha256, artifact.size);
}

const NO_COPY = 'build it (nx run <project>:reproduce) to see what differs';

/** Compares a downloaded file with the manifest's hashes and, when it differs, with the kept copy. */
async function compareDownload(manifestDir: string, artifact: Artifact, got: DownloadedFile, label: string): Promise<Pick<PublishedCheck, 'status' | 'reason' | 'diff'>> {
  if (!got.truncated && got.size === artifact.size && got.sha256 === artifact.sha256 && got.blake2b512 === artifact.blake2b512) return { status: 'match' };
  const reason = got.truncated
    ? `larger than the ${artifact.size} bytes the manifest records (download stopped there)`
    : got.size !== artifact.size
      ? `${got.size} bytes, the manifest records ${artifact.size}`
      : `sha256 ${got.sha256}, the manifest records ${artifact.sha256}`;
  // Past the recorded size only a prefix was fetched: nothing a format-aware diff could read.
  if (got.truncated) return { status: 'differs', reason };
  const kept = await keptCopy(manifestDir, artifact);
  if (!kept) return { status: 'differs', reason: `${reason}; no copy of the recorded bytes at ${artifact.path}: ${NO_COPY}` };
  const diff = diffBuffersResult(readFileSync(kept), readFileSync(got.file), [artifact.path, label], basename(artifact.path));
  return { status: 'differs', reason, diff };
}

async function checkUrl(manifestDir: string, artifact: Artifact, url: string, work: string, fetch: FetchOptions): Promise<Partial<PublishedCheck>> {
  const got = await downloadToFile(url, join(work, `${artifact.name}.download`), { ...fetch, maxBytes: artifact.size });
  return { ...(await compareDownload(manifestDir, artifact, got, url)), downloaded: got.file };
}

/**
 * An image in a registry: the same image ID (config digest) and diffIDs as the manifest records
 * is the same image; another manifest digest then only means the registry stored the layers
 * otherwise (recompressed). Another image ID is a difference, explained layer by layer against the
 * kept OCI layout.
 */
async function checkOci(manifestDir: string, artifact: Artifact, ref: string, fetch: Omit<FetchOptions, 'maxBytes'>): Promise<Partial<PublishedCheck>> {
  const image = artifact.image;
  if (!image) throw new UserError(`artifact ${artifact.name}: an oci location needs the image the manifest records (kind oci, with "image")`);
  const published = await readRegistryImage(ref, { ...fetch, maxLayerBytes: 1 << 30 });
  const view = published.view;
  const diffIds = (view.config as { rootfs?: { diff_ids?: unknown } })?.rootfs?.diff_ids;
  if (view.configDigest === image.id && JSON.stringify(diffIds) === JSON.stringify(image.diffIds)) {
    if (view.manifestDigest === image.manifestDigest) return { status: 'match' };
    return { status: 'match', note: `same image, recompressed layers (manifest ${view.manifestDigest}, reprokit's is ${image.manifestDigest})` };
  }
  const reason = `image ID ${view.configDigest}, the manifest records ${image.id}`;
  const layoutDir = resolve(manifestDir, image.layout);
  let local: ImageView | undefined;
  try {
    if (isOciLayoutDir(layoutDir)) local = readOciLayoutDir(layoutDir, 1 << 30);
  } catch (error) {
    if (!isUserError(error)) throw error;
  }
  if (!local || local.configDigest !== image.id) return { status: 'differs', reason: `${reason}; no OCI layout of the recorded image at ${image.layout}: ${NO_COPY}` };
  // Layers with the diffID the local image has are the same layer: use the local one, fetch only the others.
  const localDiffIds = ((local.config as { rootfs?: { diff_ids?: string[] } }).rootfs?.diff_ids ?? []) as string[];
  const publishedDiffIds = (Array.isArray(diffIds) ? diffIds : []) as string[];
  const toFetch: string[] = [];
  view.layers = view.layers.map((layer, i) => {
    if (publishedDiffIds[i] && publishedDiffIds[i] === localDiffIds[i] && local!.layers[i]) return local!.layers[i];
    toFetch.push(layer.digest);
    return layer;
  });
  await published.fetchLayers(toFetch);
  const context = new DiffContext();
  diffImages(context, [], local, view, (where, a, b, name, depth) => diffBuffers(context, where, a, b, name, depth), 0);
  return { status: 'differs', reason, diff: { a: image.layout, b: ref, format: 'oci', same: context.count === 0, differences: context.differences, more: context.dropped } };
}

/**
 * An npm registry's package version: its tarball against the manifest (explained against the kept
 * copy when it differs), and the registry's claims about it (published/npm.ts); any claim that
 * disagrees is a DIFFERS naming it, even when the bytes match.
 */
async function checkNpm(manifestDir: string, artifact: Artifact, location: { npm: string; registry?: string }, work: string, fetch: Omit<FetchOptions, 'maxBytes'>): Promise<Partial<PublishedCheck>> {
  const { got, claims } = await fetchNpmLocation(manifestDir, artifact, location, work, fetch);
  const compared = await compareDownload(manifestDir, artifact, got, claims.tarball);
  const reasons = [...(compared.reason ? [compared.reason] : []), ...claims.problems];
  const where = `${claims.registry} (${claims.registrySource})`;
  if (compared.status === 'match' && claims.problems.length === 0) return { status: 'match', note: `${where}; ${claims.agreed.join('; ')}`, downloaded: got.file };
  return { ...compared, status: 'differs', reason: `${reasons.join('; ')} [${where}]`, downloaded: got.file };
}

async function checkPacman(manifestDir: string, artifact: Artifact, location: { pacman: string; repo: string }, work: string, fetch: FetchOptions): Promise<Partial<PublishedCheck>> {
  const filename = basename(artifact.path);
  const server = pacmanServer(location.pacman, location.repo, filename);
  const entry = await findInPacmanRepository(server, location.repo, filename, fetch);
  if (!entry) return { status: 'differs', reason: `${location.repo}.db lists no ${filename}` };
  const url = `${server}/${encodeURIComponent(entry.filename)}`;
  const got = await downloadToFile(url, join(work, filename), { ...fetch, maxBytes: artifact.size });
  const compared = await compareDownload(manifestDir, artifact, got, url);
  // The repository's own record of the package must agree with what it serves and with the manifest.
  const problems: string[] = [];
  if (entry.sha256 && entry.sha256 !== artifact.sha256) problems.push(`${location.repo}.db: %SHA256SUM% ${entry.sha256}, the manifest records ${artifact.sha256}`);
  if (entry.csize !== undefined && entry.csize !== artifact.size) problems.push(`${location.repo}.db: %CSIZE% ${entry.csize}, the manifest records ${artifact.size}`);
  if (entry.sha256 && !got.truncated && entry.sha256 !== got.sha256) problems.push(`the served file does not match ${location.repo}.db's %SHA256SUM%`);
  if (compared.status === 'match' && problems.length === 0) return { status: 'match', downloaded: got.file };
  return { ...compared, status: 'differs', reason: [compared.reason, ...problems].filter(Boolean).join('; '), downloaded: got.file };
}

/**
 * `reprokit published`: every location of every artifact is fetched and compared with the
 * committed hashes; nothing is rebuilt. MATCH, DIFFERS (with what differs) or UNREACHABLE (why).
 */
export async function checkPublished(manifestPath: string, options: PublishedOptions = {}): Promise<PublishedResult> {
  const manifest = await readManifest(manifestPath);
  const manifestDir = dirname(resolve(manifestPath));
  const targets = manifest.artifacts.flatMap((artifact) => (artifact.published ?? []).map((location) => ({ artifact, location })));
  if (targets.length === 0) {
    throw new UserError(`${manifestPath}: no artifact lists where it was published: add one with \`reprokit published add ${manifestPath} ARTIFACT --url URL\``);
  }
  const work = options.keepDir ?? mkdtempSync(join(tmpdir(), 'reprokit-published-'));
  if (!options.keepDir) removeOnSignal(work);
  // A manifest's locations are input: file:// stays inside its workspace, and the network guard holds (net/).
  const fetch = {
    timeoutMs: options.timeoutMs,
    deadlineMs: options.deadlineMs,
    minRate: options.minRate,
    retries: options.retries,
    allowPrivateNetwork: options.allowPrivateNetwork,
    files: { root: workspaceRootOf(manifestDir) },
  };
  const checks: PublishedCheck[] = [];
  try {
    for (const { artifact, location } of targets) {
      const { type, text } = describeLocation(location);
      options.log?.(`checking ${artifact.name} at ${text}`);
      let result: Partial<PublishedCheck>;
      try {
        if ('url' in location) result = await checkUrl(manifestDir, artifact, location.url, work, { ...fetch, maxBytes: artifact.size });
        else if ('oci' in location) result = await checkOci(manifestDir, artifact, location.oci, fetch);
        else if ('npm' in location) result = await checkNpm(manifestDir, artifact, location, work, fetch);
        else result = await checkPacman(manifestDir, artifact, location, work, { ...fetch, maxBytes: artifact.size });
      } catch (error) {
        if (error instanceof UnreachableError || error instanceof RefusedLocationError) result = { status: 'unreachable', reason: error.message };
        else if (isUserError(error) && !(error.message.startsWith(`artifact ${artifact.name}:`))) result = { status: 'differs', reason: error.message };
        else throw error;
      }
      if (options.rebuild && type === 'pacman' && result.downloaded) {
        const verdict = await verifyArchPackage({ packageFile: result.downloaded, manifestPath, log: options.log });
        result.rebuild = { reproducible: verdict.reproducible, report: renderArchVerify(verdict) };
      }
      checks.push({ artifact: artifact.name, location: text, type, status: result.status!, ...result } as PublishedCheck);
    }
  } finally {
    if (!options.keepDir) {
      rmSync(work, { recursive: true, force: true });
      releaseOnSignal(work);
    }
  }
  const exitCode = checks.some((c) => c.status === 'differs' || c.rebuild?.reproducible === false) ? 1 : checks.some((c) => c.status === 'unreachable') ? 2 : 0;
  if (!options.keepDir) for (const check of checks) delete check.downloaded;
  return { manifestPath, project: manifest.project, checks, exitCode };
}
