import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { tarEntries } from '../archive/tar-reader';
import { UserError } from '../errors';
import type { Artifact } from '../manifest/manifest';
import { fetchBuffer, UnreachableError, downloadToFile, type DownloadedFile, type FetchOptions } from '../net/bounded-fetch';
import { configuredRegistry } from '../npm/npm-config';
import { parseNpmSpec, SHA512_SRI } from '../npm/registry-tarball';
import { fetchVersionDocument, stringField, type VersionDocument } from '../npm/version-document';

/** What a published npm location is checked for, beside the tarball's bytes. */
export interface NpmClaims {
  registry: string;
  /** Where the registry came from (the manifest, or npm's configuration and which file). */
  registrySource: string;
  tarball: string;
  /** Each disagreement between the registry's claims, the tarball and the manifest, one line. */
  problems: string[];
  /** What was checked and agreed, one line each (integrity, shasum, manifest fields, attestations). */
  agreed: string[];
}

const TAR_LIMIT = 1 << 30;
/** A published npm tarball is read up to this size even when the manifest records a smaller one. */
const TARBALL_BOUND = 64 << 20;
const PACKAGE_JSON_LIMIT = 1 << 20;
const ATTESTATIONS_LIMIT = 8 << 20;
// The fields npm install takes from the packument instead of the tarball ("manifest confusion").
const MANIFEST_FIELDS = ['name', 'version', 'dependencies', 'optionalDependencies', 'peerDependencies'] as const;

/** The package.json inside an npm tarball (`<top>/package.json`, `package/` for every npm since 1.0). */
function tarballManifest(tgz: Buffer, what: string): Record<string, unknown> {
  let tar: Buffer;
  try {
    tar = gunzipSync(tgz, { maxOutputLength: TAR_LIMIT });
  } catch (error) {
    throw new UserError(`${what}: not a gzip stream (${(error as Error).message})`);
  }
  for (const entry of tarEntries(tar, what)) {
    if (entry.type !== 'file' || !/^[^/]+\/package\.json$/.test(entry.path)) continue;
    if (entry.size > PACKAGE_JSON_LIMIT) throw new UserError(`${what}: ${entry.path} is larger than ${PACKAGE_JSON_LIMIT} bytes`);
    try {
      const parsed = JSON.parse(entry.content().toString('utf8'));
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) return parsed;
    } catch {
      // reported below as no readable package.json
    }
    throw new UserError(`${what}: ${entry.path} is not a JSON object`);
  }
  throw new UserError(`${what}: no package.json in the tarball`);
}

/** Canonical JSON (sorted keys) for comparing two values of a field. */
function canonical(value: unknown): string {
  if (value === undefined) return '(none)';
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') return `{${Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`).join(',')}}`;
  return JSON.stringify(value);
}

/** Which keys of two dependency maps differ: "lodash ^4 -> (none), evil (none) -> 1.0.0". */
function fieldDifference(a: unknown, b: unknown): string {
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a) && !Array.isArray(b)) {
    const ra = a as Record<string, unknown>;
    const rb = b as Record<string, unknown>;
    return [...new Set([...Object.keys(ra), ...Object.keys(rb)])]
      .sort()
      .filter((key) => canonical(ra[key]) !== canonical(rb[key]))
      .map((key) => `${key} ${canonical(ra[key])} -> ${canonical(rb[key])}`)
      .join(', ');
  }
  return `${canonical(a)} -> ${canonical(b)}`;
}

/** The package URL npm's attestations name as their subject: `pkg:npm/%40scope/name@version`. */
function purl(name: string, version: string): string {
  return `pkg:npm/${name.replace(/^@/, '%40')}@${version}`;
}

/**
 * The subjects of the registry's attestations (npm provenance and publish attestations, DSSE
 * envelopes around in-toto statements) against the tarball's sha512. Signatures are not verified
 * here (`npm audit signatures` does): this says whether what they attest is what the registry serves.
 */
async function checkAttestations(doc: VersionDocument, name: string, version: string, sha512Hex: string, fetch: Omit<FetchOptions, 'maxBytes'>, claims: NpmClaims): Promise<void> {
  const url = stringField(doc.dist?.attestations?.url);
  if (!url) {
    claims.agreed.push('attestations: the registry lists none');
    return;
  }
  const { body } = await fetchBuffer(url, { ...fetch, maxBytes: ATTESTATIONS_LIMIT, headers: { accept: 'application/json' } });
  let list: { attestations?: { predicateType?: unknown; bundle?: { dsseEnvelope?: { payload?: unknown } } }[] };
  try {
    list = JSON.parse(body.toString('utf8'));
  } catch {
    claims.problems.push(`${url}: not JSON`);
    return;
  }
  const attestations = Array.isArray(list.attestations) ? list.attestations : [];
  if (attestations.length === 0) claims.problems.push(`${url}: no attestations, though dist.attestations names it`);
  for (const [i, attestation] of attestations.entries()) {
    const label = `attestation ${i + 1} (${String(attestation.predicateType ?? 'no predicateType')})`;
    let statement: { subject?: { name?: unknown; digest?: { sha512?: unknown } }[] };
    try {
      statement = JSON.parse(Buffer.from(String(attestation.bundle?.dsseEnvelope?.payload ?? ''), 'base64').toString('utf8'));
    } catch {
      claims.problems.push(`${label}: its DSSE payload is not an in-toto statement`);
      continue;
    }
    const subject = (statement.subject ?? []).find((s) => s.name === purl(name, version));
    if (!subject) claims.problems.push(`${label}: no subject named ${purl(name, version)}`);
    else if (subject.digest?.sha512 !== sha512Hex) claims.problems.push(`${label}: subject sha512 ${String(subject.digest?.sha512)}, the tarball's is ${sha512Hex}`);
    else claims.agreed.push(`${label}: subject ${purl(name, version)} has the tarball's sha512 (signature not verified here)`);
  }
}

