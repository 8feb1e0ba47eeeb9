import { sign, verify, type KeyObject } from 'node:crypto';
import { UserError } from '../errors';
import { parseJson } from '../manifest/json-file';
import type { PublicKeyInfo } from './keys';
import { readRegularText } from '../fs/regular-file';

/**
 * DSSE envelopes (github.com/secure-systems-lab/dsse, protocol v1), the signature wrapper in-toto
 * and SLSA attestations travel in: the signature covers PAE(payloadType, payload), so a payload
 * cannot be re-interpreted as another type, and the payload is kept as the exact bytes signed.
 */
export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface DsseSignature {
  keyid: string;
  sig: string;
}

export interface DsseEnvelope {
  payloadType: string;
  payload: string;
  signatures: DsseSignature[];
}

/** Pre-Authentication Encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body, lengths in ASCII decimal bytes. */
export function preAuthEncoding(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

export function signEnvelope(payload: Buffer, key: { key: KeyObject; keyId: string }, payloadType = IN_TOTO_PAYLOAD_TYPE): DsseEnvelope {
  // Ed25519 takes no digest algorithm: null.
  const sig = sign(null, preAuthEncoding(payloadType, payload), key.key);
  return { payloadType, payload: payload.toString('base64'), signatures: [{ keyid: key.keyId, sig: sig.toString('base64') }] };
}

/** An attestation file is a few KiB; this bounds what a hostile one can make reprokit read. */
export const MAX_ENVELOPE = 4 * 1024 * 1024;

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Reads and checks the shape of an envelope; every problem is one line naming the file and field. */
export function readEnvelope(path: string): DsseEnvelope {
  return parseEnvelope(readRegularText(path, MAX_ENVELOPE, 'a DSSE envelope'), path);
}

/** Checks the shape of an envelope's text (a file's, or a registry blob's: `path` names where it came from). */
export function parseEnvelope(text: string, path: string): DsseEnvelope {
  const value = parseJson(text, path) as Partial<DsseEnvelope> | null;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UserError(`${path}: not a DSSE envelope (expected a JSON object)`);
  if (typeof value.payloadType !== 'string') throw new UserError(`${path}: $.payloadType: missing, not a DSSE envelope`);
  if (typeof value.payload !== 'string' || !BASE64.test(value.payload)) throw new UserError(`${path}: $.payload: missing or not base64`);
  if (!Array.isArray(value.signatures) || value.signatures.length === 0) throw new UserError(`${path}: $.signatures: the envelope is not signed`);
  value.signatures.forEach((signature, index) => {
    if (typeof signature?.sig !== 'string' || !BASE64.test(signature.sig)) throw new UserError(`${path}: $.signatures[${index}].sig: missing or not base64`);
    if (signature.keyid !== undefined && typeof signature.keyid !== 'string') throw new UserError(`${path}: $.signatures[${index}].keyid: not a string`);
  });
  return value as DsseEnvelope;
}

/** A well-formed attestation that does not verify: a check failed (exit 1), unlike malformed input (exit 2). */
export class AttestationRejected extends UserError {}

export interface VerifiedEnvelope {
  payload: Buffer;
  /** The trusted keys whose signatures verified. */
  signers: PublicKeyInfo[];
}

/**
 * Verifies an envelope against trusted keys. Refused, with one line naming the file: no signature
 * by a trusted key (naming the key IDs that did sign), or a signature by a trusted key that does not
 * cover this payload (it was changed after signing).
 */
export function verifyEnvelope(envelope: DsseEnvelope, trusted: PublicKeyInfo[], label: string): VerifiedEnvelope {
  if (envelope.payloadType !== IN_TOTO_PAYLOAD_TYPE) throw new UserError(`${label}: payloadType ${JSON.stringify(envelope.payloadType)}, expected ${IN_TOTO_PAYLOAD_TYPE}`);
  const payload = Buffer.from(envelope.payload, 'base64');
  const pae = preAuthEncoding(envelope.payloadType, payload);
  const signers: PublicKeyInfo[] = [];
  const badSignatures: string[] = [];
  for (const signature of envelope.signatures) {
    // keyid is a hint (DSSE says so): a signature without one is tried against every trusted key.
    const candidates = signature.keyid ? trusted.filter((key) => key.keyId === signature.keyid) : trusted;
    const sig = Buffer.from(signature.sig, 'base64');
    for (const candidate of candidates) {
      if (verify(null, pae, candidate.key, sig)) {
        if (!signers.some((signer) => signer.keyId === candidate.keyId)) signers.push(candidate);
      } else if (signature.keyid) {
        badSignatures.push(candidate.keyId);
      }
    }
  }
  if (signers.length) return { payload, signers };
  if (badSignatures.length) {
    throw new AttestationRejected(`${label}: the signature by trusted key ${badSignatures[0].slice(0, 16)}… does not match the payload: the envelope was changed after signing`);
  }
  const ids = envelope.signatures.map((signature) => (signature.keyid ? signature.keyid.slice(0, 16) + '…' : '(no keyid)')).join(', ');
  throw new AttestationRejected(`${label}: signed by ${ids}, not by a trusted key (${trusted.length} trusted: ${trusted.map((key) => key.keyId.slice(0, 16) + '…').join(', ') || 'none'})`);
}
