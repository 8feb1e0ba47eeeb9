import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

const MAX_CONFIG_BYTES = 1 << 20;

/**
 * The credentials `docker login HOST` stored for a registry (`auths[HOST].auth` of docker's
 * config.json, base64 of user:password), so that a vault in a registry that needs a login (GHCR,
 * Harbor) is written and read the way docker pushes there. Credential helpers (`credsStore`) are
 * not run: undefined then, and the error says to log in.
 */
export function registryAuth(host: string): string | undefined {
  const path = join(process.env.DOCKER_CONFIG ?? join(homedir(), '.docker'), 'config.json');
  let text: string;
  try {
    const fd = openSync(path, 'r');
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile() || stat.size > MAX_CONFIG_BYTES) return undefined;
      const buffer = Buffer.alloc(stat.size);
      readSync(fd, buffer, 0, stat.size, 0);
      text = buffer.toString('utf8');
    } finally {
      closeSync(fd);
    }
  } catch {
    return undefined;
  }
  try {
    const auths = (JSON.parse(text) as { auths?: Record<string, { auth?: unknown }> }).auths ?? {};
    // docker writes Docker Hub's key as a URL; other hosts as given to `docker login`.
    for (const key of [host, `https://${host}`, `http://${host}`]) {
      const auth = auths[key]?.auth;
      if (typeof auth === 'string' && /^[A-Za-z0-9+/]+=*$/.test(auth)) return auth;
    }
  } catch {
    // A config docker itself could not read either: no credentials.
  }
  return undefined;
}
