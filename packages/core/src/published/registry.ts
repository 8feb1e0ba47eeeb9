import { createHash } from 'node:crypto';
import { UserError } from '../errors';
import type { ImageLayer, ImageView } from '../diff/image';
import { selectManifest } from '../diff/image';
import { fetchBuffer, UnreachableError, type FetchOptions } from './http';

/** What `docker pull` accepts as an image reference, split into where to ask and what for. */
export interface ImageReference {
  registry: string;
  repository: string;
  /** A tag, or the digest when the reference pins one (the digest wins, as docker does). */
  reference: string;
  digest?: string;
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export function parseImageReference(ref: string): ImageReference {
  const at = ref.indexOf('@');
  const digest = at >= 0 ? ref.slice(at + 1) : undefined;
  if (digest !== undefined && !DIGEST.test(digest)) throw new UserError(`${ref}: the digest must be sha256:<64 hex>`);
  const name = at >= 0 ? ref.slice(0, at) : ref;
  const slash = name.indexOf('/');
  const first = slash >= 0 ? name.slice(0, slash) : '';
  // docker's rule: the first component is a registry when it has a dot or a port, or is localhost.
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  const registry = hasRegistry ? first : 'registry-1.docker.io';
  let path = hasRegistry ? name.slice(slash + 1) : name;
  const colon = path.lastIndexOf(':');
  const tag = colon > path.lastIndexOf('/') && colon >= 0 ? path.slice(colon + 1) : undefined;
  if (tag !== undefined) path = path.slice(0, colon);
  if (!hasRegistry && !path.includes('/')) path = `library/${path}`;
  if (!/^[a-z0-9]+([._-]+[a-z0-9]+)*(\/[a-z0-9]+([._-]+[a-z0-9]+)*)*$/.test(path)) throw new UserError(`${ref}: ${JSON.stringify(path)} is not a repository name`);
  return { registry, repository: path, reference: digest ?? tag ?? 'latest', ...(digest ? { digest } : {}) };
}

const MANIFEST_TYPES = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
];
const MAX_JSON = 4 << 20;
const sha256 = (bytes: Uint8Array) => 'sha256:' + createHash('sha256').update(bytes).digest('hex');

/** Parses `Bearer realm="…",service="…",scope="…"`. */
export function parseBearerChallenge(header: string): Record<string, string> | undefined {
  const match = /^\s*Bearer\s+(.*)$/i.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const part of match[1].matchAll(/([A-Za-z]+)="([^"]*)"/g)) params[part[1].toLowerCase()] = part[2];
  return params.realm ? params : undefined;
}

/**
 * A read-only client for one repository through the distribution API v2: anonymous bearer
 * tokens from the `WWW-Authenticate` challenge, OCI and Docker media types, every blob checked
 * against its digest.
 */
export class RegistryClient {
  private token?: string;
  readonly base: string;

  constructor(
    readonly image: ImageReference,
    private readonly options: Omit<FetchOptions, 'maxBytes'> = {},
  ) {
    // Plain HTTP only to this machine, as docker allows without configuration; TLS everywhere else.
    const scheme = /^(127\.0\.0\.1|localhost|\[::1\])(:|$)/.test(image.registry) ? 'http' : 'https';
    this.base = `${scheme}://${image.registry}/v2/${image.repository}`;
  }

  private async get(path: string, maxBytes: number, accept?: string[]): Promise<{ body: Buffer; headers: Record<string, unknown> }> {
    const attempt = () =>
      fetchBuffer(`${this.base}${path}`, {
        ...this.options,
        maxBytes,
        headers: { ...(accept ? { accept: accept.join(', ') } : {}), ...(this.token ? { authorization: `Bearer ${this.token}` } : {}) },
      });
    try {
      const { body, response } = await attempt();
      return { body, headers: response.headers };
    } catch (error) {
      const status = (error as { status?: number }).status;
      const headers = (error as { headers?: Record<string, unknown> }).headers;
      if (status !== 401 || this.token || !headers) throw error;
      await this.authenticate(String(headers['www-authenticate'] ?? ''));
      const { body, response } = await attempt();
      return { body, headers: response.headers };
    }
  }

  /** The distribution spec's token flow, anonymous: GET realm?service=…&scope=repository:NAME:pull. */
  private async authenticate(challenge: string): Promise<void> {
    const params = parseBearerChallenge(challenge);
    if (!params) throw new UnreachableError(`${this.image.registry}: authentication required (${challenge || 'no WWW-Authenticate challenge'}); only anonymous pulls are supported`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', params.scope ?? `repository:${this.image.repository}:pull`);
    const { body } = await fetchBuffer(url.href, { ...this.options, maxBytes: 1 << 20 }).catch((error) => {
      const status = (error as { status?: number }).status;
      // What Docker Hub says for a private image or a misspelled name: no anonymous token for that scope.
      if (status === 401 || status === 403) {
        throw new UnreachableError(`${this.image.registry}: the token service ${url.origin}${url.pathname} refused an anonymous token for ${url.searchParams.get('scope')} (HTTP ${status}): is the image private, or its name wrong?`);
      }
      throw error;
    });
    let token: unknown;
    try {
      const parsed = JSON.parse(body.toString('utf8'));
      token = parsed.token ?? parsed.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || !token) throw new UnreachableError(`${url.origin}${url.pathname}: the token service gave no token`);
    this.token = token;
  }

  /** A manifest or index by tag or digest, with the digest of its bytes (checked against the one asked for). */
  async manifest(reference: string): Promise<{ digest: string; mediaType: string; json: any; size: number }> {
    const { body, headers } = await this.get(`/manifests/${reference}`, MAX_JSON, MANIFEST_TYPES);
    const digest = sha256(body);
    if (DIGEST.test(reference) && digest !== reference) throw new UserError(`${this.base}/manifests/${reference}: the registry served a manifest with digest ${digest}`);
    let json: any;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new UserError(`${this.base}/manifests/${reference}: not JSON`);
    }
    const mediaType = String(json?.mediaType ?? headers['content-type'] ?? '');
    return { digest, mediaType, json, size: body.length };
  }

