import { createHash } from 'node:crypto';
import { request } from 'undici';
import { UserError } from '../../errors';
import { dispatcherFor } from '../../published/http';
import { parseBearerChallenge, type ImageReference } from '../../published/registry';

const TIMEOUT_MS = 30_000;
export const sha256Digest = (bytes: Uint8Array) => 'sha256:' + createHash('sha256').update(bytes).digest('hex');

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/**
 * Pushes blobs and manifests to one repository through the distribution API v2 (POST then PUT
 * uploads, PUT manifests). Anonymous, or with an anonymous bearer token for `pull,push` where the
 * registry hands one out (a rebuilders' own registry); credentials are not read.
 */
export class RegistryWriter {
  readonly base: string;
  private token?: string;

  constructor(readonly image: ImageReference) {
    // Plain HTTP only to this machine, as docker allows without configuration; TLS everywhere else.
    const scheme = /^(127\.0\.0\.1|localhost|\[::1\])(:|$)/.test(image.registry) ? 'http' : 'https';
    this.base = `${scheme}://${image.registry}/v2/${image.repository}`;
  }

  get name(): string {
    return `${this.image.registry}/${this.image.repository}`;
  }

  private async send(method: string, url: string, headers: Record<string, string>, body?: Buffer, auth = true): Promise<Answer> {
    const attempt = async (): Promise<Answer> => {
      let response;
      try {
        response = await request(url, {
          method: method as 'GET',
          headers: { ...headers, ...(auth && this.token ? { authorization: `Bearer ${this.token}` } : {}), ...(body ? { 'content-length': String(body.length) } : {}) },
          body,
          dispatcher: dispatcherFor(TIMEOUT_MS),
          headersTimeout: TIMEOUT_MS,
          bodyTimeout: TIMEOUT_MS,
        });
      } catch (error) {
        const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
        throw new UserError(`${this.name}: cannot reach the registry (${code ?? (error as Error).message.split('\n')[0]}): is it running, and is --push-attestations host:port right?`);
      }
      // Bounded: these answers are a few hundred bytes of JSON errors at most.
      let text = '';
      for await (const chunk of response.body) {
        if (text.length < 4096) text += (chunk as Buffer).toString('utf8');
      }
      return { status: response.statusCode, headers: response.headers, text };
    };
    let answer = await attempt();
    if (answer.status === 401 && auth && !this.token) {
      await this.authenticate(String(answer.headers['www-authenticate'] ?? ''));
      answer = await attempt();
    }
    return answer;
  }

  private async authenticate(challenge: string): Promise<void> {
    const params = parseBearerChallenge(challenge);
    const refused = `${this.name}: the registry wants credentials to push (${challenge || 'no WWW-Authenticate challenge'}); reprokit pushes anonymously: use a registry the rebuilders may push to without a login`;
    if (!params) throw new UserError(refused);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    url.searchParams.set('scope', `repository:${this.image.repository}:pull,push`);
    const answer = await this.send('GET', url.href, {}, undefined, false);
    let token: unknown;
    try {
      const parsed = JSON.parse(answer.text);
      token = parsed.token ?? parsed.access_token;
    } catch {
      token = undefined;
    }
    if (answer.status !== 200 || typeof token !== 'string' || !token) throw new UserError(refused);
    this.token = token;
  }

  private fail(what: string, answer: Answer): UserError {
    const detail = answer.text.trim().split('\n')[0].slice(0, 200);
    return new UserError(`${this.name}: ${what}: HTTP ${answer.status}${detail ? ` ${detail}` : ''}`);
  }

  async hasBlob(digest: string): Promise<boolean> {
    const answer = await this.send('HEAD', `${this.base}/blobs/${digest}`, {});
    if (answer.status === 200) return true;
    if (answer.status === 404) return false;
    throw this.fail(`HEAD blob ${digest}`, answer);
  }

  /** Uploads a blob unless the repository has it; returns its digest. */
  async pushBlob(bytes: Buffer): Promise<string> {
    const digest = sha256Digest(bytes);
    if (await this.hasBlob(digest)) return digest;
    const started = await this.send('POST', `${this.base}/blobs/uploads/`, {});
    const location = started.headers.location;
    if (started.status !== 202 || typeof location !== 'string') throw this.fail('starting a blob upload', started);
    const url = new URL(location, this.base);
    url.searchParams.set('digest', digest);
    const done = await this.send('PUT', url.href, { 'content-type': 'application/octet-stream' }, bytes);
    if (done.status !== 201) throw this.fail(`uploading blob ${digest}`, done);
    return digest;
  }

  /**
   * PUTs a manifest under its digest or a tag. `subjectProcessed`: the registry answered with
   * `OCI-Subject`, so it indexes the manifest's subject itself (OCI 1.1 referrers API).
   */
  async putManifest(reference: string, bytes: Buffer, mediaType: string): Promise<{ digest: string; subjectProcessed: boolean }> {
    const answer = await this.send('PUT', `${this.base}/manifests/${reference}`, { 'content-type': mediaType }, bytes);
    if (answer.status !== 201) throw this.fail(`PUT manifest ${reference}`, answer);
    return { digest: sha256Digest(bytes), subjectProcessed: answer.headers['oci-subject'] !== undefined };
  }
}
