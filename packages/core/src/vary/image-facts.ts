import type Docker from 'dockerode';
import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { runInContainer } from '../docker/docker';
import { writeFileAtomic } from '../manifest/json-file';
import type { ImageFacts } from './variations';

const LIBFAKETIME_PATHS = ['/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1', '/usr/lib/faketime/libfaketime.so.1'];

/** What the image has: a function of its content, so of its ID. */
type ImageContentFacts = Pick<ImageFacts, 'libfaketime' | 'utf8Locale' | 'setarch' | 'tar'>;

/** Probed facts by image ID, for this process. */
const known = new Map<string, ImageContentFacts>();

/**
 * Where probed facts are kept between runs: an image ID names its content, so its facts never
 * change, and a probe costs a container start (~0.3 s, a third of a small build). Keyed by ID only.
 */
function cacheFile(imageId: string): string | undefined {
  const id = /^sha256:([0-9a-f]{64})$/.exec(imageId)?.[1];
  if (!id) return undefined;
  const root = process.env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(root, 'reprokit', 'image-facts', `${id}.json`);
}

function readCached(file: string): ImageContentFacts | undefined {
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    // Only the shapes the probe writes; anything else is probed again.
    const path = data.libfaketime;
    if (path !== undefined && !LIBFAKETIME_PATHS.includes(path as string)) return undefined;
    if (data.utf8Locale !== undefined && data.utf8Locale !== 'C.UTF-8') return undefined;
    if (typeof data.setarch !== 'boolean' || typeof data.tar !== 'boolean') return undefined;
    return { libfaketime: path as string | undefined, utf8Locale: data.utf8Locale as string | undefined, setarch: data.setarch, tar: data.tar };
  } catch {
    return undefined;
  }
}

/** Looks into the builder image for what the variations need (cached by image ID), and asks the daemon for its CPUs. */
export async function imageFacts(docker: Docker, imageId: string, user: string, logPrefix: string): Promise<ImageFacts> {
  const file = cacheFile(imageId);
  let content = known.get(imageId) ?? (file ? readCached(file) : undefined);
  const info = docker.info() as Promise<{ NCPU?: number }>;
  if (!content) {
    const lines: string[] = [];
    const script = [
      ...LIBFAKETIME_PATHS.map((path) => `[ -e ${path} ] && echo faketime ${path}`),
      '[ -d /usr/lib/locale/C.utf8 ] && echo locale C.UTF-8',
      'command -v setarch >/dev/null && echo setarch',
      'command -v tar >/dev/null && echo tar',
      'true',
    ].join('\n');
    await runInContainer(docker, { image: imageId, cmd: ['sh', '-c', script], user, env: {}, mounts: [], workdir: '/', logPrefix, log: (line) => lines.push(line.slice(logPrefix.length)) });
    content = {
      libfaketime: lines.find((line) => line.startsWith('faketime '))?.slice('faketime '.length),
      utf8Locale: lines.includes('locale C.UTF-8') ? 'C.UTF-8' : undefined,
      setarch: lines.includes('setarch'),
      tar: lines.includes('tar'),
    };
    if (file) {
      try {
        mkdirSync(join(file, '..'), { recursive: true });
        writeFileAtomic(file, JSON.stringify(content) + '\n');
      } catch {
        // A read-only home: the facts are probed again next time.
      }
    }
  }
  known.set(imageId, content);
  return { ...content, cpus: Math.max(1, (await info).NCPU ?? 1), user };
}
