import type Docker from 'dockerode';
import { registryOf } from '../../docker/docker';
import { selectManifest } from '../../diff/image';
import { UserError } from '../../errors';
import { parseImageReference, RegistryClient } from '../../published/registry';
import { IMAGE_REGISTRIES_ENV, imageRegistries } from './image-registries';

/** How many of a repository's tags are read (one manifest request each) before giving up on it. */
const MAX_TAGS_TRIED = 100;
/** Per registry request: a registry that does not answer must not hold a build up for long. */
const REGISTRY_TIMEOUT_MS = 5_000;

export interface RegistryPullResult {
  /** The image ID docker now has, equal to the pinned one; undefined when no registry had it. */
  imageId?: string;
  /** `repository@sha256:<manifest digest>` it was pulled from. */
  from?: string;
  /** Per registry, why it was not used (unreachable, no such image, another image under the tag). */
  refused: string[];
}

/** The tag `reprokit env push` (and `env build --push`) gives an environment image: its image ID's first 12 hex digits. */
export function envImageTag(imageId: string): string {
  return imageId.slice(7, 19);
}

/** Where a pinned image `name@sha256:…` is looked for in a registry entry: `<entry>/<name without its own registry>`. */
export function registryRepository(entry: string, name: string): string {
  const own = registryOf(name);
  return `${entry}/${own ? name.slice(own.length + 1) : name}`;
}

/**
 * Pulls the pinned image from the first registry that holds it. A pin is an image ID (config
 * digest: reprokit's builder pins) or a manifest digest (`FROM debian@sha256:…`, as `docker pull`
 * and pin updaters write them). A manifest digest is asked for directly; an image ID cannot be, so
 * the repository's manifests are read (the tag reprokit pushes first, then the others) until one's
 * config digest is the pin. docker pulls that manifest by digest (docker checks every blob against
 * it), and the image it then has must be the expected ID, else it is refused. Nothing is trusted
 * from the registry that docker and the digests do not check.
 */
export async function pullPinnedImage(
  docker: Docker,
  name: string,
  imageId: string,
  registries: string[],
  log: (line: string) => void = () => {},
): Promise<RegistryPullResult> {
  const refused: string[] = [];
  for (const entry of registries) {
    const repository = registryRepository(entry, name);
    let found: { digest: string; imageId: string } | undefined;
    try {
      found = await findManifestOf(repository, imageId, (line) => refused.push(line));
    } catch (error) {
      refused.push(`${repository}: ${(error as Error).message.split('\n')[0]}`);
      continue;
    }
    if (!found) continue;
    const ref = `${repository}@${found.digest}`;
    const expected = found.imageId;
    log(`pulling ${ref} (image ${expected})`);
    try {
      const stream = await docker.pull(ref);
      await new Promise<void>((done, fail) => docker.modem.followProgress(stream, (error) => (error ? fail(error) : done())));
    } catch (error) {
      refused.push(`${ref}: docker could not pull it (${(error as Error).message.split('\n')[0]})`);
      continue;
    }
    const pulled = await docker.getImage(ref).inspect().then((info) => info.Id, () => undefined);
    if (pulled !== expected) {
      // Cannot happen when docker checked the config against the manifest; refused all the same.
      refused.push(`${ref}: docker has it as ${pulled ?? 'nothing'}, not ${expected}`);
      await docker.getImage(ref).remove().catch(() => undefined);
      continue;
    }
    // The name a build from the lock gives it, so that it looks the same either way.
    await docker.getImage(expected).tag({ repo: name, tag: envImageTag(expected) }).catch(() => undefined);
    return { imageId: expected, from: ref, refused };
  }
  return { refused };
}

/**
 * The manifest in `repository` the pin names (its digest, and the image ID it gives): the pin
 * itself when it is a manifest digest there, else the manifest whose config digest is the pin; or
 * undefined (with the reasons given to `refuse`).
 */
