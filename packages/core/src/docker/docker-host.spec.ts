import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { userInfo } from 'node:os';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { describeConnectFailure, dockerHost } from './docker-host';
import { checkHostKey, fingerprint, hostKeyAlgorithms, knownKeys } from './known-hosts';

function sshKey(dir: string, name: string, type = 'ed25519'): { line: string; blob: Buffer } {
  const result = spawnSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', name, '-f', join(dir, name)], { encoding: 'utf8' });
  assert.equal(result.status, 0, result.stderr);
  const line = readFileSync(join(dir, `${name}.pub`), 'utf8').trim();
  return { line: line.split(' ').slice(0, 2).join(' '), blob: Buffer.from(line.split(' ')[1], 'base64') };
}

describe('known_hosts, read as ssh reads it', () => {
  const dir = tempDir('rk-known-');
  const a = sshKey(dir, 'a');
  const b = sshKey(dir, 'b');
  const c = sshKey(dir, 'c', 'rsa');
  const hashedSource = join(dir, 'hashed');
  writeFileSync(hashedSource, `hashed.example ${b.line}\n[hashed.example]:2222 ${c.line}\n`);
  // ssh-keygen -H writes the hashed form (|1|salt|hmac) of each name.
  assert.equal(spawnSync('ssh-keygen', ['-H', '-f', hashedSource], { encoding: 'utf8' }).status, 0);
  const file = join(dir, 'known_hosts');
  writeFileSync(
    file,
    [
      '# a comment',
      `plain.example,alias.example ${a.line}`,
      `[ported.example]:2200 ${b.line}`,
      `*.wild.example,!bad.wild.example ${c.line}`,
      `@cert-authority *.example ${b.line}`,
      `@revoked revoked.example ${a.line}`,
      readFileSync(hashedSource, 'utf8').trim(),
      '',
    ].join('\n'),
  );

  it('finds the same entries as `ssh-keygen -F` for plain, ported, wildcard, negated and hashed names', () => {
    const cases: [string, number][] = [
      ['plain.example', 22],
      ['alias.example', 22],
      ['plain.example', 2200],
      ['ported.example', 2200],
      ['ported.example', 22],
      ['x.wild.example', 22],
      ['bad.wild.example', 22],
      ['hashed.example', 22],
      ['hashed.example', 2222],
      ['nowhere.example', 22],
    ];
    for (const [host, port] of cases) {
      const name = port === 22 ? host : `[${host}]:${port}`;
      const real = spawnSync('ssh-keygen', ['-F', name, '-f', file], { encoding: 'utf8' });
      const realKeys = real.stdout
        .split('\n')
        .filter((line) => line && !line.startsWith('#') && !line.startsWith('@'))
        .map((line) => line.split(/\s+/)[2]);
      const ours = knownKeys([file], host, port)
        .filter((key) => !key.revoked)
        .map((key) => key.blob.toString('base64'));
      assert.deepEqual(ours, realKeys, `${name}: ssh-keygen -F found ${realKeys.length}`);
    }
  });

  it('decides like ssh: the listed key passes, another key is a changed host, none listed is unknown, a revoked one is refused', () => {
    assert.deepEqual(checkHostKey(knownKeys([file], 'plain.example', 22), a.blob), { ok: true });
    const changed = checkHostKey(knownKeys([file], 'plain.example', 22), b.blob);
    assert.equal(changed.ok, false);
    assert.equal(!changed.ok && changed.reason, 'changed');
    assert.equal(!changed.ok && changed.where, `${file}:2`);
    const unknown = checkHostKey(knownKeys([file], 'nowhere.example', 22), a.blob);
    assert.equal(!unknown.ok && unknown.reason, 'unknown');
    // The fingerprint is the one ssh-keygen prints.
    assert.equal(!unknown.ok && unknown.offered, `ssh-ed25519 ${fingerprint(a.blob)}`);
    assert.match(spawnSync('ssh-keygen', ['-l', '-f', join(dir, 'a.pub')], { encoding: 'utf8' }).stdout, new RegExp(fingerprint(a.blob).replace(/[+/]/g, '\\$&')));
    const revoked = checkHostKey(knownKeys([file], 'revoked.example', 22), a.blob);
    assert.equal(!revoked.ok && revoked.reason, 'revoked');
    // Only the types known_hosts has for the host are asked for (RSA by its SHA-2 signature algorithms).
    assert.deepEqual(hostKeyAlgorithms(knownKeys([file], 'x.wild.example', 22)), ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa']);
    assert.equal(hostKeyAlgorithms(knownKeys([file], 'nowhere.example', 22)), undefined);
    assert.deepEqual(knownKeys([join(dir, 'missing')], 'plain.example', 22), []);
  });
});

describe('DOCKER_HOST, read as the docker CLI reads it', () => {
  it('unix://, tcp:// (2375), bare host:port, tcp:// with TLS (any DOCKER_TLS_VERIFY value, 2376), ssh:// (the user and port 22 by default)', () => {
    assert.deepEqual(dockerHost({}), { endpoint: 'unix:///var/run/docker.sock', kind: 'unix' });
    assert.deepEqual(dockerHost({ DOCKER_HOST: 'unix:///tmp/d.sock' }).options, { socketPath: '/tmp/d.sock' });
    assert.deepEqual(dockerHost({ DOCKER_HOST: 'tcp://10.0.0.1' }).options, { protocol: 'http', host: '10.0.0.1', port: 2375 });
    assert.deepEqual(dockerHost({ DOCKER_HOST: '10.0.0.1:4243' }).options, { protocol: 'http', host: '10.0.0.1', port: 4243 });
    const certs = tempDir('rk-certs-');
    for (const name of ['ca.pem', 'cert.pem', 'key.pem']) writeFileSync(join(certs, name), `${name}\n`);
    const tls = dockerHost({ DOCKER_HOST: 'tcp://10.0.0.1', DOCKER_TLS_VERIFY: 'true', DOCKER_CERT_PATH: certs });
    assert.equal(tls.kind, 'tls');
    assert.deepEqual(tls.options, { protocol: 'https', host: '10.0.0.1', port: 2376, ca: 'ca.pem\n', cert: 'cert.pem\n', key: 'key.pem\n' });
    // Without DOCKER_CERT_PATH, ~/.docker, as docker reads it.
    const home = tempDir('rk-home-');
    mkdirSync(join(home, '.docker'));
    assert.throws(() => dockerHost({ DOCKER_HOST: 'tcp://h:1', DOCKER_TLS_VERIFY: '1', HOME: home }), new RegExp(`DOCKER_TLS_VERIFY is set but ${home}/\\.docker/ca\\.pem does not exist`));
    assert.throws(() => dockerHost({ DOCKER_HOST: 'tcp://h:1', DOCKER_TLS: '1' }), /DOCKER_TLS is set without DOCKER_TLS_VERIFY/);
  });

  it('ssh://: the agent is required, a path or a password is refused, the endpoint names user, host and port', () => {
    const dir = tempDir('rk-agent-');
    const agent = join(dir, 'agent.sock');
    const server = createServer().listen(agent);
    try {
      const host = dockerHost({ DOCKER_HOST: 'ssh://build@h.example:2222', SSH_AUTH_SOCK: agent, HOME: dir });
      assert.equal(host.kind, 'ssh');
      assert.equal(host.endpoint, 'ssh://build@h.example:2222');
      assert.equal(host.options?.host, 'h.example');
      assert.equal(host.options?.port, 2222);
      assert.equal(dockerHost({ DOCKER_HOST: 'ssh://h.example', SSH_AUTH_SOCK: agent, HOME: dir }).endpoint, `ssh://${userInfo().username}@h.example`);
      assert.throws(() => dockerHost({ DOCKER_HOST: 'ssh://h.example/x', SSH_AUTH_SOCK: agent }), /extra path after the host/);
      assert.throws(() => dockerHost({ DOCKER_HOST: 'ssh://u:pw@h.example', SSH_AUTH_SOCK: agent }), /a password in the URL is not supported/);
      assert.throws(() => dockerHost({ DOCKER_HOST: 'ssh://h.example' }), /SSH_AUTH_SOCK is not set/);
      assert.throws(() => dockerHost({ DOCKER_HOST: 'ssh://h.example', SSH_AUTH_SOCK: join(dir, 'gone') }), /is not a socket: is ssh-agent still running/);
      assert.throws(() => dockerHost({ DOCKER_HOST: 'npipe:////./pipe/docker' }), /npipe:\/\/ is not supported/);
      assert.equal(describeConnectFailure(host, Object.assign(new Error('All configured authentication methods failed'), { level: 'client-authentication' })).startsWith('the ssh server refused every key'), true);
    } finally {
      server.close();
    }
  });
});
