import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fsyncSync, openSync, statSync, writeSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { UserError } from '../errors';

/** A publication that could not be fetched: the report says UNREACHABLE and why. */
export class UnreachableError extends UserError {
  override name = 'UnreachableError';
}

export interface FetchOptions {
  /** Stop past this many bytes (the manifest's size for an artifact; a few MiB for JSON). */
  maxBytes: number;
  /** Milliseconds to connect, to get the headers, and between two pieces of the body. */
  timeoutMs?: number;
  /** Attempts after the first, on connection errors and 5xx. */
  retries?: number;
  /** First retry delay in milliseconds, doubled each time. */
  backoffMs?: number;
  maxRedirects?: number;
  headers?: Record<string, string>;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
// Two retries, 100 then 200 ms apart: enough for a restarting server or a dropped connection, short
// enough that a registry that is down is reported within a second.
const DEFAULTS = { timeoutMs: DEFAULT_TIMEOUT_MS, retries: 2, backoffMs: 100, maxRedirects: 5 };

/** What a fetch gives back: the body went through `sink` piece by piece, never whole in memory. */
export interface FetchedBody {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  size: number;
  /** The body stopped at maxBytes: there was more. */
  truncated: boolean;
  /** The final URL, after redirects. */
  url: string;
}

type Sink = (chunk: Buffer) => void;

function describeNetworkError(error: unknown): string {
  const err = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = err.code ?? err.cause?.code;
  switch (code) {
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    case 'UND_ERR_CONNECT_TIMEOUT':
      return 'timed out connecting';
    case 'UND_ERR_HEADERS_TIMEOUT':
      return 'timed out waiting for the response';
    case 'UND_ERR_BODY_TIMEOUT':
      return 'timed out during the download';
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
      return 'connection reset';
    default:
      return (err.message ?? String(error)).split('\n')[0];
  }
}

/** Connection errors and 5xx are worth another attempt; a 4xx or a timeout mid-body says the same again. */
function retryable(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  return ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'].includes(code ?? '');
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

let agent: { key: string; dispatcher: Dispatcher } | undefined;

/**
 * A proxy-aware agent: HTTP_PROXY/HTTPS_PROXY/NO_PROXY (and lower case) as curl reads them, through
 * undici's EnvHttpProxyAgent. One per environment and timeout, reused across requests.
 */
function dispatcherFor(timeoutMs: number): Dispatcher {
  const env = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'].map((name) => process.env[name] ?? '').join('\n');
  const key = `${timeoutMs}\n${env}`;
  if (agent?.key !== key) {
    agent = { key, dispatcher: new EnvHttpProxyAgent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }) };
  }
  return agent.dispatcher;
}

/**
 * GETs a URL (http, https, file) and streams its body into `sink`: redirects followed up to a
 * bound, connection errors and 5xx retried with exponential backoff, every wait bounded by the
 * timeout, and the body cut at maxBytes. Any failure is an UnreachableError naming the URL.
 */
