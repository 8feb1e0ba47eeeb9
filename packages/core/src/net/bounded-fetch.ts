import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { EnvHttpProxyAgent, request, type Dispatcher } from 'undici';
import { UserError } from '../errors';
import { checkDestination, guardedLookup, privateNetworkAllowedByEnv, RefusedLocationError } from './address-policy';
import { openFileUrl, type FileUrlPolicy } from './file-url';
import { releaseOnSignal, removeOnSignal } from './temp-files';
import { DEFAULT_MIN_RATE, defaultDeadlineMs, TransferLimits } from './transfer-limits';

/**
 * The one HTTP client for everything reprokit downloads (published copies, registry blobs, .debs,
 * vaults, npm tarballs): every download is bounded in size, in idle time, in total time, and in
 * rate (a server sending a byte every 2 s passes any idle timeout, never a deadline), and what it
 * wrote is removed on failure and on SIGINT/SIGTERM.
 */

/** A location that could not be fetched: the report says UNREACHABLE and why. */
export class UnreachableError extends UserError {
  override name = 'UnreachableError';
}

export interface FetchOptions {
  /** Stop past this many bytes (the manifest's size for an artifact; a few MiB for JSON). */
  maxBytes: number;
  /** Milliseconds to connect, to get the headers, and between two pieces of the body (the idle timeout). */
  timeoutMs?: number;
  /** Milliseconds for the whole download, redirects and retries included; default defaultDeadlineMs(maxBytes). */
  deadlineMs?: number;
  /**
   * Minimum rate, as curl's --speed-limit/--speed-time: below `bytesPerSecond` for `seconds` in a
   * row, the download ends. Default 1 KiB/s for 30 s; `false` turns it off.
   */
  minRate?: { bytesPerSecond: number; seconds: number } | false;
  /** Attempts after the first, on connection errors and 5xx. */
  retries?: number;
  /** First retry delay in milliseconds, doubled each time. */
  backoffMs?: number;
  maxRedirects?: number;
  headers?: Record<string, string>;
  /**
   * Loopback, link-local and private addresses allowed (the URL is configuration: imageRegistries, a
   * vault, --mirror). Default: only when REPROKIT_ALLOW_PRIVATE_NETWORK=1; a manifest's URLs
   * keep the default unless the user passed --allow-private-network.
   */
  allowPrivateNetwork?: boolean;
  /** Which file:// URLs may be read (file-url.ts); default none. */
  files?: FileUrlPolicy;
}

export const DEFAULT_TIMEOUT_MS = 30_000;
// Where they are defined without undici, for clients that do not load it.
export { DEFAULT_MIN_RATE, defaultDeadlineMs } from './transfer-limits';
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

/** The guard's refusal, wherever undici wrapped it. */
function refusedIn(error: unknown): RefusedLocationError | undefined {
  for (let e = error as { cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e instanceof RefusedLocationError) return e;
  }
  return undefined;
}

/** Connection errors and 5xx are worth another attempt; a 4xx or a timeout mid-body says the same again. */
function retryable(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? (error as { cause?: { code?: string } }).cause?.code;
  return ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'EPIPE', 'EAI_AGAIN', 'UND_ERR_CONNECT_TIMEOUT'].includes(code ?? '');
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

const agents = new Map<string, Dispatcher>();

/**
 * A proxy-aware agent: HTTP_PROXY/HTTPS_PROXY/NO_PROXY (and lower case) as curl reads them, through
 * undici's EnvHttpProxyAgent. One per environment, timeout and guard, reused across requests. The
 * guarded one checks the address each socket connects to (guardedLookup).
 */
function dispatcherFor(timeoutMs: number, guarded: boolean): Dispatcher {
  const env = ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy'].map((name) => process.env[name] ?? '').join('\n');
  const key = `${timeoutMs}\n${guarded}\n${env}`;
  let agent = agents.get(key);
  if (!agent) {
    if (agents.size > 8) agents.clear();
    agent = new EnvHttpProxyAgent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs, ...(guarded ? { connect: { lookup: guardedLookup } } : {}) });
    agents.set(key, agent);
  }
  return agent;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

