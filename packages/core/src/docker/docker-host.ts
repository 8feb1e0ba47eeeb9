import type Docker from 'dockerode';
import { existsSync, statSync } from 'node:fs';
import { Agent } from 'node:http';
import { createConnection, type Socket } from 'node:net';
import { homedir, userInfo } from 'node:os';
import { join } from 'node:path';
import type { Client, ConnectConfig } from 'ssh2';
import type { Duplex } from 'node:stream';
import { UserError } from '../errors';
import { readRegularText } from '../fs/regular-file';
import { checkHostKey, hostKeyAlgorithms, knownHostName, knownKeys, type HostKeyVerdict } from './known-hosts';

/**
 * Where the docker CLI would connect, read the way it reads it (docker/cli's flags and
 * connhelper): DOCKER_HOST `unix://PATH`, `tcp://HOST[:PORT]` (2375; with DOCKER_TLS_VERIFY set to
 * anything, TLS with the client certificate and CA in DOCKER_CERT_PATH, default ~/.docker, port
 * 2376), or `ssh://[USER@]HOST[:PORT]` (ssh's user and port 22 by default; the daemon reached by
 * running `docker system dial-stdio` there, as the CLI does). Over ssh the key comes from ssh-agent
 * (SSH_AUTH_SOCK) and the server's key must be the one ~/.ssh/known_hosts (or
 * /etc/ssh/ssh_known_hosts) lists for it: an unknown or changed host key is refused, never accepted.
 */
export interface DockerHost {
  /** Options for dockerode's constructor; undefined: dockerode's own default socket. */
  options?: Docker.DockerOptions;
  /** DOCKER_HOST as given, or the default socket: what messages name. */
  endpoint: string;
  kind: 'unix' | 'tcp' | 'tls' | 'ssh';
  /** Why the last ssh handshake refused the server's key (set by the host key check). */
  hostKeyRefusal?: () => HostKeyVerdict | undefined;
}

const MAX_PEM = 1 << 20;

export function dockerHost(env: NodeJS.ProcessEnv = process.env): DockerHost {
  const value = env.DOCKER_HOST;
  if (!value) return { endpoint: 'unix:///var/run/docker.sock', kind: 'unix' };
  if (value.startsWith('unix://')) return { options: { socketPath: value.slice('unix://'.length) || '/var/run/docker.sock' }, endpoint: value, kind: 'unix' };
  const withScheme = value.includes('://') ? value : `tcp://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UserError(`DOCKER_HOST=${value}: not a docker host (unix:///path, tcp://host:port or ssh://user@host)`);
  }
  if (url.protocol === 'ssh:') return sshHost(value, url, env);
  if (url.protocol !== 'tcp:') throw new UserError(`DOCKER_HOST=${value}: ${url.protocol}// is not supported (unix://, tcp:// or ssh://)`);
  if ((url.pathname && url.pathname !== '/') || url.username) throw new UserError(`DOCKER_HOST=${value}: tcp:// takes a host and a port only`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  if (env.DOCKER_TLS_VERIFY) {
    const certPath = env.DOCKER_CERT_PATH || join(env.HOME || homedir(), '.docker');
    const read = (name: string) => {
      const file = join(certPath, name);
      if (!existsSync(file)) throw new UserError(`DOCKER_TLS_VERIFY is set but ${file} does not exist: set DOCKER_CERT_PATH to the directory holding ca.pem, cert.pem and key.pem`);
      return readRegularText(file, MAX_PEM, 'a PEM file');
    };
    return {
      options: { protocol: 'https', host, port: Number(url.port || 2376), ca: read('ca.pem'), cert: read('cert.pem'), key: read('key.pem') },
      endpoint: value,
      kind: 'tls',
    };
  }
  if (env.DOCKER_TLS) {
    throw new UserError(`DOCKER_TLS is set without DOCKER_TLS_VERIFY: reprokit does not talk to a daemon whose certificate it does not check; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH`);
  }
  return { options: { protocol: 'http', host, port: Number(url.port || 2375) }, endpoint: value, kind: 'tcp' };
}

function sshHost(value: string, url: URL, env: NodeJS.ProcessEnv): DockerHost {
  if (url.pathname && url.pathname !== '/') throw new UserError(`DOCKER_HOST=${value}: extra path after the host (ssh://[user@]host[:port])`);
  if (url.password) throw new UserError(`DOCKER_HOST=${value}: a password in the URL is not supported; use ssh-agent`);
  const agent = env.SSH_AUTH_SOCK;
  if (!agent) throw new UserError(`DOCKER_HOST=${value}: SSH_AUTH_SOCK is not set: start ssh-agent and add the key (\`eval "$(ssh-agent)" && ssh-add KEY\`)`);
  if (!existsSync(agent) || !statSync(agent).isSocket()) throw new UserError(`DOCKER_HOST=${value}: SSH_AUTH_SOCK=${agent} is not a socket: is ssh-agent still running?`);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 22);
  const username = decodeURIComponent(url.username) || userInfo().username;
  const files = [join(env.HOME || homedir(), '.ssh', 'known_hosts'), '/etc/ssh/ssh_known_hosts'];
  const known = knownKeys(files, host, port);
  let refusal: HostKeyVerdict | undefined;
  const algorithms = hostKeyAlgorithms(known);
  const config: ConnectConfig = {
    host,
    port,
    username,
    agent,
    // ssh2 accepts any host key unless told otherwise: this is the check ssh makes.
    hostVerifier: (key: Buffer) => {
      const verdict = checkHostKey(known, key);
      refusal = verdict.ok ? undefined : verdict;
      return verdict.ok;
    },
    ...(algorithms ? { algorithms: { serverHostKey: algorithms as NonNullable<ConnectConfig['algorithms']>['serverHostKey'] } } : {}),
    readyTimeout: 15_000,
  };
  return {
    // Plain HTTP over the channels of one ssh connection; host and port only name the daemon in URLs.
    options: { protocol: 'http', host, port, agent: sshAgent(config) } as Docker.DockerOptions,
    endpoint: `ssh://${username}@${url.host}`,
    kind: 'ssh',
    hostKeyRefusal: () => refusal,
  };
}

