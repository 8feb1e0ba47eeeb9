import { createHash, createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readRegularText } from '../fs/regular-file';

/**
 * OpenSSH's known_hosts, as `ssh` reads it to check a server (sshd(8) "SSH_KNOWN_HOSTS FILE
 * FORMAT"): `[marker] hostpatterns keytype base64key [comment]`, host patterns comma-separated with
 * `*` and `?` wildcards and `!` negation, `[host]:port` for a port other than 22, hashed names
 * (`|1|base64 salt|base64 HMAC-SHA1(salt, name)`), `@revoked` keys refused outright.
 * `@cert-authority` lines are skipped: host certificates are not checked, only plain keys.
 */

const MAX_KNOWN_HOSTS = 4 << 20;

export interface KnownKey {
  type: string;
  /** The key blob, as the server sends it in the key exchange. */
  blob: Buffer;
  revoked: boolean;
  /** `file:line`, for messages. */
  where: string;
}

/** The name known_hosts files use for a host and port: `host`, or `[host]:port` when the port is not 22. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function globMatch(pattern: string, name: string): boolean {
  const regex = new RegExp('^' + pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.') + '$', 'i');
  return regex.test(name);
}

function hostMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    if (pattern.startsWith('!')) {
      if (globMatch(pattern.slice(1), name)) return false;
    } else if (globMatch(pattern, name)) {
      matched = true;
    }
  }
  return matched;
}

/** The keys the files list for `host:port` (files that do not exist list none). */
export function knownKeys(files: string[], host: string, port: number): KnownKey[] {
  const name = knownHostName(host, port);
  const keys: KnownKey[] = [];
  for (const file of files) {
    if (!existsSync(file)) continue;
    const text = readRegularText(file, MAX_KNOWN_HOSTS, 'a known_hosts file');
    text.split('\n').forEach((raw, index) => {
      const line = raw.trim();
      if (!line || line.startsWith('#')) return;
      const fields = line.split(/\s+/);
      const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
      if (marker === '@cert-authority' || fields.length < 3) return;
      const [hosts, type, base64] = fields;
      if (!hostMatches(hosts, name)) return;
      keys.push({ type, blob: Buffer.from(base64, 'base64'), revoked: marker === '@revoked', where: `${file}:${index + 1}` });
    });
  }
  return keys;
}

/** The key type a blob names (its first SSH string). */
export function keyTypeOf(blob: Buffer): string {
  if (blob.length < 4) return 'unknown';
  const length = blob.readUInt32BE(0);
  return blob.subarray(4, 4 + Math.min(length, 64)).toString('latin1');
}

/** `SHA256:<base64 without padding>`, as `ssh-keygen -l` and ssh's prompts print a key. */
export function fingerprint(blob: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(blob).digest('base64').replace(/=+$/, '');
}

export type HostKeyVerdict = { ok: true } | { ok: false; reason: 'unknown' | 'changed' | 'revoked'; offered: string; where?: string };

/** What ssh decides for the key a server offers: known (ok), not listed, listed with another key, or revoked. */
export function checkHostKey(known: KnownKey[], offered: Buffer): HostKeyVerdict {
  const describe = `${keyTypeOf(offered)} ${fingerprint(offered)}`;
  const revoked = known.find((key) => key.revoked && key.blob.equals(offered));
  if (revoked) return { ok: false, reason: 'revoked', offered: describe, where: revoked.where };
  if (known.some((key) => !key.revoked && key.blob.equals(offered))) return { ok: true };
  const other = known.find((key) => !key.revoked);
  return other ? { ok: false, reason: 'changed', offered: describe, where: other.where } : { ok: false, reason: 'unknown', offered: describe };
}

/**
 * The host key algorithms to offer, in ssh2's names, for the key types known_hosts lists for the
 * host (as ssh prefers those it already knows): a server with an ed25519 and an RSA key, known by
 * its RSA key, is asked for that one.
 */
export function hostKeyAlgorithms(known: KnownKey[]): string[] | undefined {
  const types = [...new Set(known.filter((key) => !key.revoked).map((key) => key.type))];
  if (types.length === 0) return undefined;
  return types.flatMap((type) => (type === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [type]));
}
