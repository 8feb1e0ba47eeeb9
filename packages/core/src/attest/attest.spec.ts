import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { preAuthEncoding } from './dsse';
import { loadSigningKey, loadTrustedKeys, parsePublicKeys } from './keys';

const bin = join(__dirname, '..', '..', 'bin', 'reprokit.js');
const reprokit = (cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', env: { ...process.env, REPROKIT_SIGNING_KEY: '', ...env } });
const run = (cwd: string, command: string, args: string[]) => {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  assert.equal(result.status, 0, `${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout;
};

/** A statement about one file, as a build would write it. */
function statementAbout(dir: string, content = 'artifact bytes\n'): { statement: string; artifact: string } {
  const artifact = join(dir, 'artifact');
  writeFileSync(artifact, content);
  const sha256 = createHash('sha256').update(content).digest('hex');
  const statement = join(dir, 'artifact.intoto.json');
  writeFileSync(
    statement,
    JSON.stringify({ _type: 'https://in-toto.io/Statement/v1', subject: [{ name: 'artifact', digest: { sha256 } }], predicateType: 'https://slsa.dev/provenance/v1', predicate: {} }, null, 2) + '\n',
  );
  return { statement, artifact };
}

function assertOneLine(stderr: string, pattern: RegExp) {
  assert.doesNotMatch(stderr, /^\s+at /m, 'stack trace printed');
  assert.equal(stderr.trimEnd().split('\n').length, 1, stderr);
  assert.match(stderr.trimEnd(), pattern);
}

describe('keygen, attest, verify-attestation', () => {
  it('keygen writes NAME.key 0600 and NAME.pub, and never overwrites', () => {
    const dir = tempDir();
    const result = reprokit(dir, ['keygen', 'builder-a']);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(statSync(join(dir, 'builder-a.key')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(dir, 'builder-a.pub'), 'utf8'), /^-----BEGIN PUBLIC KEY-----/);
    // openssl reads both files as Ed25519 keys.
    assert.match(run(dir, 'openssl', ['pkey', '-in', 'builder-a.key', '-noout', '-text']), /ED25519 Private-Key/);
    const before = readFileSync(join(dir, 'builder-a.key'));
    const again = reprokit(dir, ['keygen', 'builder-a']);
    assert.equal(again.status, 2);
    assertOneLine(again.stderr, /builder-a\.key: already exists/);
    assert.deepEqual(readFileSync(join(dir, 'builder-a.key')), before);
  });

  it('signs a statement as a DSSE envelope whose signature openssl verifies over PAE(payloadType, payload)', () => {
    const dir = tempDir();
    reprokit(dir, ['keygen', 'k']);
    const { statement } = statementAbout(dir);
    const signed = reprokit(dir, ['attest', statement, '--key', 'k.key']);
    assert.equal(signed.status, 0, signed.stderr);
    const envelope = JSON.parse(readFileSync(join(dir, 'artifact.intoto.dsse.json'), 'utf8'));
    assert.equal(envelope.payloadType, 'application/vnd.in-toto+json');
    // The payload is the statement file's exact bytes.
    assert.deepEqual(Buffer.from(envelope.payload, 'base64'), readFileSync(statement));
    writeFileSync(join(dir, 'pae'), preAuthEncoding(envelope.payloadType, Buffer.from(envelope.payload, 'base64')));
    writeFileSync(join(dir, 'sig'), Buffer.from(envelope.signatures[0].sig, 'base64'));
    assert.match(run(dir, 'openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', 'k.pub', '-rawin', '-in', 'pae', '-sigfile', 'sig']), /Signature Verified Successfully/);
    // The key ID is the sha256 of the public key's DER, as openssl exports it.
    const der = spawnSync('openssl', ['pkey', '-pubin', '-in', join(dir, 'k.pub'), '-outform', 'DER']).stdout;
    assert.equal(envelope.signatures[0].keyid, createHash('sha256').update(der).digest('hex'));
  });

  it('PAE matches the DSSE specification example', () => {
    // From the DSSE protocol document: PAE("http://example.com/HelloWorld", "hello world").
    assert.equal(preAuthEncoding('http://example.com/HelloWorld', Buffer.from('hello world')).toString(), 'DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });

  it('verify-attestation accepts the right key and refuses, one line each, another key, a changed payload, another digest', () => {
    const dir = tempDir();
    reprokit(dir, ['keygen', 'good']);
    reprokit(dir, ['keygen', 'other']);
    const { statement, artifact } = statementAbout(dir);
    reprokit(dir, ['attest', statement, '--key', 'good.key']);
    const envelope = join(dir, 'artifact.intoto.dsse.json');

    const ok = reprokit(dir, ['verify-attestation', envelope, '--key', 'good.pub', '--artifact', artifact]);
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /verified, signed by [0-9a-f]{16}… \(good\.pub\)/);

    const untrusted = reprokit(dir, ['verify-attestation', envelope, '--key', 'other.pub']);
    assert.equal(untrusted.status, 1);
    assertOneLine(untrusted.stderr, /^reprokit: REJECTED .*artifact\.intoto\.dsse\.json: signed by [0-9a-f]{16}…, not by a trusted key/);

    const parsed = JSON.parse(readFileSync(envelope, 'utf8'));
    const changed = Buffer.from(parsed.payload, 'base64').toString().replace('"artifact"', '"backdoored"');
    writeFileSync(join(dir, 'changed.json'), JSON.stringify({ ...parsed, payload: Buffer.from(changed).toString('base64') }));
    const tampered = reprokit(dir, ['verify-attestation', 'changed.json', '--key', 'good.pub']);
    assert.equal(tampered.status, 1);
    assertOneLine(tampered.stderr, /^reprokit: REJECTED changed\.json: the signature by trusted key [0-9a-f]{16}… does not match the payload/);

    writeFileSync(join(dir, 'other-artifact'), 'other bytes\n');
    const otherDigest = reprokit(dir, ['verify-attestation', envelope, '--key', 'good.pub', '--artifact', 'other-artifact']);
    assert.equal(otherDigest.status, 1);
    assertOneLine(otherDigest.stderr, /^reprokit: REJECTED .*: attests sha256:[0-9a-f]{64}, but other-artifact is sha256:[0-9a-f]{64}: the attestation is for another artifact$/);

    writeFileSync(join(dir, 'garbage.json'), '{"payloadType": 1');
    const garbage = reprokit(dir, ['verify-attestation', 'garbage.json', '--key', 'good.pub']);
    assert.equal(garbage.status, 2);
    assertOneLine(garbage.stderr, /^reprokit: garbage\.json:1:\d+: invalid JSON/);
  });

  it('reads OpenSSH keys from ssh-keygen, and a signing key from an environment variable without printing it', () => {
    const dir = tempDir();
    run(dir, 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'rebuilder-b', '-f', 'id_ed25519']);
    const privateText = readFileSync(join(dir, 'id_ed25519'), 'utf8');
    const { statement } = statementAbout(dir);
    const signed = reprokit(dir, ['attest', statement], { REPROKIT_SIGNING_KEY: privateText });
    assert.equal(signed.status, 0, signed.stderr);
    assert.ok(!signed.stdout.includes(privateText.split('\n')[1]), 'key material printed');
    const ok = reprokit(dir, ['verify-attestation', 'artifact.intoto.dsse.json', '--key', 'id_ed25519.pub']);
    assert.equal(ok.status, 0, ok.stderr);
    // The key read from ssh-keygen's private file is the one in its .pub line; openssl, given that
    // public key as PEM, verifies the envelope's signature over PAE.
    const sshPublic = parsePublicKeys(readFileSync(join(dir, 'id_ed25519.pub'), 'utf8'), 'ssh')[0];
    assert.equal(loadSigningKey('env:MY_KEY', { MY_KEY: privateText }).keyId, sshPublic.keyId);
    writeFileSync(join(dir, 'ssh.pem'), sshPublic.key.export({ type: 'spki', format: 'pem' }));
    const envelope = JSON.parse(readFileSync(join(dir, 'artifact.intoto.dsse.json'), 'utf8'));
    writeFileSync(join(dir, 'pae'), preAuthEncoding(envelope.payloadType, Buffer.from(envelope.payload, 'base64')));
    writeFileSync(join(dir, 'sig'), Buffer.from(envelope.signatures[0].sig, 'base64'));
    assert.match(run(dir, 'openssl', ['pkeyutl', '-verify', '-pubin', '-inkey', 'ssh.pem', '-rawin', '-in', 'pae', '-sigfile', 'sig']), /Signature Verified Successfully/);
    // A trusted-keys file of ssh lines names each builder by its comment.
    assert.deepEqual(loadTrustedKeys(join(dir, 'id_ed25519.pub')).map((key) => key.builder), ['rebuilder-b']);
  });

  it('refuses encrypted, wrong-type and missing keys with one line that shows no key material', () => {
    const dir = tempDir();
    run(dir, 'ssh-keygen', ['-q', '-t', 'ed25519', '-N', 'secret', '-f', 'encrypted']);
    run(dir, 'openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', 'ec.key']);
    const { statement } = statementAbout(dir);
    const encrypted = reprokit(dir, ['attest', statement, '--key', 'encrypted']);
    assert.equal(encrypted.status, 2);
    assertOneLine(encrypted.stderr, /^reprokit: encrypted: the OpenSSH key is encrypted/);
    const ec = reprokit(dir, ['attest', statement, '--key', 'ec.key']);
    assert.equal(ec.status, 2);
    assertOneLine(ec.stderr, /^reprokit: ec\.key: a ec key, reprokit signs with Ed25519 only$/);
    const none = reprokit(dir, ['attest', statement]);
    assert.equal(none.status, 2);
    assertOneLine(none.stderr, /^reprokit: no signing key: pass --key KEYFILE/);
    const garbageKey = 'not a key but a secret 12345';
    const fromEnv = reprokit(dir, ['attest', statement], { REPROKIT_SIGNING_KEY: garbageKey });
    assert.equal(fromEnv.status, 2);
    assertOneLine(fromEnv.stderr, /^reprokit: \$REPROKIT_SIGNING_KEY: not a private key/);
    assert.ok(!fromEnv.stderr.includes(garbageKey));
    run(dir, 'mkfifo', ['fifo.key']);
    const fifo = reprokit(dir, ['attest', statement, '--key', 'fifo.key']);
    assert.equal(fifo.status, 2);
    assertOneLine(fifo.stderr, /^reprokit: fifo\.key: is a FIFO, expected a key file$/);
    const notStatement = join(dir, 'not-statement.json');
    writeFileSync(notStatement, '{"hello": 1}\n');
    reprokit(dir, ['keygen', 'k']);
    const refused = reprokit(dir, ['attest', notStatement, '--key', 'k.key']);
    assert.equal(refused.status, 2);
    assertOneLine(refused.stderr, /^reprokit: .*not-statement\.json: \$\._type: undefined, expected https:\/\/in-toto\.io\/Statement\/v1$/);
  });
});