  /**
   * The repository's tags (`/tags/list`, one page of at most `max`; a registry that pages further
   * is read no further): a pinned image ID is not something a registry can be asked for directly.
   */
  async tags(max = 1000): Promise<string[]> {
    const { body } = await this.get(`/tags/list?n=${max}`, MAX_JSON);
    let json: any;
    try {
      json = JSON.parse(body.toString('utf8'));
    } catch {
      throw new UserError(`${this.base}/tags/list: not JSON`);
    }
    const tags: unknown = json?.tags ?? [];
    if (!Array.isArray(tags) || tags.some((tag) => typeof tag !== 'string')) throw new UserError(`${this.base}/tags/list: $.tags is not a list of strings`);
    return (tags as string[]).slice(0, max);
  }

  /**
   * The OCI 1.1 referrers of a manifest (`GET /referrers/<digest>`, an image index), or undefined
   * when the registry lacks the API (404, as distribution 2.8 answers): then the tag schema
   * (`sha256-<hex>`) is where clients list them.
   */
  async referrers(digest: string): Promise<any | undefined> {
    if (!DIGEST.test(digest)) throw new UserError(`${this.base}: subject digest ${JSON.stringify(digest)} is not sha256:<64 hex>`);
    try {
      const { body } = await this.get(`/referrers/${digest}`, MAX_JSON, ['application/vnd.oci.image.index.v1+json']);
      return JSON.parse(body.toString('utf8'));
    } catch (error) {
      if ((error as { status?: number }).status === 404) return undefined;
      if (error instanceof SyntaxError) throw new UserError(`${this.base}/referrers/${digest}: not JSON`);
      throw error;
    }
  }

  async blob(digest: string, maxBytes: number): Promise<Buffer> {
    if (!DIGEST.test(digest)) throw new UserError(`${this.base}: blob digest ${JSON.stringify(digest)} is not sha256:<64 hex>`);
    const { body } = await this.get(`/blobs/${digest}`, maxBytes);
    if (sha256(body) !== digest) throw new UserError(`${this.base}/blobs/${digest}: the registry served bytes with digest ${sha256(body)}`);
    return body;
  }
}

export interface RegistryImage {
  view: ImageView;
  /** Fetches these layers (by digest) so that `view.layers[i].read()` can give them to the diff, which is synchronous. */
  fetchLayers(digests: string[]): Promise<void>;
}

/** A registry image as an ImageView: the reference's manifest (linux/amd64 of an index), its config, its layers fetched on demand. */
export async function readRegistryImage(ref: string, options: Omit<FetchOptions, 'maxBytes'> & { maxLayerBytes: number }): Promise<RegistryImage> {
  const image = parseImageReference(ref);
  const client = new RegistryClient(image, options);
  let top = await client.manifest(image.reference);
  for (let depth = 0; Array.isArray(top.json?.manifests); depth++) {
    if (depth >= 4) throw new UserError(`${ref}: indexes nested deeper than 4`);
    top = await client.manifest(selectManifest(top.json, ref).digest);
  }
  const config = top.json?.config;
  if (!config || !DIGEST.test(config.digest)) throw new UserError(`${ref}: manifest ${top.digest} has no config digest`);
  const configBytes = await client.blob(config.digest, MAX_JSON);
  let configJson: unknown;
  try {
    configJson = JSON.parse(configBytes.toString('utf8'));
  } catch {
    throw new UserError(`${ref}: config ${config.digest} is not JSON`);
  }
  const layerBytes = new Map<string, Buffer>();
  const descriptors: { digest: string; mediaType?: string }[] = Array.isArray(top.json.layers) ? top.json.layers : [];
  const layers: ImageLayer[] = descriptors.map((layer) => ({
    digest: layer.digest,
    mediaType: layer.mediaType ?? '',
    read: () => {
      const bytes = layerBytes.get(layer.digest);
      if (!bytes) throw new UserError(`${ref}: layer ${layer.digest} was not fetched`);
      return bytes;
    },
  }));
  return {
    view: { source: 'registry', manifestDigest: top.digest, manifest: top.json, configDigest: config.digest, config: configJson, layers, tags: [] },
    fetchLayers: async (digests) => {
      for (const digest of digests) if (!layerBytes.has(digest)) layerBytes.set(digest, await client.blob(digest, options.maxLayerBytes));
    },
  };
}
