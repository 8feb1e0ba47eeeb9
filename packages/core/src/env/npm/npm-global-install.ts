import { chmodSync, closeSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, readSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { gunzipToFile } from '../../archive/gunzip-to-file';
import { tarEntries } from '../../archive/tar-reader';
import { UserError } from '../../errors';
import { resolveInside } from '../../fs/contained-path';
import { compareStrings } from '../../manifest/manifest';

/** npm's global layout under a prefix: packages in lib/node_modules, their bins linked in bin. */
export const GLOBAL_PREFIX = 'usr/local';
const UNPACKED_LIMIT = 4 * 2 ** 30;
const PACKAGE_JSON_LIMIT = 1 << 20;
const UMASK = 0o022;

/** A package's bins as npm normalizes them: a string bin is named after the unscoped package. */
function packageBins(pkg: { name?: unknown; bin?: unknown }, what: string): Map<string, string> {
  const bins = new Map<string, string>();
  const raw = typeof pkg.bin === 'string' ? { [String(pkg.name).replace(/^@[^/]+\//, '')]: pkg.bin } : pkg.bin;
  if (raw === undefined || raw === null) return bins;
  if (typeof raw !== 'object') throw new UserError(`${what}: package.json: $.bin is neither a path nor an object`);
  for (const [name, target] of Object.entries(raw as Record<string, unknown>)) {
    // A bin's name becomes a file in the prefix's bin/, its target a path in the package: neither may leave its directory.
    const linkName = posix.basename(name.replace(/\\/g, '/'));
    const path = posix.normalize(String(target).replace(/\\/g, '/')).replace(/^\.\//, '');
    if (typeof target !== 'string' || !linkName || linkName === '.' || linkName === '..' || path.startsWith('../') || path === '..' || path.startsWith('/')) {
      throw new UserError(`${what}: package.json: $.bin[${JSON.stringify(name)}] leaves the package`);
    }
    bins.set(linkName, path);
  }
  return bins;
}

/** npm's bin-links: a CRLF at the end of a script's #! line is made LF, so the kernel finds the interpreter. */
function fixShebang(path: string): void {
  const fd = openSync(path, 'r');
  const head = Buffer.alloc(2048);
  const n = readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  const eol = head.subarray(0, n).indexOf('\n');
  if (head[0] !== 0x23 || head[1] !== 0x21 || eol < 1 || head[eol - 1] !== 0x0d) return;
  const content = readFileSync(path);
  writeFileSync(path, Buffer.concat([content.subarray(0, eol - 1), content.subarray(eol)]));
}

/**
 * Installs registry tarballs into `<root>/usr/local` as `npm install -g <tarball>` lays them out:
 * each package unpacked by pacote's rules into lib/node_modules/<name> (the first path component
 * stripped, only regular files, modes `((mode | 0666) & ~umask) | 0600` and the bins executable,
 * directories 0755, owners ignored, `.gitignore` renamed `.npmignore` unless one exists), then
 * bin-links' relative links in bin/. Dependencies are not resolved: the packages must carry them
 * (npm's tarball bundles its own). Names and links are checked to stay inside the root.
 */
export async function installGlobalPackages(root: string, packages: { name: string; version: string; tarball: string }[], scratch: string): Promise<string[]> {
  const installed: string[] = [];
  const linked = new Map<string, string>();
  for (const p of packages) {
    const what = `${p.name}@${p.version}`;
    const dest = join(root, GLOBAL_PREFIX, 'lib/node_modules', p.name);
    const work = mkdtempSync(join(scratch, 'npm-'));
    try {
      const tar = join(work, 'package.tar');
      await gunzipToFile(p.tarball, tar, what, UNPACKED_LIMIT);
      const bins = packageBins(readPackageJson(tar, what), what);
      mkdirs(root, dest, what);
      const npmignores = new Set<string>();
      for (const entry of tarEntries(tar, what, { safe: true })) {
        if (entry.type !== 'file') continue;
        const parts = entry.path.split('/');
        if (parts.length < 2) continue;
        let rel = parts.slice(1).join('/');
        if (posix.basename(rel) === '.npmignore') npmignores.add(rel);
        else if (posix.basename(rel) === '.gitignore') {
          const renamed = rel.replace(/\.gitignore$/, '.npmignore');
          if (npmignores.has(renamed)) continue;
          rel = renamed;
        }
        const target = join(dest, rel);
        mkdirs(root, dirname(target), what);
        resolveInside(root, target.slice(root.length + 1), `${what}: ${entry.path}`, { allowFinalSymlink: true });
        rmSync(target, { force: true });
        entry.copyTo(target);
        const exe = [...bins.values()].includes(posix.normalize(rel)) ? 0o111 : 0;
        chmodSync(target, (((entry.mode | 0o666) & ~UMASK) | exe | 0o600) & 0o777);
      }
      for (const [name, path] of bins) {
        const file = join(dest, path);
        if (!lstatSync(file, { throwIfNoEntry: false })?.isFile()) throw new UserError(`${what}: package.json: $.bin[${JSON.stringify(name)}]: ${path} is not in the package`);
        fixShebang(file);
        chmodSync(file, 0o777 & ~UMASK);
        const earlier = linked.get(name);
        if (earlier) throw new UserError(`${what} and ${earlier} both have a bin named ${name}: lock only one of them`);
        linked.set(name, what);
        const link = join(root, GLOBAL_PREFIX, 'bin', name);
        mkdirs(root, dirname(link), what);
        rmSync(link, { force: true });
        symlinkSync(posix.relative(posix.join(GLOBAL_PREFIX, 'bin'), posix.join(GLOBAL_PREFIX, 'lib/node_modules', p.name, path)), link);
      }
      linkBundledBins(root, dest, what);
      installed.push(what);
    } finally {
      rmSync(work, { recursive: true, force: true });
    }
  }
  return installed;
}

/**
 * Arborist links the bins of a package's bundled dependencies into each node_modules/.bin (as
 * `../<dep>/<path>`, the target made executable), at every depth: npm's own tarball bundles pacote,
 * semver, node-gyp… and `npm install -g npm` gives npm/node_modules/.bin with their links.
 */
function linkBundledBins(root: string, dir: string, what: string): void {
  const modules = join(dir, 'node_modules');
  if (!lstatSync(modules, { throwIfNoEntry: false })?.isDirectory()) return;
  const deps: string[] = [];
  for (const name of readdirSync(modules).sort(compareStrings)) {
    if (name.startsWith('.')) continue;
    if (name.startsWith('@')) {
      if (!lstatSync(join(modules, name)).isDirectory()) continue;
      for (const sub of readdirSync(join(modules, name)).sort(compareStrings)) deps.push(`${name}/${sub}`);
    } else deps.push(name);
  }
  const linked = new Map<string, string>();
  for (const dep of deps) {
    const depDir = join(modules, dep);
    if (!lstatSync(depDir).isDirectory()) continue;
    const manifest = join(depDir, 'package.json');
    if (lstatSync(manifest, { throwIfNoEntry: false })?.isFile()) {
      let pkg: { name?: unknown; bin?: unknown };
      try {
        pkg = JSON.parse(readFileSync(manifest, 'utf8'));
      } catch {
        throw new UserError(`${what}: node_modules/${dep}/package.json is not JSON`);
      }
      for (const [name, path] of packageBins({ ...pkg, name: pkg.name ?? dep }, `${what}: node_modules/${dep}`)) {
        const file = join(depDir, path);
        if (!lstatSync(file, { throwIfNoEntry: false })?.isFile()) continue;
        const earlier = linked.get(name);
        if (earlier) throw new UserError(`${what}: bundled ${earlier} and ${dep} both have a bin named ${name}`);
        linked.set(name, dep);
        fixShebang(file);
        chmodSync(file, 0o777 & ~UMASK);
        const link = join(modules, '.bin', name);
        mkdirs(root, dirname(link), what);
        symlinkSync(posix.join('..', dep, path), link);
      }
    }
    linkBundledBins(root, depDir, what);
  }
}

/** The package's package.json (package/package.json, or whatever the first component is), bounded. */
function readPackageJson(tar: string, what: string): { name?: unknown; bin?: unknown } {
  for (const entry of tarEntries(tar, what, { safe: true })) {
    if (entry.type !== 'file' || !/^[^/]+\/package\.json$/.test(entry.path)) continue;
    if (entry.size > PACKAGE_JSON_LIMIT) throw new UserError(`${what}: package.json is larger than ${PACKAGE_JSON_LIMIT} bytes`);
    try {
      return JSON.parse(entry.content().toString('utf8'));
    } catch {
      throw new UserError(`${what}: package.json is not JSON`);
    }
  }
  throw new UserError(`${what}: the tarball has no package.json`);
}

/** mkdir -p with mode 0755 whatever the umask, every component checked to stay inside the root. */
function mkdirs(root: string, dir: string, what: string): void {
  const rel = dir.slice(root.length + 1);
  let path = root;
  for (const part of rel.split('/')) {
    path = join(path, part);
    const stat = lstatSync(path, { throwIfNoEntry: false });
    if (stat?.isDirectory()) continue;
    // A package's symlink on the way (e.g. usr/local -> /opt) must resolve inside the root to be followed.
    if (stat?.isSymbolicLink()) resolveInside(root, join(path.slice(root.length + 1), 'probe'), `${what}: ${rel}`);
    else if (stat) throw new UserError(`${what}: ${path.slice(root.length + 1)} is a file where a directory is needed`);
    else {
      mkdirSync(path);
      chmodSync(path, 0o755);
    }
  }
}
