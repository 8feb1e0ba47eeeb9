import { posix } from 'node:path';
import type { ImageSource } from './dockerfile';

/**
 * A `RUN --mount=…`. Cache mounts are empty and private to one build (shared by that build's RUNs
 * with the same id), so they can speed up a build but never change its output; tmpfs mounts are
 * memory; bind mounts show files of the context or of another stage, read-only unless `rw` (and
 * then writes are thrown away).
 */
export interface RunMount {
  type: 'cache' | 'tmpfs' | 'bind';
  target: string;
  /** bind: a path of the context or of `from`; cache: a path inside the cache (ignored). */
  source?: string;
  from?: ImageSource;
  /** cache: the cache's name (defaults to the target). */
  id?: string;
  readOnly: boolean;
  uid: number;
  gid: number;
  mode: number;
  /** tmpfs: its size in bytes. */
  size?: number;
}

const KEYS = new Set(['type', 'target', 'dst', 'destination', 'source', 'src', 'from', 'id', 'sharing', 'readonly', 'ro', 'readwrite', 'rw', 'uid', 'gid', 'mode', 'size']);

/** Reads `type=cache,target=/root/.cache,…` (BuildKit's CSV form). */
export function parseRunMount(value: string, fail: (message: string) => never, source: (ref: string) => ImageSource): RunMount {
  const fields = new Map<string, string | true>();
  for (const part of value.split(',')) {
    if (part === '') continue;
    const [key, val] = part.split(/=(.*)/s);
    const name = key.toLowerCase();
    if (!KEYS.has(name)) fail(`\`${key}\` is not a mount option reprokit knows`);
    fields.set(name, val ?? true);
  }
  const text = (name: string): string | undefined => {
    const got = fields.get(name);
    if (got === true) return fail(`${name} needs a value`);
    return got;
  };
  const flag = (name: string): boolean | undefined => {
    const got = fields.get(name);
    if (got === undefined) return undefined;
    if (got === true || got === 'true') return true;
    if (got === 'false') return false;
    return fail(`${name}=${got}: give true or false`);
  };
  const type = text('type') ?? 'bind';
  if (type === 'secret' || type === 'ssh') fail(`type=${type}: a reproducible build cannot depend on secrets or SSH agents; give the build what it needs as files of the context`);
  if (type !== 'cache' && type !== 'tmpfs' && type !== 'bind') fail(`type=${type}: supported types are cache, tmpfs and bind`);
  const target = text('target') ?? text('dst') ?? text('destination') ?? fail('target=… is required');
  if (!target.startsWith('/')) fail(`target=${target}: give an absolute path`);
  if (posix.normalize(target) === '/') fail('target=/: cannot mount over the root');
  const number = (name: string, radix: number, fallback: number): number => {
    const got = text(name);
    if (got === undefined) return fallback;
    if (!(radix === 8 ? /^[0-7]{1,4}$/ : /^\d+$/).test(got)) fail(`${name}=${got}: not a ${radix === 8 ? 'octal mode' : 'number'}`);
    return parseInt(got, radix);
  };
  const from = text('from');
  if (from !== undefined && type === 'tmpfs') fail('from= does not apply to tmpfs');
  const readOnly = flag('readonly') ?? flag('ro') ?? (flag('readwrite') ?? flag('rw') ? false : type === 'bind');
  const sizeText = text('size');
  if (sizeText !== undefined && !/^\d+[kmg]?$/i.test(sizeText)) fail(`size=${sizeText}: give bytes, or a number with k, m or g`);
  const size = sizeText === undefined ? undefined : parseInt(sizeText, 10) * ({ k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[sizeText.slice(-1).toLowerCase()] ?? 1);
  return {
    type,
    target: posix.normalize(target),
    source: text('source') ?? text('src'),
    from: from === undefined ? undefined : source(from),
    id: text('id'),
    readOnly,
    uid: number('uid', 10, 0),
    gid: number('gid', 10, 0),
    mode: number('mode', 8, 0o755),
    size,
  };
}
