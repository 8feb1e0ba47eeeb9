import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { describeFsError, UserError } from '../errors';
import { readRegularText } from '../fs/regular-file';

/**
 * Ed25519 keys for signing attestations, from the files people already have: PEM (PKCS#8 private,
 * SPKI public, what `reprokit keygen` and `openssl genpkey -algorithm ed25519` write) or OpenSSH
 * (`ssh-keygen -t ed25519`: an unencrypted `OPENSSH PRIVATE KEY`, an `ssh-ed25519 AAAA…` line).
 * Key material never appears in an error message: errors name the file (or variable) and what is
 * wrong with it, nothing read from it.
 */

/** Key files are small; anything larger is not a key (and is not read whole). */
const MAX_KEY_FILE = 64 * 1024;

export interface PublicKeyInfo {
  key: KeyObject;
  /** sha256 of the key's SPKI DER encoding, hex: the `keyid` in DSSE signatures. */
  keyId: string;
  /** Where it came from, for messages. */
  source: string;
}

export function keyIdOf(publicKey: KeyObject): string {
  return createHash('sha256').update(publicKey.export({ type: 'spki', format: 'der' })).digest('hex');
}

/** Reads a key file, bounded, refusing what is not a regular file. */
export function readKeyFile(path: string): string {
  return readRegularText(path, MAX_KEY_FILE, 'a key file');
}

/** A length-prefixed field reader for the SSH wire format (RFC 4251 `string` and `uint32`). */
class SshReader {
  private offset = 0;
  constructor(
    private readonly data: Buffer,
    private readonly source: string,
  ) {}
  uint32(): number {
    if (this.offset + 4 > this.data.length) throw new UserError(`${this.source}: truncated OpenSSH key`);
    const value = this.data.readUInt32BE(this.offset);
    this.offset += 4;
    return value;
  }
  bytes(): Buffer {
    const length = this.uint32();
    if (length > this.data.length - this.offset) throw new UserError(`${this.source}: truncated OpenSSH key`);
    const value = this.data.subarray(this.offset, this.offset + length);
    this.offset += length;
    return value;
  }
  string(): string {
    return this.bytes().toString('latin1');
  }
}

const base64url = (bytes: Buffer) => bytes.toString('base64url');

function ed25519FromRaw(publicRaw: Buffer, seed: Buffer | undefined, source: string): KeyObject {
  if (publicRaw.length !== 32 || (seed && seed.length !== 32)) throw new UserError(`${source}: not an Ed25519 key (wrong key length)`);
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: base64url(publicRaw), ...(seed ? { d: base64url(seed) } : {}) };
  return seed ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
}

/** `openssh-key-v1` (PROTOCOL.key in OpenSSH's sources): only unencrypted Ed25519 keys. */
function parseOpenSshPrivateKey(text: string, source: string): KeyObject {
  const body = text
    .replace(/-----(BEGIN|END) OPENSSH PRIVATE KEY-----/g, '')
    .replace(/\s+/g, '');
  const data = Buffer.from(body, 'base64');
  const magic = Buffer.from('openssh-key-v1\0', 'latin1');
  if (!data.subarray(0, magic.length).equals(magic)) throw new UserError(`${source}: not an OpenSSH private key (bad magic)`);
  const reader = new SshReader(data.subarray(magic.length), source);
  const cipher = reader.string();
  reader.string(); // kdf name
  reader.bytes(); // kdf options
  if (cipher !== 'none') throw new UserError(`${source}: the OpenSSH key is encrypted (${cipher}): decrypt a copy with \`ssh-keygen -p -N '' -f COPY\`, or use a PEM key`);
  if (reader.uint32() !== 1) throw new UserError(`${source}: an OpenSSH key file with more than one key`);
  reader.bytes(); // public key blob, repeated in the private section
  const secret = new SshReader(reader.bytes(), source);
  if (secret.uint32() !== secret.uint32()) throw new UserError(`${source}: corrupt OpenSSH key (check bytes differ)`);
  const type = secret.string();
  if (type !== 'ssh-ed25519') throw new UserError(`${source}: a ${type} key, reprokit signs with Ed25519 only (\`reprokit keygen NAME\` or \`ssh-keygen -t ed25519\`)`);
  const publicRaw = secret.bytes();
  const privateRaw = secret.bytes(); // seed (32) then the public key (32)
  if (privateRaw.length !== 64 || !privateRaw.subarray(32).equals(publicRaw)) throw new UserError(`${source}: corrupt OpenSSH Ed25519 key`);
  return ed25519FromRaw(publicRaw, privateRaw.subarray(0, 32), source);
}

/** `ssh-ed25519 AAAA… comment`, as in `id_ed25519.pub` and `authorized_keys`. */
function parseOpenSshPublicKey(line: string, source: string): KeyObject {
  const [type, blob] = line.trim().split(/\s+/);
  if (type !== 'ssh-ed25519') throw new UserError(`${source}: a ${type} key, reprokit verifies Ed25519 only`);
  const reader = new SshReader(Buffer.from(blob ?? '', 'base64'), source);
  if (reader.string() !== 'ssh-ed25519') throw new UserError(`${source}: corrupt ssh-ed25519 public key`);
  return ed25519FromRaw(reader.bytes(), undefined, source);
}