/**
 * An HTTP agent whose connections are `docker system dial-stdio` sessions on one ssh connection
 * (opened on first use, again after it drops). dockerode's own ssh mode makes a new ssh connection,
 * handshake and all, for every request: a build's dozen requests then take seconds more. The
 * socket holds the process open only while a request is under way, so a command ends when its work does.
 */
function sshAgent(config: ConnectConfig): Agent {
  let client: Promise<{ ssh: Client; socket: Socket }> | undefined;
  let open = 0;
  const connect = () =>
    (client ??= new Promise((resolve, reject) => {
      // Required here, not at the top: only an ssh:// DOCKER_HOST pays for loading ssh2.
      const { Client: SshClient } = require('ssh2') as typeof import('ssh2');
      const socket = createConnection({ host: config.host!, port: config.port! });
      const ssh: Client = new SshClient();
      const drop = () => (client = undefined);
      ssh.once('ready', () => resolve({ ssh, socket }));
      ssh.once('error', (error) => {
        drop();
        reject(error);
      });
      ssh.once('close', drop);
      ssh.connect({ ...config, sock: socket });
    }));
  // Keep-alive: a request reuses an idle dial-stdio channel instead of opening another session
  // (sshd sets each up, which took ~4 s apiece on the loaded development machine).
  const agent = new Agent({ keepAlive: true });
  type Channel = Duplex & { busy?: boolean; tcp?: Socket };
  // The socket holds the process open only while some request is under way on it.
  const acquire = (channel: Channel) => {
    if (channel.busy) return;
    channel.busy = true;
    if (open++ === 0) channel.tcp!.ref();
  };
  const release = (channel: Channel) => {
    if (!channel.busy) return;
    channel.busy = false;
    if (--open === 0) channel.tcp!.unref();
  };
  (agent as unknown as { createConnection: unknown }).createConnection = (_options: unknown, callback: (error: Error | null, stream?: Duplex) => void) => {
    connect().then(({ ssh, socket }) => {
      // Held from the channel request on: its answer comes over this socket.
      const pending = { busy: false, tcp: socket } as Channel;
      acquire(pending);
      ssh.exec('docker system dial-stdio', (error, stream) => {
        release(pending);
        if (error) return callback(error);
        const channel = stream as unknown as Channel;
        channel.tcp = socket;
        // What Node's agent calls on the sockets it keeps idle and reuses: ref/unref become
        // acquire/release; TCP keep-alive and idle timeouts have no meaning on a channel.
        Object.assign(channel, { ref: () => acquire(channel), unref: () => release(channel), setKeepAlive: () => channel, setTimeout: () => channel, timeout: 0 });
        acquire(channel);
        channel.once('close', () => release(channel));
        callback(null, channel);
      });
    }, callback);
    return undefined;
  };
  return agent;
}