async function findManifestOf(repository: string, pin: string, refuse: (line: string) => void): Promise<{ digest: string; imageId: string } | undefined> {
  // The workspace's own registries are configuration, not a manifest's request: private addresses allowed.
  const client = new RegistryClient(parseImageReference(repository), { timeoutMs: REGISTRY_TIMEOUT_MS, allowPrivateNetwork: true });
  // The pin as a manifest digest: one request, not retried, since an image ID is no manifest and
  // distribution 2.8 answers a blob's digest asked for as a manifest with 500, not 404. Nothing the
  // registry says here goes unchecked: docker pulls by this digest and checks every blob against it.
  const probe = new RegistryClient(parseImageReference(repository), { timeoutMs: REGISTRY_TIMEOUT_MS, retries: 0, allowPrivateNetwork: true });
  const byDigest = await amd64Manifest(probe, pin).catch((error) => {
    const status = (error as { status?: number }).status;
    if (status === 404 || status === 500) return undefined;
    throw error;
  });
  if (byDigest?.config) return { digest: pin, imageId: byDigest.config };
  const imageId = pin;
  const preferred = envImageTag(imageId);
  const tags = [preferred];
  let listed = false;
  for (let i = 0; i < tags.length && i <= MAX_TAGS_TRIED; i++) {
    const tag = tags[i];
    const manifest = await amd64Manifest(client, tag).catch((error) => {
      if ((error as { status?: number }).status === 404) return undefined;
      throw error;
    });
    if (manifest?.config === imageId) return { digest: manifest.digest, imageId };
    // A tag named after the pin holding another image is worth saying; other tags are just other images.
    if (manifest && tag === preferred) refuse(`${repository}:${tag}: holds image ${manifest.config ?? 'without a config'}, not the pinned ${imageId}: refused`);
    if (!listed) {
      listed = true;
      const all = await client.tags(1000).catch((error) => {
        if ((error as { status?: number }).status === 404) return [] as string[];
        throw error;
      });
      tags.push(...all.filter((other) => other !== preferred));
    }
  }
  refuse(`${repository}: no manifest among ${tags.length} tag(s) has config ${imageId}`);
  return undefined;
}

/** The linux/amd64 manifest a tag names (through an index) and its config digest. */
async function amd64Manifest(client: RegistryClient, reference: string): Promise<{ digest: string; config?: string }> {
  let top = await client.manifest(reference);
  for (let depth = 0; Array.isArray(top.json?.manifests); depth++) {
    if (depth >= 4) throw new UserError(`${client.base}: indexes nested deeper than 4`);
    top = await client.manifest(selectManifest(top.json, `${client.base}:${reference}`).digest);
  }
  const config = top.json?.config?.digest;
  return { digest: top.digest, config: typeof config === 'string' ? config : undefined };
}

/**
 * For a pin docker lacks: the image from the workspace's registries (imageRegistries). The caller
 * says what the refusals mean (a fallback to the lock, or an error that lists them).
 */
export async function pullFromWorkspaceRegistries(
  docker: Docker,
  name: string,
  imageId: string,
  log: (line: string) => void,
  registries?: string[],
): Promise<RegistryPullResult> {
  const listed = registries ?? (await imageRegistries());
  if (listed.length === 0) return { refused: [] };
  const result = await pullPinnedImage(docker, name, imageId, listed, log);
  if (result.from) log(`pulled ${result.imageId} from ${result.from}`);
  return result;
}

/** One line: which image no registry gave, why (each registry's reason), and what to do. */
export function noRegistryHolds(what: string, imageId: string, refused: string[]): UserError {
  const why = refused.length ? refused.join('; ') : `no registry is listed (${IMAGE_REGISTRIES_ENV} or nx.json's imageRegistries)`;
  return new UserError(`${what}: no registry gave image ${imageId} (${why}): push it with \`reprokit env push LOCK --registry HOST:PORT\`, or build it from its lock`);
}
