import { chmodSync, rmSync } from 'node:fs';
import { UserError } from '../../errors';
import { RefusedLocationError } from '../../net/address-policy';
import { downloadToFile, UnreachableError } from '../../net/bounded-fetch';
import { parseBearerChallenge } from '../../published/registry';
import { registryAuth } from './docker-auth';

/** The registry's answer was not what the distribution API says: the vault cannot be used, the next source is tried. */
export class VaultUnreachable extends UserError {
  override name = 'VaultUnreachable';
}

const SMALL = 4 << 20;
const NETWORK_ERRORS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host not found',
  EAI_AGAIN: 'host not found',
  ECONNRESET: 'connection reset',
  UND_ERR_SOCKET: 'connection reset',
  UND_ERR_CONNECT_TIMEOUT: 'timed out connecting',
};
/** Time to connect and get the headers of one request. */
const HEADERS_TIMEOUT_MS = 30_000;

/**
 * One repository of an OCI registry, through the distribution API v2, for reading and writing
 * blobs and manifests: plain HTTP to this machine only (as docker allows without configuration),
 * TLS elsewhere; the token flow (anonymous, or with docker's stored credentials for the host) when
 * the registry challenges. Every answer is bounded.
 */
export class VaultRegistry {
  readonly base: string;
  readonly host: string;
  private token?: string;

  constructor(
    /** `host[:port]`. */
    host: string,
    readonly repository: string,
    private readonly access: 'pull' | 'pull,push' = 'pull',
  ) {
    this.host = host;
    const scheme = /^(127\.0\.0\.1|localhost|\[::1\])(:|$)/.test(host) ? 'http' : 'https';
    this.base = `${scheme}://${host}/v2/${repository}`;
  }

  /** One request, authenticated once on a 401 challenge. Network failures are VaultUnreachable. */
  private async send(method: string, path: string, init: { body?: Blob | Buffer; headers?: Record<string, string> } = {}, url = `${this.base}${path}`): Promise<Response> {
    const attempt = async () => {
      const headers: Record<string, string> = { ...init.headers };
      if (this.token) headers.authorization = this.token;
      const deadline = AbortSignal.timeout(HEADERS_TIMEOUT_MS);
      try {
        return await fetch(url, { method, headers, body: Buffer.isBuffer(init.body) ? new Blob([init.body]) : init.body, redirect: 'follow', signal: deadline });
      } catch (error) {
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const why = deadline.aborted ? `no answer within ${HEADERS_TIMEOUT_MS / 1000} s` : (NETWORK_ERRORS[cause?.code ?? ''] ?? cause?.message ?? (error as Error).message);
        throw new VaultUnreachable(`${this.host}: ${why}`);
      }
    };
    let response = await attempt();
    if (response.status === 401 && !this.token) {
      const challenge = response.headers.get('www-authenticate') ?? '';
      await response.body?.cancel();
      await this.authenticate(challenge);
      response = await attempt();
    }
    return response;
  }

