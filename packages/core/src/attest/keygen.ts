import { generateKeyPairSync } from 'node:crypto';
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from 'node:fs';
import { UserError } from '../errors';
import { keyIdOf } from './keys';

/** Creates a file that must not exist yet, with its final mode from the start (no window where a key is readable by others). */
function createExclusive(path: string, content: string, mode: number): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', mode);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') throw new UserError(`${path}: already exists: reprokit keygen never overwrites a key (choose another NAME or remove it)`);
    if (code === 'ENOENT') throw new UserError(`${path}: the directory does not exist`);
    if (code === 'EACCES' || code === 'EPERM') throw new UserError(`${path}: permission denied`);
    throw error;
  }
  try {
    writeSync(fd, content);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/**
 * `reprokit keygen NAME`: an Ed25519 key pair as NAME.key (PKCS#8 PEM, mode 0600) and NAME.pub
 * (SPKI PEM), the formats openssl and node:crypto read. Returns the key ID (sha256 of the SPKI DER).
 */
export function generateSigningKey(name: string): { keyFile: string; pubFile: string; keyId: string } {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const keyFile = `${name}.key`;
  const pubFile = `${name}.pub`;
  createExclusive(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }) as string, 0o600);
  try {
    createExclusive(pubFile, publicKey.export({ type: 'spki', format: 'pem' }) as string, 0o644);
  } catch (error) {
    // Half a pair is worse than none.
    rmSync(keyFile, { force: true });
    throw error;
  }
  return { keyFile, pubFile, keyId: keyIdOf(publicKey) };
}
