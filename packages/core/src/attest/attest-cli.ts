import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { RECORD_DIR } from '../build/build-record';
import { UserError } from '../errors';
import { checkSubjectDigest, envelopePathFor, signStatementFile, verifyAttestationFile } from './attestation';
import { AttestationRejected } from './dsse';
import { generateSigningKey } from './keygen';
import { loadSigningKey, loadTrustedKeys, SIGNING_KEY_ENV } from './keys';
import { STATEMENT_SUFFIX } from './provenance';

export const ATTEST_USAGE = `  keygen NAME                                     write an Ed25519 key pair: NAME.key (0600) and NAME.pub
  attest PATH… [--key KEY|env:VAR] [--out DIR]   sign in-toto statements (files, or output directories whose
                                                  .reprokit/*.intoto.json a build wrote) as DSSE envelopes,
                                                  <name>.intoto.dsse.json; the key from --key or $${SIGNING_KEY_ENV}
  verify-attestation FILE --key PUB [--artifact F]
                                                  verify a DSSE envelope against a public key (file or directory
                                                  of .pub); --artifact: and that it attests that file's sha256`;

const say = (line: string) => process.stdout.write(line + '\n');

export function keygenCommand(args: string[]): number {
  const { positionals } = parseArgs({ args, options: {}, allowPositionals: true });
  if (positionals.length !== 1) throw new UserError('keygen: name exactly one NAME (writes NAME.key and NAME.pub)');
  const { keyFile, pubFile, keyId } = generateSigningKey(positionals[0]);
  say(`wrote ${keyFile} (private, mode 0600: keep it secret) and ${pubFile} (give it to whoever verifies)`);
  say(`key ID ${keyId}`);
  return 0;
}

/** Statement files in the paths named: a statement itself, or a directory's `.reprokit/` (or the directory, if it is one). */
function statementFiles(paths: string[]): string[] {
  return paths.flatMap((path) => {
    if (!existsSync(path)) throw new UserError(`${path}: no such file or directory`);
    if (!statSync(path).isDirectory()) return [path];
    const dir = existsSync(join(path, RECORD_DIR)) ? join(path, RECORD_DIR) : path;
    const found = readdirSync(dir)
      .filter((name) => name.endsWith(STATEMENT_SUFFIX))
      .sort()
      .map((name) => join(dir, name));
    if (found.length === 0) throw new UserError(`${path}: no *${STATEMENT_SUFFIX} statements: build the project first`);
    return found;
  });
}

export function attestCommand(args: string[]): number {
  const { values, positionals } = parseArgs({ args, options: { key: { type: 'string' }, out: { type: 'string' } }, allowPositionals: true });
  if (positionals.length === 0) throw new UserError('attest: name at least one statement file or output directory');
  const key = loadSigningKey(values.key);
  for (const statement of statementFiles(positionals)) {
    const out = envelopePathFor(statement, values.out);
    const signed = signStatementFile(statement, key, out);
    say(`signed ${relative(process.cwd(), out) || out} (${signed.predicateType}, ${signed.subject.map((s) => s.name ?? s.uri).join(', ')}) with key ${key.keyId.slice(0, 16)}…`);
  }
  return 0;
}

/** Exit 0 verified, 1 rejected (untrusted key, changed payload, another digest), 2 malformed input. */
export async function verifyAttestationCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args, options: { key: { type: 'string' }, artifact: { type: 'string' } }, allowPositionals: true });
  if (positionals.length !== 1) throw new UserError('verify-attestation: name exactly one FILE (a DSSE envelope)');
  if (!values.key) throw new UserError('verify-attestation: --key PUB is required (a public key file, or a directory of .pub files)');
  const trusted = loadTrustedKeys(values.key);
  try {
    const attestation = verifyAttestationFile(positionals[0], trusted);
    if (values.artifact) await checkSubjectDigest(attestation, values.artifact);
    const subjects = attestation.statement.subject.map((subject) => `${subject.name ?? subject.uri} sha256:${subject.digest?.sha256}`).join(', ');
    say(`${positionals[0]}: verified, signed by ${attestation.signers.map((signer) => `${signer.keyId.slice(0, 16)}… (${signer.source})`).join(', ')}`);
    say(`  ${attestation.statement.predicateType}: ${subjects}`);
    return 0;
  } catch (error) {
    if (!(error instanceof AttestationRejected)) throw error;
    process.stderr.write(`reprokit: REJECTED ${error.message}\n`);
    return 1;
  }
}