/**
 * A `{ "npm": "name@version", "registry"? }` location: the registry's version document, its tarball
 * (downloaded, compared with the manifest by the caller), and the registry's claims about it: dist.integrity
 * and dist.shasum against the bytes (and the manifest's integrity), name, version and dependencies
 * against the package.json inside the tarball, and the subject of its attestations.
 */
export async function fetchNpmLocation(
  manifestDir: string,
  artifact: Artifact,
  location: { npm: string; registry?: string },
  work: string,
  fetch: Omit<FetchOptions, 'maxBytes'>,
): Promise<{ got: DownloadedFile; claims: NpmClaims }> {
  const { name, version } = parseNpmSpec(location.npm, `artifact ${artifact.name}: published npm`);
  // The manifest's registry is input (the network guard holds); npm's own configuration is configuration.
  const configured = location.registry === undefined ? configuredRegistry({ cwd: manifestDir, name }) : undefined;
  const registry = configured?.registry ?? configuredRegistry({ explicit: location.registry }).registry;
  const allowPrivateNetwork = configured ? true : fetch.allowPrivateNetwork;
  const claims: NpmClaims = { registry, registrySource: configured ? configured.source : 'the manifest', tarball: '', problems: [], agreed: [] };
  const { doc } = await fetchVersionDocument(registry, name, version, { allowPrivateNetwork, timeoutMs: fetch.timeoutMs });
  const tarball = stringField(doc.dist?.tarball);
  if (!tarball || !/^https?:\/\/\S+$/.test(tarball)) throw new UserError(`${registry}: ${name}@${version}: $.dist.tarball is not an http(s) URL`);
  claims.tarball = tarball;
  // The registry's own tarball URL is as trusted as the registry; anywhere else gets the manifest's policy.
  const tarballAllowed = tarball.startsWith(registry) ? allowPrivateNetwork : fetch.allowPrivateNetwork;
  // Bounded, but past the recorded size: a tarball of another size is still read, so its claims are
  // checked and the difference explained file by file.
  const got = await downloadToFile(tarball, join(work, `${artifact.name}.tgz`), { ...fetch, allowPrivateNetwork: tarballAllowed, maxBytes: Math.max(artifact.size, TARBALL_BOUND) });
  if (got.truncated) return { got, claims };
  const bytes = readFileSync(got.file);
  const sha512 = createHash('sha512').update(bytes).digest();
  const sri = `sha512-${sha512.toString('base64')}`;
  const sha1 = createHash('sha1').update(bytes).digest('hex');
  const integrity = stringField(doc.dist?.integrity);
  const listed = integrity?.split(/\s+/).find((part) => SHA512_SRI.test(part));
  if (!listed) claims.problems.push(`dist.integrity ${JSON.stringify(integrity ?? null)} has no sha512`);
  else if (listed !== sri) claims.problems.push(`dist.integrity ${listed}, the tarball's is ${sri}`);
  else claims.agreed.push('dist.integrity is the tarball\'s sha512');
  const shasum = stringField(doc.dist?.shasum);
  if (shasum !== undefined && shasum !== sha1) claims.problems.push(`dist.shasum ${shasum}, the tarball's sha1 is ${sha1}`);
  else if (shasum) claims.agreed.push("dist.shasum is the tarball's sha1");
  const recorded = artifact.integrity;
  if (typeof recorded === 'string' && recorded !== sri) claims.problems.push(`the tarball's integrity ${sri}, the manifest records ${recorded}`);
  let inside: Record<string, unknown>;
  try {
    inside = tarballManifest(bytes, tarball);
  } catch (error) {
    if (!(error instanceof UserError) || error instanceof UnreachableError) throw error;
    claims.problems.push(error.message);
    return { got, claims };
  }
  const confused = MANIFEST_FIELDS.filter((field) => canonical(doc[field]) !== canonical(inside[field]));
  for (const field of confused) claims.problems.push(`the packument's ${field} is not the tarball's package.json's: ${fieldDifference(inside[field], doc[field])} (package.json -> packument)`);
  if (!confused.length) claims.agreed.push(`${MANIFEST_FIELDS.join(', ')}: the packument's are the tarball's package.json's`);
  await checkAttestations(doc, name, version, sha512.toString('hex'), { ...fetch, allowPrivateNetwork: tarballAllowed }, claims);
  return { got, claims };
}
