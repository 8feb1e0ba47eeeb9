import { UserError } from '../errors';
import { fetchBuffer, UnreachableError } from '../net/bounded-fetch';
import { encodedPackageName } from './registry-tarball';

const DOCUMENT_LIMIT = 16 << 20;

/** One version's entry of a packument, as the registry serves it (`GET <registry>/<name>/<version>`). */
export interface VersionDocument {
  name?: unknown;
  version?: unknown;
  dependencies?: unknown;
  _npmVersion?: unknown;
  _nodeVersion?: unknown;
  dist?: { integrity?: unknown; shasum?: unknown; tarball?: unknown; attestations?: { url?: unknown } };
  [key: string]: unknown;
}

export interface FetchedVersion {
  url: string;
  doc: VersionDocument;
}

/**
 * The registry's document for name@version. A registry may only serve the whole packument: then
 * its `versions[version]`. Both bounded; the registry is configuration (a 127.0.0.1 one is allowed).
 */
export async function fetchVersionDocument(registry: string, name: string, version: string, options: { allowPrivateNetwork?: boolean; timeoutMs?: number } = {}): Promise<FetchedVersion> {
  const fetchJson = async (url: string): Promise<unknown> => {
    const { body } = await fetchBuffer(url, { maxBytes: DOCUMENT_LIMIT, headers: { accept: 'application/json' }, allowPrivateNetwork: options.allowPrivateNetwork ?? true, timeoutMs: options.timeoutMs });
    try {
      return JSON.parse(body.toString('utf8'));
    } catch {
      throw new UserError(`${url}: not JSON`);
    }
  };
  const url = `${registry}${encodedPackageName(name)}/${encodeURIComponent(version)}`;
  let doc: unknown;
  try {
    doc = await fetchJson(url);
  } catch (error) {
    if ((error as { status?: number }).status !== 404 && (error as { status?: number }).status !== 405) throw error;
    const packumentUrl = `${registry}${encodedPackageName(name)}`;
    let packument: { versions?: Record<string, unknown> };
    try {
      packument = (await fetchJson(packumentUrl)) as typeof packument;
    } catch (inner) {
      if ((inner as { status?: number }).status === 404) throw new UnreachableError(`${packumentUrl}: the registry has no ${name}`);
      throw inner;
    }
    doc = packument?.versions?.[version];
    if (!doc) throw new UnreachableError(`${packumentUrl}: the registry has no ${name}@${version}`);
    return { url: packumentUrl, doc: checkDoc(doc, packumentUrl, name, version) };
  }
  return { url, doc: checkDoc(doc, url, name, version) };
}

function checkDoc(doc: unknown, url: string, name: string, version: string): VersionDocument {
  if (!doc || typeof doc !== 'object' || Array.isArray(doc)) throw new UserError(`${url}: not a version document`);
  const d = doc as VersionDocument;
  if (d.name !== name || d.version !== version) throw new UserError(`${url}: the registry answered for ${String(d.name)}@${String(d.version)}, not ${name}@${version}`);
  return d;
}

/** A string field of the document, or undefined. */
export function stringField(value: unknown): string | undefined {
  return typeof value === 'string' && value ? value : undefined;
}
