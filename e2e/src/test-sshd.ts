// A throwaway sshd on 127.0.0.1 and an ssh-agent of the test's own: key-only (no passwords, no
// keyboard-interactive, no PAM), its own host key, the authorized key in the test's directory; a
// HOME of the test's own whose ~/.ssh/known_hosts lists the host key, so the developer's ~/.ssh is
// neither read nor written. The remote side runs `docker system dial-stdio` against the machine's
// daemon, as a docker host reached over ssh does. Both processes are stopped by their own pids.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';

const SSHD = ['/usr/sbin/sshd', '/usr/bin/sshd'].find((path) => spawnSync('test', ['-x', path]).status === 0) ?? 'sshd';

function keygen(file: string): string {
  const result = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'reprokit-e2e', '-f', file], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`ssh-keygen failed: ${result.stderr}`);
  return readFileSync(`${file}.pub`, 'utf8').trim();
}

export class TestSshd {
  readonly dir = mkdtempSync(join(tmpdir(), 'rk-sshd-'));
  /** The HOME to run reprokit with: its .ssh/known_hosts lists this sshd. */
  readonly home = join(this.dir, 'home');
  readonly agentSocket = join(this.dir, 'agent.sock');
  readonly user = userInfo().username;
  port = 0;
  private sshd?: ChildProcess;
  private agent?: ChildProcess;

  get dockerHost(): string {
    return `ssh://${this.user}@127.0.0.1:${this.port}`;
  }

  /** The environment a client needs: DOCKER_HOST, the agent, the test's HOME. */
  get env(): Record<string, string> {
    return { DOCKER_HOST: this.dockerHost, SSH_AUTH_SOCK: this.agentSocket, HOME: this.home };
  }

  get log(): string {
    return readFileSync(join(this.dir, 'sshd.log'), 'utf8');
  }

  async start(): Promise<void> {
    // sshd's privilege separation directory; Debian's service creates it, a test started sshd needs it too.
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    const hostKey = keygen(join(this.dir, 'host_key'));
    const userKey = keygen(join(this.dir, 'user_key'));
    writeFileSync(join(this.dir, 'authorized_keys'), userKey + '\n', { mode: 0o600 });
    this.port = await freePort();
    mkdirSync(join(this.home, '.ssh'), { recursive: true, mode: 0o700 });
    writeFileSync(join(this.home, '.ssh', 'known_hosts'), `[127.0.0.1]:${this.port} ${hostKey.split(' ').slice(0, 2).join(' ')}\n`);
    const log = openSync(join(this.dir, 'sshd.log'), 'a');
    // prettier-ignore
    this.sshd = spawn(SSHD, [
      '-D', '-e', '-f', '/dev/null', '-p', String(this.port),
      '-o', 'ListenAddress=127.0.0.1', '-o', `HostKey=${join(this.dir, 'host_key')}`,
      '-o', `AuthorizedKeysFile=${join(this.dir, 'authorized_keys')}`, '-o', `PidFile=${join(this.dir, 'sshd.pid')}`,
      '-o', 'PasswordAuthentication=no', '-o', 'KbdInteractiveAuthentication=no', '-o', 'UsePAM=no',
      '-o', 'PermitRootLogin=prohibit-password',
      // The key files live in a directory below /tmp (world-writable), which StrictModes refuses.
      '-o', 'StrictModes=no',
    ], { stdio: ['ignore', log, log] });
    this.sshd.once('error', () => undefined);
    this.agent = spawn('ssh-agent', ['-D', '-a', this.agentSocket], { stdio: 'ignore' });
    for (const child of [this.sshd, this.agent]) process.once('exit', () => child.exitCode === null && child.kill('SIGTERM'));
    for (let i = 0; i < 100 && !(await listening(this.port)); i++) {
      if (this.sshd.exitCode !== null) break;
      await new Promise((wait) => setTimeout(wait, 100));
    }
    if (!(await listening(this.port))) throw new Error(`sshd did not start (install openssh-server: tools/setup): ${this.log.slice(-2000)}`);
    for (let i = 0; i < 50; i++) {
      const added = spawnSync('ssh-add', [join(this.dir, 'user_key')], { env: { ...process.env, SSH_AUTH_SOCK: this.agentSocket }, encoding: 'utf8' });
      if (added.status === 0) return;
      await new Promise((wait) => setTimeout(wait, 100));
    }
    throw new Error('ssh-agent did not take the key');
  }

  async stop(): Promise<void> {
    for (const child of [this.sshd, this.agent]) {
      if (!child || child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => done(false));
  });
}

/** A loopback port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}