export async function fetchStreaming(url: string, sink: Sink, options: FetchOptions): Promise<FetchedBody> {
  // Options left undefined keep their defaults (a spread would overwrite them with undefined).
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const retries = options.retries ?? DEFAULTS.retries;
  const backoffMs = options.backoffMs ?? DEFAULTS.backoffMs;
  const maxRedirects = options.maxRedirects ?? DEFAULTS.maxRedirects;
  if (url.startsWith('file://')) return readFileUrl(url, sink, options.maxBytes);
  let current = url;
  const visited: string[] = [];
  for (let attempt = 0; ; ) {
    let response: Dispatcher.ResponseData;
    // One deadline for everything before the headers: undici's own timeouts restart with every
    // reconnect, and a proxy that keeps closing its tunnel would be retried for ever.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(), timeoutMs);
    try {
      response = await request(current, { method: 'GET', headers: options.headers, dispatcher: dispatcherFor(timeoutMs), headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: deadline.signal });
    } catch (error) {
      if (deadline.signal.aborted) throw new UnreachableError(`${current}: timed out waiting for the response (${timeoutMs / 1000} s)`);
      if (retryable(error) && attempt < retries) {
        await sleep(backoffMs * 2 ** attempt++);
        continue;
      }
      throw new UnreachableError(`${current}: ${describeNetworkError(error)}${attempt ? ` (after ${attempt + 1} attempts)` : ''}`);
    } finally {
      clearTimeout(timer);
    }
    const { statusCode, headers, body } = response;
    if (statusCode >= 300 && statusCode < 400 && headers.location) {
      await body.dump();
      visited.push(current);
      if (visited.length > maxRedirects) throw new UnreachableError(`${url}: more than ${maxRedirects} redirects (${visited.length > 2 && visited.includes(new URL(String(headers.location), current).href) ? 'a redirect loop' : 'too many'})`);
      const next = new URL(String(headers.location), current);
      // An https URL that redirects to http loses the transport's integrity: refuse it, as curl --proto-redir does with =https.
      if (new URL(current).protocol === 'https:' && next.protocol !== 'https:') throw new UnreachableError(`${current}: redirects to ${next.href}, not https`);
      current = next.href;
      continue;
    }
    if (statusCode >= 500 && attempt < retries) {
      await body.dump();
      await sleep(backoffMs * 2 ** attempt++);
      continue;
    }
    if (statusCode < 200 || statusCode >= 300) {
      const text = statusCode === 401 || statusCode === 404 || statusCode >= 500 ? '' : (await readSmall(body)).trim().slice(0, 200);
      if (!text) await body.dump().catch(() => {});
      const err = new UnreachableError(`${current}: HTTP ${statusCode}${text ? ` ${text}` : ''}`);
      (err as UnreachableError & { status?: number; headers?: unknown }).status = statusCode;
      (err as UnreachableError & { status?: number; headers?: unknown }).headers = headers;
      throw err;
    }
    const declared = Number(headers['content-length']);
    let size = 0;
    let truncated = false;
    try {
      if (Number.isFinite(declared) && declared > options.maxBytes) {
        truncated = true;
      } else {
        for await (const chunk of body) {
          const piece = chunk as Buffer;
          if (size + piece.length > options.maxBytes) {
            sink(piece.subarray(0, options.maxBytes - size));
            size = options.maxBytes;
            truncated = true;
            break;
          }
          sink(piece);
          size += piece.length;
        }
      }
    } catch (error) {
      throw new UnreachableError(`${current}: ${describeNetworkError(error)} after ${size} bytes`);
    } finally {
      discard(body);
    }
    if (!truncated && Number.isFinite(declared) && size < declared) throw new UnreachableError(`${current}: the connection closed after ${size} of ${declared} bytes`);
    return { status: statusCode, headers, size: truncated && size === 0 ? declared : size, truncated, url: current };
  }
}

async function readSmall(body: Dispatcher.ResponseData['body']): Promise<string> {
  let text = '';
  for await (const chunk of body) {
    text += (chunk as Buffer).toString('utf8');
    if (text.length > 1000) break;
  }
  discard(body);
  return text;
}

/** Drops what is left of a body (past the size cap, after an error) without an unhandled 'error' event. */
function discard(body: Dispatcher.ResponseData['body']): void {
  body.on('error', () => {});
  if (!body.destroyed) body.destroy();
}

async function readFileUrl(url: string, sink: Sink, maxBytes: number): Promise<FetchedBody> {
  let path: string;
  try {
    path = fileURLToPath(url);
  } catch (error) {
    throw new UserError(`${url}: ${(error as Error).message}`);
  }
  let stat;
  try {
    // Followed like curl's file:// (a repository's `<repo>.db` is a symlink to `<repo>.db.tar.gz`).
    stat = statSync(path);
  } catch {
    throw new UnreachableError(`${url}: no such file`);
  }
  if (!stat.isFile()) throw new UnreachableError(`${url}: not a regular file`);
  let size = 0;
  let truncated = false;
  for await (const chunk of createReadStream(path, { end: maxBytes })) {
    const piece = chunk as Buffer;
    const keep = Math.min(piece.length, maxBytes - size);
    if (keep < piece.length) truncated = true;
    sink(piece.subarray(0, keep));
    size += keep;
    if (truncated) break;
  }
  return { status: 200, headers: {}, size, truncated: truncated || stat.size > maxBytes, url };
}

/** A small body (JSON, a repository database) in memory, refused past maxBytes. */
export async function fetchBuffer(url: string, options: FetchOptions): Promise<{ body: Buffer; response: FetchedBody }> {
  const chunks: Buffer[] = [];
  const response = await fetchStreaming(url, (chunk) => chunks.push(Buffer.from(chunk)), options);
  if (response.truncated) throw new UnreachableError(`${url}: larger than ${options.maxBytes} bytes`);
  return { body: Buffer.concat(chunks), response };
}

export interface DownloadedFile extends FetchedBody {
  file: string;
  sha256: string;
  blake2b512: string;
}

/** Downloads into `file` (fsynced), hashing the bytes as they arrive. */
export async function downloadToFile(url: string, file: string, options: FetchOptions): Promise<DownloadedFile> {
  const sha256 = createHash('sha256');
  const blake2b512 = createHash('blake2b512');
  const fd = openSync(file, 'w', 0o600);
  try {
    const fetched = await fetchStreaming(
      url,
      (chunk) => {
        sha256.update(chunk);
        blake2b512.update(chunk);
        writeSync(fd, chunk);
      },
      options,
    );
    fsyncSync(fd);
    return { ...fetched, file, sha256: sha256.digest('hex'), blake2b512: blake2b512.digest('hex') };
  } finally {
    closeSync(fd);
  }
}
