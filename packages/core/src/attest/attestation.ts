import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../manifest/json-file';
import { hashFile } from '../hash';
import { AttestationRejected, parseEnvelope, readEnvelope, signEnvelope, verifyEnvelope } from './dsse';
import type { PublicKeyInfo } from './keys';
import { readRegularText } from '../fs/regular-file';
import { parseStatement, type Statement } from './statement';

/** A statement is a few KiB (a provenance with its options); this bounds a hostile one. */
const MAX_STATEMENT = 1024 * 1024;

/** Where `reprokit attest` puts the envelope of `x.intoto.json` by default: `x.intoto.dsse.json` beside it. */
export function envelopePathFor(statementPath: string, outDir?: string): string {
  const name = basename(statementPath).replace(/\.json$/, '') + '.dsse.json';
  return join(outDir ?? dirname(statementPath), name);
}

/**
 * Signs a statement file as it is on disk: the payload is the file's exact bytes (not a
 * re-serialization), after checking that they are an in-toto statement.
 */
export function signStatementFile(statementPath: string, key: Parameters<typeof signEnvelope>[1], outPath: string): Statement {
  const text = readRegularText(statementPath, MAX_STATEMENT, 'an in-toto statement');
  const payload = Buffer.from(text, 'utf8');
  const statement = parseStatement(payload, statementPath);
  writeFileAtomic(outPath, JSON.stringify(signEnvelope(payload, key), null, 2) + '\n');
  return statement;
}

export interface VerifiedAttestation {
  path: string;
  statement: Statement;
  signers: PublicKeyInfo[];
}

/** Reads, verifies and parses an attestation (a DSSE envelope of an in-toto statement). */
export function verifyAttestationFile(path: string, trusted: PublicKeyInfo[]): VerifiedAttestation {
  const envelope = readEnvelope(path);
  const { payload, signers } = verifyEnvelope(envelope, trusted, path);
  return { path, statement: parseStatement(payload, `${path}: payload`), signers };
}

/** The same for an envelope read from elsewhere (a registry blob), `label` naming where. */
export function verifyAttestationText(text: string, label: string, trusted: PublicKeyInfo[]): VerifiedAttestation {
  const { payload, signers } = verifyEnvelope(parseEnvelope(text, label), trusted, label);
  return { path: label, statement: parseStatement(payload, `${label}: payload`), signers };
}

/** Refuses an attestation none of whose subjects has the artifact's sha256. */
export async function checkSubjectDigest(attestation: VerifiedAttestation, artifact: string): Promise<void> {
  const sha256 = (await hashFile(artifact, ['sha256'])).digests.sha256!;
  if (attestation.statement.subject.some((subject) => subject.digest?.sha256 === sha256)) return;
  const attested = attestation.statement.subject.map((subject) => `sha256:${subject.digest?.sha256 ?? '(none)'}`).join(', ');
  throw new AttestationRejected(`${attestation.path}: attests ${attested}, but ${artifact} is sha256:${sha256}: the attestation is for another artifact`);
}
