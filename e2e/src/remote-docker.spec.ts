// Rebuilders whose docker daemon is reached as other machines' are: over ssh:// (a throwaway sshd
// on 127.0.0.1, key-only, the key in an ssh-agent of the test's own, the host key in a known_hosts
// of a HOME of the test's own) and over tcp:// with TLS (a second dockerd of the test's own with
// --tlsverify, certificates made by openssl). Both rebuild hello-c, sign and push their summaries
// to the local registry; the verifier counts both. Every refusal (unknown or changed host key, a
// key the server refuses, nobody listening, another CA) is one line, exit 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SecondDockerd } from './second-dockerd';
import { makeDockerCerts, type DockerCerts } from './test-certs';
import { freePort, TestSshd } from './test-sshd';
import { deletePushedAttestations } from './registry-cleanup';
import { TempWorkspace, type RunResult } from './workspace';

const MANIFEST = 'packages/hello-c/repro-manifest.json';
const LOCK = 'packages/core/envs/c-builder/env.lock.json';
const STATIC = 'packages/core/envs/static-base/env.lock.json';
const REGISTRY = `127.0.0.1:5000/rk-remote-${process.pid}`;

/** Runs with these variables set (TempWorkspace's commands inherit this process's environment); '' removes one. */
function withEnv<T>(env: Record<string, string>, body: () => T): T {
  const previous = Object.fromEntries(Object.keys(env).map((key) => [key, process.env[key]]));
  for (const [key, value] of Object.entries(env)) {
    if (value === '') delete process.env[key];
    else process.env[key] = value;
  }
  try {
    return body();
  } finally {
    for (const [key, value] of Object.entries(previous)) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }
}

function assertOneLine(result: RunResult, pattern: RegExp): void {
  assert.equal(result.status, 2, result.output);
  assert.doesNotMatch(result.output, /^\s+at /m, 'a stack trace');
  assert.equal(result.stderr.trimEnd().split('\n').length, 1, result.stderr);
  assert.match(result.stderr, pattern);
}