/**
 * GETs a URL (http, https, file) and streams its body into `sink`: redirects followed up to a
 * bound, connection errors and 5xx retried with exponential backoff, every wait bounded by the
 * idle timeout, the whole by the deadline and the minimum rate, and the body cut at maxBytes. Any
 * failure is an UnreachableError (a RefusedLocationError for a location the policy refuses) naming the URL.
 */
export async function fetchStreaming(url: string, sink: Sink, options: FetchOptions): Promise<FetchedBody> {
  // Options left undefined keep their defaults (a spread would overwrite them with undefined).
  const timeoutMs = options.timeoutMs ?? DEFAULTS.timeoutMs;
  const retries = options.retries ?? DEFAULTS.retries;
  const backoffMs = options.backoffMs ?? DEFAULTS.backoffMs;
  const maxRedirects = options.maxRedirects ?? DEFAULTS.maxRedirects;
  const deadlineMs = options.deadlineMs ?? defaultDeadlineMs(options.maxBytes);
  const minRate = options.minRate === false ? undefined : (options.minRate ?? DEFAULT_MIN_RATE);
  const guarded = !(options.allowPrivateNetwork ?? privateNetworkAllowedByEnv());
  if (url.startsWith('file:')) return readFileUrl(url, sink, options);
  // One signal ends everything: the deadline, the rate rule, or the idle timeout before the headers
  // (undici's own timeouts restart with every reconnect: a proxy that keeps closing its tunnel
  // would be retried for ever).
  const stop = new AbortController();
  let stopped: string | undefined;
  const end = (why: string) => {
    stopped ??= why;
    stop.abort();
  };
  const limits = new TransferLimits({ deadlineMs, minRate: minRate ?? false }, end);
  let size = 0;
  let current = url;
  const failure = (why: string) => new UnreachableError(`${current}: ${why}${size ? ` after ${size} bytes` : ''}`);
  try {
    const visited: string[] = [];
    let sendHeaders = options.headers;
    for (let attempt = 0; ; ) {
      const protocol = new URL(current).protocol;
      if (protocol !== 'http:' && protocol !== 'https:') {
        // A server may not point reprokit at a local file (file:///proc/self/environ) or anything but the web.
        throw new RefusedLocationError(visited.length ? `${visited[visited.length - 1]}: refused: redirects to ${current}; only http and https redirects are followed` : `${current}: refused: only http, https and file locations are fetched`);
      }
      if (guarded) {
        // The resolver has timeouts of its own, not ours: the deadline ends the wait for it too.
        const stopped$ = new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true })));
        const check = checkDestination(current);
        // Settled later than the deadline, its refusal is nobody's to handle.
        check.catch(() => {});
        await Promise.race([check, stopped$]);
        if (stopped) throw failure(stopped);
      }
      let response: Dispatcher.ResponseData;
      const headersTimer = setTimeout(() => end(`timed out waiting for the response (${seconds(timeoutMs)})`), timeoutMs);
      try {
        response = await request(current, { method: 'GET', headers: sendHeaders, dispatcher: dispatcherFor(timeoutMs, guarded), headersTimeout: timeoutMs, bodyTimeout: timeoutMs, signal: stop.signal });
      } catch (error) {
        const refused = refusedIn(error);
        if (refused) throw new RefusedLocationError(refused.message.replace(/^[^:]+: refused: /, `${current}: refused: `));
        if (stopped) throw failure(stopped);
        if (retryable(error) && attempt < retries) {
          await sleep(backoffMs * 2 ** attempt++, stop.signal);
          continue;
        }
        throw new UnreachableError(`${current}: ${describeNetworkError(error)}${attempt ? ` (after ${attempt + 1} attempts)` : ''}`);
      } finally {
        clearTimeout(headersTimer);
      }
      const { statusCode, headers, body } = response;
      if (statusCode >= 300 && statusCode < 400 && headers.location) {
        discard(body);
        visited.push(current);
        if (visited.length > maxRedirects) throw new UnreachableError(`${url}: more than ${maxRedirects} redirects (${visited.length > 2 && visited.includes(new URL(String(headers.location), current).href) ? 'a redirect loop' : 'too many'})`);
        const next = new URL(String(headers.location), current);
        // An https URL that redirects to http loses the transport's integrity: refuse it, as curl --proto-redir does with =https.
        if (new URL(current).protocol === 'https:' && next.protocol !== 'https:') throw new UnreachableError(`${current}: redirects to ${next.href}, not https`);
        // Credentials stay with the origin they are for, as curl and fetch() keep them: a registry's
        // token must not reach the storage it redirects blobs to (S3 also refuses a signed URL that
        // comes with an Authorization header).
        if (next.origin !== new URL(current).origin && sendHeaders) {
          sendHeaders = Object.fromEntries(Object.entries(sendHeaders).filter(([name]) => !/^(authorization|cookie)$/i.test(name)));
        }
        current = next.href;
        continue;
      }
      if (statusCode >= 500 && attempt < retries) {
        discard(body);
        await sleep(backoffMs * 2 ** attempt++, stop.signal);
        if (stopped) throw failure(stopped);
        continue;
      }
      if (statusCode < 200 || statusCode >= 300) {
        const text = statusCode === 401 || statusCode === 404 || statusCode >= 500 ? '' : (await readSmall(body)).trim().slice(0, 200);
        discard(body);
        const err = new UnreachableError(`${current}: HTTP ${statusCode}${text ? ` ${text}` : ''}`);
        (err as UnreachableError & { status?: number; headers?: unknown }).status = statusCode;
        (err as UnreachableError & { status?: number; headers?: unknown }).headers = headers;
        throw err;
      }
      const declared = Number(headers['content-length']);
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
            limits.add(piece.length);
          }
        }
      } catch (error) {
        if (stopped) throw failure(stopped);
        if (error instanceof UserError) throw error;
        throw failure(describeNetworkError(error));
      } finally {
        discard(body);
      }
      if (stopped) throw failure(stopped);
      if (!truncated && Number.isFinite(declared) && size < declared) throw new UnreachableError(`${current}: the connection closed after ${size} of ${declared} bytes`);
      return { status: statusCode, headers, size: truncated && size === 0 ? declared : size, truncated, url: current };
    }
  } finally {
    limits.stop();
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

function readFileUrl(url: string, sink: Sink, options: FetchOptions): FetchedBody {
  const { fd, size: fileSize } = openFileUrl(url, options.files);
  const maxBytes = options.maxBytes;
  let size = 0;
  try {
    const buffer = Buffer.allocUnsafe(1 << 20);
    while (size < maxBytes) {
      const n = readSync(fd, buffer, 0, Math.min(buffer.length, maxBytes - size), null);
      if (n === 0) break;
      sink(Buffer.from(buffer.subarray(0, n)));
      size += n;
    }
  } catch (error) {
    throw new UnreachableError(`${url}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message} after ${size} bytes`);
  } finally {
    closeSync(fd);
  }
  return { status: 200, headers: {}, size, truncated: fileSize > maxBytes, url };
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

/**
 * Downloads into `file` (fsynced), hashing the bytes as they arrive. On any failure, and on
 * SIGINT/SIGTERM while it runs, the file is removed.
 */
export async function downloadToFile(url: string, file: string, options: FetchOptions): Promise<DownloadedFile> {
  const sha256 = createHash('sha256');
  const blake2b512 = createHash('blake2b512');
  removeOnSignal(file);
  const fd = openSync(file, 'w', 0o600);
  let ok = false;
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
    ok = true;
    return { ...fetched, file, sha256: sha256.digest('hex'), blake2b512: blake2b512.digest('hex') };
  } finally {
    closeSync(fd);
    if (!ok) rmSync(file, { force: true });
    releaseOnSignal(file);
  }
}
