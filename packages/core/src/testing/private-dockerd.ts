// A dockerd of a test's own: its own data root, exec root, pid file and socket, no bridge, no
// iptables changes; started and stopped (by its own pid) by the test. The shared daemon is never touched.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/** A dockerd of our own, started and stopped by this test. */
export class PrivateDockerd {
  readonly socket: string;
  private process?: ChildProcess;

  constructor(private readonly dir: string) {
    this.socket = join(dir, 'docker.sock');
  }

  get host(): string {
    return `unix://${this.socket}`;
  }

  async start(): Promise<void> {
    const log = openSync(join(this.dir, 'dockerd.log'), 'a');
    // prettier-ignore
    this.process = spawn('dockerd', [
      '--data-root', join(this.dir, 'data'), '--exec-root', join(this.dir, 'exec'), '--pidfile', join(this.dir, 'docker.pid'),
      '-H', this.host, '--config-file', join(this.dir, 'daemon.json'),
      '--bridge=none', '--iptables=false', '--ip-masq=false', '--storage-driver=overlay2', '--shutdown-timeout=2',
    ], { stdio: ['ignore', log, log] });
    // Should the test end without its after hook (a crash, a timeout), the daemon must not outlive it.
    const child = this.process;
    process.once('exit', () => child.exitCode === null && child.kill('SIGTERM'));
    for (let i = 0; i < 120; i++) {
      if (spawnSync('docker', ['-H', this.host, 'version'], { stdio: 'ignore' }).status === 0) return;
      if (this.process.exitCode !== null) break;
      await new Promise((wait) => setTimeout(wait, 500));
    }
    throw new Error(`the private dockerd did not start: ${readFileSync(join(this.dir, 'dockerd.log'), 'utf8').slice(-2000)}`);
  }

  /** SIGTERM, as `systemctl stop docker` sends, to the daemon this test started (by its own pid). */
  async stop(): Promise<void> {
    const child = this.process;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((done) => child.once('exit', done));
    child.kill('SIGTERM');
    await exited;
  }

  docker(...args: string[]): string {
    const result = spawnSync('docker', ['-H', this.host, ...args], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`docker ${args.join(' ')}: ${result.stderr}`);
    return result.stdout.trim();
  }
}