describe('rebuilders reached over ssh:// and over tcp:// with TLS', () => {
  const ws = new TempWorkspace();
  // A checkout the TLS daemon cannot see (its mount namespace has an empty tmpfs there), as a daemon on another machine would not.
  const elsewhere = new TempWorkspace();
  const sshd = new TestSshd();
  const daemon = new SecondDockerd();
  let certs: DockerCerts;
  let tlsEnv: Record<string, string>;
  const trusted = join(ws.root, 'trusted');

  before(async () => {
    await sshd.start();
    certs = makeDockerCerts(join(ws.root, 'certs'));
    await daemon.start(60_000, certs.server, elsewhere.root);
    tlsEnv = { DOCKER_HOST: daemon.tcpHost!, DOCKER_TLS_VERIFY: '1', DOCKER_CERT_PATH: certs.client };
    mkdirSync(trusted);
    for (const name of ['over-ssh', 'over-tls']) {
      assert.equal(ws.reprokit('keygen', name).status, 0);
      cpSync(join(ws.root, `${name}.pub`), join(trusted, `${name}.pub`));
    }
    // The builder image, by its ID, into the TLS daemon (it has none): saved from the machine's
    // daemon when it has it, else the rebuild builds it from the lock there.
    const imageId = JSON.parse(ws.read(LOCK)).imageId as string;
    if (spawnSync('docker', ['image', 'inspect', imageId], { stdio: 'ignore' }).status === 0) {
      const saved = spawnSync('sh', ['-c', `docker save ${imageId} | docker -H ${daemon.host} load -q`], { encoding: 'utf8' });
      assert.equal(saved.status, 0, saved.stderr);
    }
  });
  after(async () => {
    await daemon.stop();
    await sshd.stop();
    await deletePushedAttestations(`${REGISTRY}/hello-c`);
  });

  it('over ssh://: the key from ssh-agent, the host key from known_hosts; the rebuild attests PASSED and pushes', () => {
    const result = withEnv(sshd.env, () => ws.reprokit('rebuild', MANIFEST, '--attest', '--key', 'over-ssh.key', '--push-attestations', REGISTRY, '--builder-id', 'https://rebuilders.example/over-ssh'));
    assert.equal(result.status, 0, result.output.slice(-4000));
    assert.match(result.output, new RegExp(`docker ${sshd.dockerHost.replace(/[/.]/g, '\\$&')}`));
    assert.match(result.output, /^PASSED packages\/hello-c\/dist\/hello sha256:[0-9a-f]{64}$/m);
    // It really went through this sshd, with the agent's key.
    assert.match(sshd.log, new RegExp(`Accepted publickey for ${sshd.user} from 127\\.0\\.0\\.1`));
  });

  it('over tcp:// with TLS (DOCKER_TLS_VERIFY, DOCKER_CERT_PATH): the rebuild attests PASSED and pushes', () => {
    const result = withEnv(tlsEnv, () => ws.reprokit('rebuild', MANIFEST, '--attest', '--key', 'over-tls.key', '--push-attestations', REGISTRY, '--builder-id', 'https://rebuilders.example/over-tls'));
    assert.equal(result.status, 0, result.output.slice(-4000));
    assert.match(result.output, new RegExp(`docker ${daemon.tcpHost!.replace(/[/.]/g, '\\$&')}`));
    assert.match(result.output, /^PASSED packages\/hello-c\/dist\/hello sha256:[0-9a-f]{64}$/m);
    // The build ran in the TLS daemon: its containers are labelled by reprokit, and it has the image.
    const events = spawnSync('docker', ['-H', daemon.host, 'events', '--since', '10m', '--until', String(Math.floor(Date.now() / 1000)), '--filter', 'label=dev.reprokit.run', '--format', '{{.Action}}'], { encoding: 'utf8' });
    assert.match(events.stdout, /^start$/m, events.stderr);
  });

  it('a daemon that does not see the checkout (another machine\'s) is one line naming the path it lacks, not an empty /src', () => {
    const result = withEnv(tlsEnv, () => elsewhere.reprokit('rebuild', MANIFEST, '--nx-target', 'elf'));
    assert.equal(result.status, 1, result.output.slice(-3000));
    assert.match(result.output, new RegExp(`the Docker daemon at ${daemon.tcpHost!.replace(/[/.]/g, '\\$&')} has no ${elsewhere.root.replace(/[/.]/g, '\\$&')}/packages/hello-c\\S*: a bind mount names a path on the daemon's machine`));
    assert.match(result.output, /^FAILED packages\/hello-c\/dist\/hello expected sha256:[0-9a-f]{64}, rebuilt nothing$/m);
  });

  it('the verifier finds both in the registry by subject: threshold 2 of the two remote rebuilders', () => {
    const result = ws.reprokit('verify', MANIFEST, '--attestations-from', REGISTRY, '--trusted-keys', 'trusted', '--threshold', '2');
    assert.equal(result.status, 0, result.output);
    assert.match(result.output, /^ATTESTED dist\/hello sha256:[0-9a-f]{64}: 2 of 2 trusted builders PASSED, threshold 2 \(over-ssh, over-tls\)$/m);
  });

  it('ssh:// refusals are one line each: unknown host key, changed host key, a key the server refuses, nobody listening, no agent', async () => {
    const connect = (env: Record<string, string>) => withEnv(env, () => ws.reprokit('env', 'build', STATIC, '--reuse'));
    const emptyHome = join(ws.root, 'empty-home');
    mkdirSync(join(emptyHome, '.ssh'), { recursive: true });
    assertOneLine(connect({ ...sshd.env, HOME: emptyHome }), new RegExp(`cannot reach the Docker daemon at ${sshd.dockerHost.replace(/[/.]/g, '\\$&')}: the host key of \\[127\\.0\\.0\\.1\\]:${sshd.port} \\(ssh-ed25519 SHA256:[A-Za-z0-9+/]{43}\\) is not in known_hosts: check it`));
    const changedHome = join(ws.root, 'changed-home');
    mkdirSync(join(changedHome, '.ssh'), { recursive: true });
    spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(ws.root, 'impostor')]);
    writeFileSync(join(changedHome, '.ssh', 'known_hosts'), `[127.0.0.1]:${sshd.port} ${readFileSync(join(ws.root, 'impostor.pub'), 'utf8').split(' ').slice(0, 2).join(' ')}\n`);
    assertOneLine(connect({ ...sshd.env, HOME: changedHome }), /is not the one known_hosts lists for it \(.*known_hosts:1\): someone may be impersonating the host/);
    // An agent holding a key the server does not authorize.
    const stranger = new TestSshd();
    await stranger.start();
    try {
      assertOneLine(connect({ ...sshd.env, SSH_AUTH_SOCK: stranger.agentSocket }), /the ssh server refused every key ssh-agent offered \(All configured authentication methods failed\)/);
    } finally {
      await stranger.stop();
    }
    const closed = await freePort();
    assertOneLine(connect({ ...sshd.env, DOCKER_HOST: `ssh://${sshd.user}@127.0.0.1:${closed}` }), new RegExp(`cannot reach the Docker daemon at ssh://${sshd.user}@127\\.0\\.0\\.1:${closed}: connection refused`));
    assertOneLine(connect({ ...sshd.env, SSH_AUTH_SOCK: '' }), /SSH_AUTH_SOCK is not set: start ssh-agent and add the key/);
  });

  it('TLS refusals are one line each: nobody listening, a daemon certificate of another CA, a client certificate of another CA, missing certificates', async () => {
    const connect = (env: Record<string, string>) => withEnv(env, () => ws.reprokit('env', 'build', STATIC, '--reuse'));
    const closed = await freePort();
    assertOneLine(connect({ ...tlsEnv, DOCKER_HOST: `tcp://127.0.0.1:${closed}` }), new RegExp(`cannot reach the Docker daemon at tcp://127\\.0\\.0\\.1:${closed}: connection refused`));
    assertOneLine(connect({ ...tlsEnv, DOCKER_CERT_PATH: certs.wrongCa }), /cannot reach the Docker daemon at tcp:\/\/127\.0\.0\.1:\d+: TLS: UNABLE_TO_VERIFY_LEAF_SIGNATURE .*: the daemon's certificate must be signed by DOCKER_CERT_PATH's ca\.pem/);
    assertOneLine(connect({ ...tlsEnv, DOCKER_CERT_PATH: certs.stranger }), /cannot reach the Docker daemon at tcp:\/\/127\.0\.0\.1:\d+: TLS: the daemon refused the client certificate \(ERR_SSL_\w+\): DOCKER_CERT_PATH's cert\.pem must be signed by the CA the daemon trusts/);
    assertOneLine(connect({ ...tlsEnv, DOCKER_CERT_PATH: join(ws.root, 'nowhere') }), /DOCKER_TLS_VERIFY is set but .*nowhere\/ca\.pem does not exist: set DOCKER_CERT_PATH/);
  });
});
