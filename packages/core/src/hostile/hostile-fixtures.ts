// Builders of hostile inputs for the corpus (hostile-corpus.spec.ts): archives with crafted headers,
// small valid projects, packages and OCI layouts to break one field of. Not shipped (see package.json files).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { writeBuildRecord } from '../build/build-record';
import { imageConfigBytes } from '../env/oci-config';
import { imageManifestFiles, writeOciLayout } from '../oci/layout/image-files';
import { recordManifest } from '../manifest/record';
import { TarWriter } from '../archive/tar-writer';

export const PKGINFO = 'pkgname = x\npkgbase = x\npkgver = 1.0-1\nbuilddate = 1000\npackager = p\nsize = 5\narch = x86_64\n';
export const BUILDINFO =
  'format = 2\npkgname = x\npkgbase = x\npkgver = 1.0-1\npkgarch = x86_64\npkgbuild_sha256sum = ' + '0'.repeat(64) + '\npackager = p\nbuilddate = 1000\nbuilddir = /build\n';

export interface RawEntry {
  name: string;
  /** Tar type flag: '0' file, '2' symlink, '1' hard link, '5' directory, 'x' PAX header. */
  type?: string;
  body?: Buffer;
  /** The header's size field as written (octal text, or raw bytes for base-256); default the body's length. */
  sizeField?: string | Buffer;
  link?: string;
  /** Corrupt the checksum on purpose. */
  badChecksum?: boolean;
}

/** One ustar header block, its checksum computed unless told otherwise. */
function header(entry: RawEntry): Buffer {
  const block = Buffer.alloc(512);
  block.write(entry.name.slice(0, 100), 0, 'utf8');
  block.write('0000644\0', 100);
  block.write('0000000\0', 108);
  block.write('0000000\0', 116);
  const size = entry.sizeField ?? (entry.body?.length ?? 0).toString(8).padStart(11, '0') + '\0';
  if (typeof size === 'string') block.write(size, 124);
  else size.copy(block, 124);
  block.write('00000001750\0', 136);
  block.write(entry.type ?? '0', 156);
  if (entry.link) block.write(entry.link.slice(0, 100), 157);
  block.write('ustar\0', 257);
  block.write('00', 263);
  block.fill(32, 148, 156);
  let sum = 0;
  for (const byte of block) sum += byte;
  if (entry.badChecksum) sum += 1;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
  return block;
}

/** A tar archive written block by block, so headers can lie about sizes and names. */
export function rawTar(entries: RawEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    parts.push(header(entry));
    if (entry.body?.length) {
      parts.push(entry.body, Buffer.alloc((512 - (entry.body.length % 512)) % 512));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

/** A PAX record `<len> key=value\n` with its self-counting length. */
export function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = body.length + 1;
  while (String(length).length + body.length !== length) length++;
  return `${length}${body}`;
}

/** The metadata entries every package starts with, then `entries`. */
export function packageTar(entries: RawEntry[]): Buffer {
  return rawTar([{ name: '.BUILDINFO', body: Buffer.from(BUILDINFO) }, { name: '.PKGINFO', body: Buffer.from(PKGINFO) }, ...entries]);
}

export function writeGzipPackage(path: string, tar: Buffer): string {
  writeFileSync(path, gzipSync(tar));
  return path;
}

/**
 * A project in `dir` with two artifacts (`dist/hello`, `dist/sub/world`), their build records and a
 * manifest recorded by the real recordManifest.
 */
export async function hostileProject(dir: string): Promise<{ manifestPath: string; dist: string }> {
  const dist = join(dir, 'dist');
  mkdirSync(join(dist, 'sub'), { recursive: true });
  writeFileSync(join(dist, 'hello'), 'hello\n');
  writeFileSync(join(dist, 'sub', 'world'), 'world\n');
  const environment = { type: 'host' as const, toolchain: 'fake 1.0.0' };
  writeBuildRecord(dist, { name: 'hello', kind: 'file', file: 'hello', environment, sourceDateEpoch: 0 });
  writeBuildRecord(dist, { name: 'world', kind: 'file', file: 'sub/world', environment, sourceDateEpoch: 0 });
  const manifestPath = join(dir, 'repro-manifest.json');
  await recordManifest({ manifestPath, project: 'hostile', outputDir: 'dist', workspaceRoot: dir });
  return { manifestPath, dist };
}

/** A valid one-layer OCI layout in `dir`, written by reprokit's own writer. */
export function ociLayout(dir: string, scratch: string): { manifestDigest: string; configDigest: string; layerDigest: string } {
  mkdirSync(scratch, { recursive: true });
  const layerPath = join(scratch, 'layer.tar');
  const fd = openSync(layerPath, 'w');
  const tar = new TarWriter(fd, 0);
  tar.buffer('hello', Buffer.from('hello\n'), { mode: 0o644, uid: 0, gid: 0 });
  const { size, sha256 } = tar.finish();
  closeSync(fd);
  const diffId = `sha256:${sha256}`;
  const config = imageConfigBytes({ architecture: 'amd64', env: {}, user: '0:0', diffIds: [diffId], createdBy: 'test', created: 0 });
  const files = imageManifestFiles(config, [{ path: layerPath, diffId, size }], 'hostile:latest');
  writeOciLayout(dir, files, [{ path: layerPath, diffId, size }]);
  return { manifestDigest: files.manifestDigest, configDigest: files.imageId, layerDigest: diffId };
}

export function sha256Hex(bytes: Buffer | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Every file below `dir` with its content hash: to see that nothing outside the root was touched. */
export function snapshot(dir: string): string {
  const { readdirSync, lstatSync, readlinkSync } = require('node:fs') as typeof import('node:fs');
  const lines: string[] = [];
  const walk = (path: string, rel: string) => {
    for (const name of readdirSync(path).sort()) {
      const child = join(path, name);
      const stats = lstatSync(child);
      const r = `${rel}/${name}`;
      if (stats.isDirectory()) {
        lines.push(`${r}/ ${stats.mode.toString(8)}`);
        walk(child, r);
      } else if (stats.isSymbolicLink()) lines.push(`${r} -> ${readlinkSync(child)}`);
      else if (stats.isFile()) lines.push(`${r} ${stats.mode.toString(8)} ${sha256Hex(readFileSync(child))}`);
      else lines.push(`${r} special`);
    }
  };
  walk(dir, '');
  return lines.join('\n');
}

/**
 * A `node -e` script running `body` (async; `core('x.js')` requires a module of core's dist) whose
 * errors end the way the CLI's do (reportError: one line, exit 2): for readers no CLI command reaches.
 */
export function cliHarness(body: string): string {
  return `const core = (module) => require(${JSON.stringify(join(__dirname, '..'))} + '/' + module);
(async () => { ${body} })().then(() => process.exit(0), (error) => process.exit(core('cli.js').reportError(error)));`;
}

/**
 * A decoy secret: in the hostile cases' environment (PROBE_SECRET, as CI holds tokens) and in the
 * victim file beside their roots. No output may show it, whole, cut across hex-window lines, or as hex.
 */
export const DECOY_SECRET = 'Zq7Xw9Kp2Vn4Rt6Y';

export function assertNoSecret(output: string): void {
  const hex = (text: string) => Buffer.from(text).toString('hex').replace(/(..)(?!$)/g, '$1 ');
  for (let i = 0; i + 5 <= DECOY_SECRET.length; i++) {
    const piece = DECOY_SECRET.slice(i, i + 5);
    assert.ok(!output.includes(piece) && !output.includes(hex(piece)), `the decoy secret (${piece}) is in the output:\n${output.slice(0, 2000)}`);
  }
}