  /** Bearer: a token for this repository from the realm; Basic: docker's stored credentials for the host. */
  private async authenticate(challenge: string): Promise<void> {
    const auth = registryAuth(this.host);
    if (/^\s*Basic\b/i.test(challenge)) {
      if (!auth) throw new VaultUnreachable(`${this.host}: wants a user name and password, and docker has none stored for it: run \`docker login ${this.host}\``);
      this.token = `Basic ${auth}`;
      return;
    }
    const params = parseBearerChallenge(challenge);
    if (!params) throw new VaultUnreachable(`${this.host}: authentication required (${challenge || 'no WWW-Authenticate challenge'})`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', `repository:${this.repository}:${this.access}`);
    let response: Response;
    try {
      response = await fetch(url, { headers: auth ? { authorization: `Basic ${auth}` } : {}, signal: AbortSignal.timeout(HEADERS_TIMEOUT_MS) });
    } catch (error) {
      throw new VaultUnreachable(`${url.origin}${url.pathname}: the token service cannot be reached (${(error as Error).message})`);
    }
    const text = await readSmall(response, 1 << 20, url.href);
    if (!response.ok) {
      throw new VaultUnreachable(`${this.host}: the token service refused ${auth ? 'docker\'s stored credentials' : 'an anonymous token'} for ${this.repository} (${this.access}, HTTP ${response.status})${auth ? '' : `: run \`docker login ${this.host}\``}`);
    }
    let token: unknown;
    try {
      const json = JSON.parse(text);
      token = json.token ?? json.access_token;
    } catch {
      token = undefined;
    }
    if (typeof token !== 'string' || !token) throw new VaultUnreachable(`${url.origin}${url.pathname}: the token service gave no token`);
    this.token = `Bearer ${token}`;
  }

  private unexpected(what: string, response: Response): VaultUnreachable {
    return new VaultUnreachable(`${this.base}${what}: HTTP ${response.status}`);
  }

  /** Whether the repository has the blob (HEAD: nothing is downloaded). */
  async hasBlob(digest: string): Promise<boolean> {
    const response = await this.send('HEAD', `/blobs/${digest}`);
    await response.body?.cancel();
    if (response.status === 200) return true;
    if (response.status === 404) return false;
    throw this.unexpected(`/blobs/${digest}`, response);
  }

  /**
   * Downloads a blob into `dest` through net/'s bounded client (deadline, minimum rate, the file
   * removed on failure or Ctrl-C), refusing more than `size` bytes, and returns the sha256 of what
   * came (the caller compares it with the lock's); undefined when the repository has no such blob.
   */
  async blobToFile(digest: string, dest: string, size: number): Promise<string | undefined> {
    const url = `${this.base}/blobs/${digest}`;
    // A vault is configuration (--vault, REPROKIT_DEB_VAULTS, nx.json): private addresses allowed.
    const attempt = () => downloadToFile(url, dest, { maxBytes: size, allowPrivateNetwork: true, headers: this.token ? { authorization: this.token } : {} });
    let got;
    try {
      try {
        got = await attempt();
      } catch (error) {
        const { status, headers } = error as { status?: number; headers?: Record<string, unknown> };
        if (status !== 401 || this.token) throw error;
        await this.authenticate(String(headers?.['www-authenticate'] ?? ''));
        got = await attempt();
      }
    } catch (error) {
      if ((error as { status?: number }).status === 404) return undefined;
      if (error instanceof UnreachableError || error instanceof RefusedLocationError) throw new VaultUnreachable(error.message);
      throw error;
    }
    if (got.truncated) {
      rmSync(dest, { force: true });
      throw new UserError(`${url}: more than the ${size} bytes the lock says`);
    }
    // As the cache's other .debs (downloadToFile writes 0600).
    chmodSync(dest, 0o644);
    return got.sha256;
  }

  /** Uploads a blob unless the repository has it (monolithic upload: POST, then PUT with the digest). */
  async pushBlob(digest: string, body: () => Promise<Blob>): Promise<'pushed' | 'present'> {
    if (await this.hasBlob(digest)) return 'present';
    const started = await this.send('POST', '/blobs/uploads/');
    await started.body?.cancel();
    if (started.status !== 202) throw this.unexpected('/blobs/uploads/', started);
    const location = new URL(started.headers.get('location') ?? '', this.base + '/');
    location.searchParams.set('digest', digest);
    const put = await this.send('PUT', '', { body: await body(), headers: { 'content-type': 'application/octet-stream' } }, location.href);
    await put.body?.cancel();
    if (put.status !== 201) throw this.unexpected(`/blobs/uploads/ (${digest})`, put);
    return 'pushed';
  }

  /** Stores a manifest under a tag; returns the digest the registry reports (checked by the caller). */
  async putManifest(tag: string, bytes: Buffer, mediaType: string): Promise<string | undefined> {
    return (await this.putManifestAnswer(tag, bytes, mediaType)).digest;
  }

  /**
   * The same, with the `OCI-Subject` header too: a registry with the OCI 1.1 referrers API sends
   * it for a manifest with a subject it has indexed (otherwise the pusher keeps the tag schema's index).
   */
  async putManifestAnswer(tag: string, bytes: Buffer, mediaType: string): Promise<{ digest?: string; subject?: string }> {
    const put = await this.send('PUT', `/manifests/${tag}`, { body: bytes, headers: { 'content-type': mediaType } });
    const text = await readSmall(put, 64 << 10, `${this.base}/manifests/${tag}`);
    if (put.status !== 201) throw new VaultUnreachable(`${this.base}/manifests/${tag}: HTTP ${put.status} ${text.trim().slice(0, 300)}`);
    return { digest: put.headers.get('docker-content-digest') ?? undefined, subject: put.headers.get('oci-subject') ?? undefined };
  }

  /** A manifest's bytes by tag or digest (bounded); undefined when the repository has none. */
  async manifest(reference: string, mediaType: string): Promise<Buffer | undefined> {
    const response = await this.send('GET', `/manifests/${reference}`, { headers: { accept: mediaType } });
    if (response.status === 404) {
      await response.body?.cancel();
      return undefined;
    }
    if (response.status !== 200) {
      await response.body?.cancel();
      throw this.unexpected(`/manifests/${reference}`, response);
    }
    return await readBytes(response, SMALL, `${this.base}/manifests/${reference}`);
  }
}

/** A small body, refused past `limit` bytes. */
async function readBytes(response: Response, limit: number, url: string): Promise<Buffer> {
  if (!response.body) return Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.length;
    if (size > limit) throw new VaultUnreachable(`${url}: answer larger than ${limit} bytes`);
    chunks.push(Buffer.from(chunk));
  }
  return Buffer.concat(chunks);
}

async function readSmall(response: Response, limit: number, url: string): Promise<string> {
  return (await readBytes(response, limit, url)).toString('utf8');
}
