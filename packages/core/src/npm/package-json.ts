import { join } from 'node:path';
import { UserError } from '../errors';
import { readRegularText } from '../fs/regular-file';

/** What `npm pack` needs to know of a package before packing it. */
export interface PackablePackage {
  name: string;
  version: string;
  /** The file `npm pack` writes: `@scope/name` becomes `scope-name`, then `-<version>.tgz`. */
  filename: string;
  private: boolean;
}

const PACKAGE_JSON_LIMIT = 1 << 20;
const NAME = /^(@[a-z0-9][a-z0-9._~-]*\/)?[a-z0-9][a-z0-9._~-]*$/;
const VERSION = /^[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/;
const DEPENDENCY_FIELDS = ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies'];
/**
 * publishConfig fields pnpm (and yarn) copy over the packed package.json; npm reads publishConfig
 * only as configuration (registry, tag, access…) and packs these as they are.
 */
const REWRITTEN_BY_OTHERS = ['bin', 'browser', 'cpu', 'es2015', 'esnext', 'exports', 'imports', 'libc', 'main', 'module', 'os', 'type', 'types', 'typesVersions', 'typings', 'umd:main', 'unpkg'];

/** npm pack's file name for a package (npm's `getContents`: `@` dropped, `/` made `-`). */
export function npmPackFilename(name: string, version: string): string {
  return `${name.startsWith('@') ? name.slice(1).replace('/', '-') : name}-${version}.tgz`;
}

/**
 * The 1-based line of the first line from line `from` on holding every one of `needles`
 * (JSON-quoted), else holding the first of them.
 */
function lineOf(text: string, needles: string[], from = 0): number {
  const lines = text.split('\n');
  const quoted = needles.map((needle) => JSON.stringify(needle));
  const find = (test: (line: string) => boolean) => lines.findIndex((line, i) => i >= from && test(line));
  let index = find((line) => quoted.every((q) => line.includes(q)));
  if (index < 0) index = find((line) => line.includes(quoted[0]));
  return index < 0 ? 1 : index + 1;
}

/**
 * Reads a package's package.json and refuses what `npm pack` would pack differently from what the
 * package means: a `workspace:` or `catalog:` range (pnpm, yarn and bun rewrite them to versions
 * when they pack; npm packs them verbatim, and nobody can install the result) and publishConfig
 * fields only those tools apply. One line, naming the file, the line and the field.
 */
export function readPackablePackage(projectDir: string): PackablePackage {
  const path = join(projectDir, 'package.json');
  const text = readRegularText(path, PACKAGE_JSON_LIMIT, path);
  let pkg: Record<string, unknown>;
  try {
    pkg = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${path}: invalid JSON (${(error as Error).message})`);
  }
  if (typeof pkg !== 'object' || pkg === null || Array.isArray(pkg)) throw new UserError(`${path}: not a JSON object`);
  if (typeof pkg.name !== 'string' || !NAME.test(pkg.name)) throw new UserError(`${path}:${lineOf(text, ['name'])}: $.name ${JSON.stringify(pkg.name)} is not a package name npm would publish`);
  if (typeof pkg.version !== 'string' || !VERSION.test(pkg.version)) throw new UserError(`${path}:${lineOf(text, ['version'])}: $.version ${JSON.stringify(pkg.version)} is not a semver version`);
  for (const field of DEPENDENCY_FIELDS) {
    const deps = pkg[field];
    if (typeof deps !== 'object' || deps === null) continue;
    for (const [dep, range] of Object.entries(deps as Record<string, unknown>)) {
      if (typeof range !== 'string') continue;
      const protocol = /^(workspace|catalog):/.exec(range)?.[1];
      if (protocol) {
        throw new UserError(
          `${path}:${lineOf(text, [dep, range], lineOf(text, [field]) - 1)}: $.${field}[${JSON.stringify(dep)}] is ${JSON.stringify(range)}: npm pack does not rewrite ${protocol}: ranges (pnpm, yarn and bun do), the tarball would carry it verbatim; give a version range`,
        );
      }
    }
  }
  const publishConfig = pkg.publishConfig;
  if (typeof publishConfig === 'object' && publishConfig !== null) {
    for (const key of Object.keys(publishConfig)) {
      if (REWRITTEN_BY_OTHERS.includes(key)) {
        throw new UserError(
          `${path}:${lineOf(text, [key], lineOf(text, ['publishConfig']) - 1)}: $.publishConfig.${key}: npm does not apply it to the packed package.json (pnpm and yarn do), so the tarball would keep the top-level ${key}; move it to the top level`,
        );
      }
    }
  }
  return { name: pkg.name, version: pkg.version, filename: npmPackFilename(pkg.name, pkg.version), private: pkg.private === true };
}