function requireEd25519(key: KeyObject, source: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') throw new UserError(`${source}: a ${key.asymmetricKeyType ?? 'symmetric'} key, reprokit signs with Ed25519 only`);
  return key;
}

/** A private key from PEM or OpenSSH text. */
export function parsePrivateKey(text: string, source: string): KeyObject {
  if (text.includes('-----BEGIN OPENSSH PRIVATE KEY-----')) return parseOpenSshPrivateKey(text, source);
  if (!/-----BEGIN (ENCRYPTED )?PRIVATE KEY-----/.test(text)) throw new UserError(`${source}: not a private key (expected PEM "PRIVATE KEY" or "OPENSSH PRIVATE KEY")`);
  if (text.includes('ENCRYPTED PRIVATE KEY')) throw new UserError(`${source}: the PEM key is encrypted: reprokit reads unencrypted keys (keep them 0600, or pass one through an environment variable)`);
  try {
    return requireEd25519(createPrivateKey({ key: text, format: 'pem' }), source);
  } catch (error) {
    if (error instanceof UserError) throw error;
    throw new UserError(`${source}: unreadable PEM private key`);
  }
}

/** Every public key in a text: PEM blocks and `ssh-ed25519` lines (a file of trusted keys may hold several). */
export function parsePublicKeys(text: string, source: string): PublicKeyInfo[] {
  const keys: KeyObject[] = [];
  for (const block of text.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? []) {
    try {
      keys.push(requireEd25519(createPublicKey({ key: block, format: 'pem' }), source));
    } catch (error) {
      if (error instanceof UserError) throw error;
      throw new UserError(`${source}: unreadable PEM public key`);
    }
  }
  for (const line of text.split('\n')) {
    if (/^\s*ssh-/.test(line)) keys.push(parseOpenSshPublicKey(line, source));
  }
  if (keys.length === 0) {
    if (/PRIVATE KEY-----/.test(text)) throw new UserError(`${source}: a private key where a public key belongs: pass the .pub file`);
    throw new UserError(`${source}: no public key found (expected PEM "PUBLIC KEY" blocks or ssh-ed25519 lines)`);
  }
  return keys.map((key) => ({ key, keyId: keyIdOf(key), source }));
}

/** The environment variable `reprokit attest` reads a private key from when no --key is given. */
export const SIGNING_KEY_ENV = 'REPROKIT_SIGNING_KEY';

/**
 * The signing key: `--key PATH`, or `--key env:NAME` (the key's text in that environment variable),
 * or REPROKIT_SIGNING_KEY when no --key is given. A CI secret thus never has to touch the disk.
 */
export function loadSigningKey(spec: string | undefined, env: NodeJS.ProcessEnv = process.env): { key: KeyObject; keyId: string; source: string } {
  let text: string | undefined;
  let source: string;
  if (spec === undefined || spec.startsWith('env:')) {
    const name = spec === undefined ? SIGNING_KEY_ENV : spec.slice(4);
    source = `$${name}`;
    text = env[name];
    if (!text) {
      throw new UserError(
        spec === undefined ? `no signing key: pass --key KEYFILE (from \`reprokit keygen NAME\`) or set ${SIGNING_KEY_ENV}` : `${source}: not set or empty, expected a private key`,
      );
    }
  } else {
    source = spec;
    text = readKeyFile(spec);
  }
  const key = parsePrivateKey(text, source);
  return { key, keyId: keyIdOf(createPublicKey(key)), source };
}

/** One public key file (the first key in it). */
export function loadPublicKey(path: string): PublicKeyInfo {
  return parsePublicKeys(readKeyFile(path), path)[0];
}

/**
 * Trusted keys: a directory of `.pub` files (one builder each, named by the file) or one file of
 * keys (PEM blocks and ssh-ed25519 lines; a builder per key, named by its ssh comment or key ID).
 */
export function loadTrustedKeys(path: string): (PublicKeyInfo & { builder: string })[] {
  let names: string[] | undefined;
  try {
    if (statSync(path).isDirectory()) names = readdirSync(path).filter((name) => name.endsWith('.pub')).sort();
  } catch (error) {
    throw describeFsError(error, path);
  }
  const keys: (PublicKeyInfo & { builder: string })[] = [];
  if (names) {
    if (names.length === 0) throw new UserError(`${path}: no .pub files: put one public key per trusted builder there`);
    for (const name of names) {
      const file = join(path, name);
      for (const key of parsePublicKeys(readKeyFile(file), file)) keys.push({ ...key, builder: basename(name, '.pub') });
    }
  } else {
    const text = readKeyFile(path);
    const comments = text.split('\n').filter((line) => /^\s*ssh-/.test(line)).map((line) => line.trim().split(/\s+/).slice(2).join(' '));
    const parsed = parsePublicKeys(text, path);
    const pemCount = parsed.length - comments.length;
    parsed.forEach((key, index) => keys.push({ ...key, builder: (index >= pemCount && comments[index - pemCount]) || key.keyId.slice(0, 16) }));
  }
  // The same key twice is one builder, not two votes.
  return keys.filter((key, index) => keys.findIndex((other) => other.keyId === key.keyId) === index);
}