/**
 * One line for a connection that failed, saying what to do: the daemon is not there, the ssh
 * server refused the key or has another host key than known_hosts says, the certificate is not the
 * one the CA signed.
 */
export function describeConnectFailure(host: DockerHost, error: unknown): string {
  const err = error as { code?: string; level?: string; message?: string };
  const message = (err.message ?? String(error)).split('\n')[0];
  const refusal = host.hostKeyRefusal?.();
  if (host.kind === 'ssh' && refusal && !refusal.ok) {
    const name = knownHostName(host.options!.host!, Number(host.options!.port));
    const scan = `ssh-keyscan ${host.options!.port === 22 ? '' : `-p ${host.options!.port} `}${host.options!.host}`;
    if (refusal.reason === 'unknown') return `the host key of ${name} (${refusal.offered}) is not in known_hosts: check it with the host's owner, then add it (\`${scan} >> ~/.ssh/known_hosts\`)`;
    if (refusal.reason === 'changed') return `the host key of ${name} (${refusal.offered}) is not the one known_hosts lists for it (${refusal.where}): someone may be impersonating the host; if the key really changed, replace that line`;
    return `the host key of ${name} (${refusal.offered}) is revoked (${refusal.where})`;
  }
  if (err.level === 'client-authentication') return `the ssh server refused every key ssh-agent offered (${message}): \`ssh-add\` the key whose public half is in the server's authorized_keys`;
  if (err.level === 'agent') return `cannot use ssh-agent at ${process.env.SSH_AUTH_SOCK} (${message})`;
  if (/Timed out while waiting for handshake/.test(message)) return `no ssh handshake within 15 s (${message})`;
  if (err.code === 'ECONNREFUSED') return 'connection refused: is the daemon (or sshd) listening there?';
  if (err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN') return 'host not found';
  if (err.code === 'ETIMEDOUT' || err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH') return `${err.code}: the host cannot be reached`;
  if (host.kind === 'tls' && /ALERT_(BAD_CERTIFICATE|UNKNOWN_CA|CERTIFICATE_REQUIRED|CERTIFICATE_UNKNOWN|ACCESS_DENIED)/.test(err.code ?? '')) {
    return `TLS: the daemon refused the client certificate (${err.code}): DOCKER_CERT_PATH's cert.pem must be signed by the CA the daemon trusts (its --tlscacert)`;
  }
  if (host.kind === 'tls' && /certificate|self.signed|altnames|CERT_|SSL|TLS/i.test(`${err.code} ${message}`)) {
    return `TLS: ${err.code ?? ''}${err.code ? ' ' : ''}${message}: the daemon's certificate must be signed by DOCKER_CERT_PATH's ca.pem and name the host`;
  }
  if (host.kind === 'tls' && /socket hang up|ECONNRESET|EPROTO/.test(`${err.code} ${message}`)) {
    return `TLS: the daemon closed the connection (${err.code ?? message}): does it accept DOCKER_CERT_PATH's cert.pem (signed by the CA it trusts)?`;
  }
  if (host.kind === 'ssh' && /socket hang up|ECONNRESET|Parse Error|closed/i.test(`${err.code} ${message}`)) {
    return `ssh worked but \`docker system dial-stdio\` there gave no daemon (${err.code ?? message}): is docker installed on that host, and may that user reach its daemon?`;
  }
  return err.code ?? message;
}
