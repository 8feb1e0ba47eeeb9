// A second docker daemon of the test's own, sharing nothing with the machine's: its own data root,
// exec root (so its own containerd), pid file, socket and an empty config file; no bridge, no
// iptables changes, so it touches neither the network nor the shared daemon. Stopped by its pid.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class SecondDockerd {
  // Short: a unix socket path must fit in 108 bytes.
  readonly dir = mkdtempSync(join(tmpdir(), 'rk-dockerd-'));
  readonly socket = join(this.dir, 'docker.sock');
  readonly dataRoot = join(this.dir, 'data');
  /** Also `tcp://127.0.0.1:<port>` (plain HTTP, loopback only), to show DOCKER_HOST=tcp:// works. */
  tcpHost?: string;
  private daemon?: ChildProcess;

  get host(): string {
    return `unix://${this.socket}`;
  }

  get log(): string {
    return readFileSync(join(this.dir, 'dockerd.log'), 'utf8');
  }

  /**
   * With `tls`: the tcp:// listener takes only TLS clients whose certificate the CA signed
   * (`--tlsverify`), as a daemon reachable from other machines should.
   */
  /**
   * With `hidden`: the daemon runs in a mount namespace of its own where that directory is an empty
   * tmpfs, as a daemon on another machine would not see this one's files.
   */
  async start(timeoutMs = 60_000, tls?: { ca: string; cert: string; key: string }, hidden?: string): Promise<void> {
    writeFileSync(join(this.dir, 'daemon.json'), '{}\n');
    this.tcpHost = `tcp://127.0.0.1:${await freePort()}`;
    const log = openSync(join(this.dir, 'dockerd.log'), 'a');
    // unshare and sh exec dockerd in the same process: the pid stays the daemon's.
    const wrapper = hidden ? ['unshare', '--mount', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs tmpfs "$0" && exec "$@"', hidden] : [];
    this.daemon = spawn(
      hidden ? wrapper[0] : 'dockerd',
      [
        ...wrapper.slice(1),
        ...(hidden ? ['dockerd'] : []),
        '--data-root', this.dataRoot,
        '--exec-root', join(this.dir, 'exec'),
        '--pidfile', join(this.dir, 'docker.pid'),
        '-H', this.host,
        '-H', this.tcpHost,
        '--config-file', join(this.dir, 'daemon.json'),
        '--bridge=none',
        '--iptables=false',
        '--ip-masq=false',
        '--storage-driver=overlay2',
        ...(tls ? ['--tlsverify', '--tlscacert', tls.ca, '--tlscert', tls.cert, '--tlskey', tls.key] : []),
      ],
      { stdio: ['ignore', log, log] },
    );
    const failed = new Promise<never>((_, fail) => {
      this.daemon!.once('error', (error) => fail(new Error(`cannot start dockerd (${error.message}): install docker.io (tools/setup)`)));
      this.daemon!.once('exit', (code) => fail(new Error(`the second dockerd exited with ${code}:\n${this.log.slice(-2000)}`)));
    });
    failed.catch(() => undefined);
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (await Promise.race([this.ping(), failed])) return;
      await new Promise((done) => setTimeout(done, 250));
    }
    throw new Error(`the second dockerd did not answer on ${this.socket} within ${timeoutMs} ms:\n${this.log.slice(-2000)}`);
  }

  /** GET /_ping on the socket: true when the daemon answers OK. */
  ping(): Promise<boolean> {
    return new Promise((done) => {
      const req = request({ socketPath: this.socket, path: '/_ping', timeout: 2000 }, (response) => {
        response.resume();
        done(response.statusCode === 200);
      });
      req.on('error', () => done(false));
      req.on('timeout', () => req.destroy());
      req.end();
    });
  }

  async stop(): Promise<void> {
    const daemon = this.daemon;
    if (daemon && daemon.exitCode === null && daemon.signalCode === null) {
      const exited = new Promise((done) => daemon.once('exit', done));
      daemon.kill('SIGTERM');
      const timer = setTimeout(() => daemon.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** A loopback port nobody listens on right now (the system picks it). */
function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer();
    server.once('error', fail);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
  });
}
