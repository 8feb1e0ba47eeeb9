import type Docker from 'dockerode';
import { createReadStream, statSync } from 'node:fs';
import { basename } from 'node:path';
import { PassThrough } from 'node:stream';
import { BuildLog } from '../build/build-log';
import { UserError } from '../errors';
import { countingStream, logProgress } from '../progress';
import { describeConnectFailure, dockerHost } from './docker-host';

/** Where dockerode connects: DOCKER_HOST, or the default socket. */
export function dockerEndpoint(): string {
  return process.env.DOCKER_HOST ?? 'unix:///var/run/docker.sock';
}

/**
 * Connects to the Docker daemon DOCKER_HOST names, as the docker CLI does (docker-host.ts: unix://,
 * tcp:// with TLS, ssh:// through ssh-agent and known_hosts), and pings it. A local daemon that
 * does not answer is reported within `timeoutMs`; a remote one (tcp://, ssh://) gets at least 15 s
 * (an ssh handshake and `docker system dial-stdio` come first). Every failure is one line naming
 * the endpoint and what to do.
 */
export async function connectDocker(timeoutMs = 2000): Promise<Docker> {
  const host = dockerHost();
  // Loaded here, not at the top: dockerode takes ~230 ms to load, which every executor importing
  // @reprokit/core would pay even when it never talks to docker (checksum, reproduce, host builds).
  const { default: DockerClient } = (await import('dockerode')) as unknown as { default: typeof Docker };
  const docker = new DockerClient(host.options);
  const limit = host.kind === 'unix' ? timeoutMs : Math.max(timeoutMs, 15_000);
  // Abort the ping itself, so a daemon that never answers leaves no open request behind.
  const signal = AbortSignal.timeout(limit);
  try {
    // dockerode takes abortSignal here; @types/dockerode does not declare it.
    const ping = docker.ping.bind(docker) as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>;
    await ping({ abortSignal: signal });
    return docker;
  } catch (error) {
    if (host.kind === 'unix') {
      const why = signal.aborted ? `no answer within ${limit} ms` : ((error as NodeJS.ErrnoException).code ?? (error as Error).message);
      throw new UserError(`cannot reach the Docker daemon at ${host.endpoint} (${why}): start it with \`bash tools/setup\` (or \`dockerd &\`), or set DOCKER_HOST`);
    }
    const why = signal.aborted && !host.hostKeyRefusal?.() ? `no answer within ${limit / 1000} s` : describeConnectFailure(host, error);
    throw new UserError(`cannot reach the Docker daemon at ${host.endpoint}: ${why}`);
  }
}

const PINNED_REF = /^([^@\s]+)@(sha256:[0-9a-f]{64})$/;

export interface PinnedImageRef {
  name: string;
  digest: string;
}

/** Only `name@sha256:<64 hex>` is accepted: a tag can be moved, a digest cannot. */
export function parsePinnedImageRef(ref: string): PinnedImageRef {
  const match = PINNED_REF.exec(ref);
  if (!match) {
    throw new UserError(
      `image ${JSON.stringify(ref)} is not pinned by digest (rule docker-image-digest: use name@sha256:<64 hex>, e.g. \`docker image inspect --format '{{.Id}}' ${ref}\`)`,
    );
  }
  return { name: match[1], digest: match[2] };
}

/** The registry host a repository name starts with (`127.0.0.1:5000/x`), or undefined for a bare name. */
export function registryOf(name: string): string | undefined {
  const first = name.split('/')[0];
  return name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost') ? first : undefined;
}

/**
 * The image docker has for a pin: by image ID, or by manifest digest under any repository name (a
 * manifest digest names the same content wherever it was pulled from: the pin's own registry, or a
 * team's mirror listed in imageRegistries).
 */
export async function imageWithDigest(docker: Docker, digest: string): Promise<string | undefined> {
  const byId = await docker.getImage(digest).inspect().then((info) => info.Id, () => undefined);
  if (byId) return byId;
  const images = await docker.listImages({ digests: true });
  return images.find((image) => (image.RepoDigests ?? []).some((repoDigest) => repoDigest.endsWith(`@${digest}`)))?.Id;
}

/**
 * Makes sure the pinned image is present and returns its image ID. The digest may be the image ID
 * (what reprokit's environments pin: the config's digest, independent of compression) or a
 * registry manifest digest (what `FROM name@sha256:` pins); a missing image is pulled by digest
 * from the registry named in the reference.
 */
export async function ensureImage(docker: Docker, ref: string, log: (line: string) => void = () => {}): Promise<string> {
  const { name, digest } = parsePinnedImageRef(ref);
  const present = await imageWithDigest(docker, digest);
  if (present) return present;
  if (!registryOf(name)) {
    throw new UserError(`image ${ref} is not present and names no registry to pull it from: build it (e.g. \`npx reprokit env build tools/envs/<name>/env.lock.json\`)`);
  }
  log(`pulling ${ref}`);
  try {
    const stream = await docker.pull(ref);
    await new Promise<void>((done, fail) => docker.modem.followProgress(stream, (error) => (error ? fail(error) : done())));
  } catch (error) {
    throw new UserError(`cannot pull ${ref}: ${(error as Error).message.split('\n')[0]}`);
  }
  const pulled = await docker.getImage(ref).inspect().then((info) => info.Id, () => undefined);
  if (!pulled) throw new UserError(`pulled ${ref} but docker does not know it by that digest`);
  return pulled;
}

export interface ContainerRun {
  image: string;
  cmd: string[];
  /** Numeric `uid:gid`; builds never run as root. */
  user: string;
  env: Record<string, string>;
  mounts: { host: string; container: string; readOnly: boolean }[];
  workdir: string;
  /** Printed before every log line, e.g. `[asdf:elf] `. */
  logPrefix: string;
  log?: (line: string) => void;
  /** False for a Dockerfile RUN, whose changes to the root filesystem are the point. Default true. */
  readOnlyRootfs?: boolean;
  /**
   * A docker network for steps that must reach the network (a crate fetch, whose results are
   * checked against a lock's hashes); builds leave it out and get none.
   */
  network?: string;
  /** The host name the build sees; default `reprokit`, not docker's random container ID. */
  hostname?: string;
  domainname?: string;
  /** CPUs the container may run on, e.g. `0` or `0-1` (docker's cpuset); default all. */
  cpuset?: string;
  /** Called on the created container before it starts (e.g. to copy files in). */
  beforeStart?: (container: Docker.Container) => Promise<void>;
  /**
   * A Dockerfile RUN whose stage is root (no USER, or USER root): allowed, with only the
   * capabilities that act on the container's own files (ROOT_FILE_CAPABILITIES).
   */
  allowRoot?: boolean;
  /** tmpfs mounts besides /tmp: container path → mount options. */
  tmpfs?: Record<string, string>;
}

/** What root may do in a Dockerfile RUN: own, chmod and write the container's files; nothing else (no network, no mknod, no setuid). */
export const ROOT_FILE_CAPABILITIES = ['CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID'];

/**
 * Runs a command in a fresh container with no network, streaming its output live behind a prefix.
 * The container is removed afterwards, also on failure and on Ctrl-C. A failure reports the exit
 * code and the last lines.
 */
export async function runInContainer<T = void>(docker: Docker, run: ContainerRun, afterSuccess?: (container: Docker.Container) => Promise<T>): Promise<T | undefined> {
  const root = run.user === '' || /^0(:|$)/.test(run.user) || run.user.startsWith('root');
  if (root && !run.allowRoot) throw new UserError(`refusing to build as root (user ${run.user})`);
  const log = new BuildLog(run.logPrefix, run.log);
  // A daemon reached over tcp:// or ssh:// may be on another machine, and a bind mount names a path
  // on the daemon's: there the Mounts API is used, which refuses a source the daemon lacks instead
  // of creating it empty as Binds do (a build would then see an empty /src and fail obscurely).
  const remote = !dockerEndpoint().startsWith('unix://');
  const binds = remote
    ? { Mounts: run.mounts.map((m) => ({ Type: 'bind' as const, Source: m.host, Target: m.container, ReadOnly: m.readOnly })) }
    : { Binds: run.mounts.map((m) => `${m.host}:${m.container}:${m.readOnly ? 'ro' : 'rw'}`) };
  const container = await docker.createContainer({
    Image: run.image,
    Cmd: run.cmd,
    User: run.user,
    Env: Object.entries(run.env).map(([key, value]) => `${key}=${value}`),
    WorkingDir: run.workdir,
    Labels: { 'dev.reprokit.run': run.logPrefix.trim() || 'reprokit' },
    NetworkDisabled: !run.network,
    Hostname: run.hostname ?? 'reprokit',
    Domainname: run.domainname ?? '',
    HostConfig: {
      ...(run.cpuset ? { CpusetCpus: run.cpuset } : {}),
      NetworkMode: run.network ?? 'none',
      ...binds,
      ReadonlyRootfs: run.readOnlyRootfs ?? true,
      Tmpfs: { '/tmp': 'rw,exec,mode=1777', ...run.tmpfs },
      CapDrop: ['ALL'],
      CapAdd: root ? ROOT_FILE_CAPABILITIES : [],
      SecurityOpt: ['no-new-privileges'],
      // The daemon removes the container itself when it exits, even if reprokit can no longer ask:
      // a daemon stopped mid-build removes it when it comes back. Not when the container is used
      // after it exits (afterSuccess commits or copies from it); reprokit removes those.
      AutoRemove: !afterSuccess,
    },
  }).catch((error: Error) => {
    const missing = /bind source path does not exist: (\S+)/.exec(error.message ?? '');
    if (!missing) throw error;
    throw new UserError(
      `the Docker daemon at ${dockerEndpoint()} has no ${missing[1]}: a bind mount names a path on the daemon's machine, so it must see this checkout at the same path (run reprokit there, or share the filesystem)`,
    );
  });
  // An auto-removed container may still be on its way out when remove() is refused: wait until it
  // is gone (a 404 once it is), at most 10 s, so that a build returns with no container left.
  const remove = async () => {
    await container.remove({ force: true }).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      (container.wait({ condition: 'removed' }) as Promise<unknown>).catch(() => undefined),
      new Promise((done) => (timer = setTimeout(done, 10_000))),
    ]);
    clearTimeout(timer);
  };
  // On Ctrl-C: remove the container, then die of the same signal (our handler is gone by then).
  // Removing it ends the wait below; the interrupted flag keeps that from being reported as a failure.
  let interrupted = false;
  const onSignal = (signal: NodeJS.Signals) => {
    interrupted = true;
    void remove().then(() => process.kill(process.pid, signal));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const stream = await container.attach({ stream: true, stdout: true, stderr: true });
    const output = new PassThrough();
    docker.modem.demuxStream(stream, output, output);
    const lines = log.stream();
    output.setEncoding('utf8');
    output.on('data', (text: string) => lines.write(text));
    const ended = new Promise<void>((done) => stream.on('end', done));
    if (run.beforeStart) await run.beforeStart(container);
    // Waiting from before the start: an auto-removed container may be gone by the time a wait sent
    // after it could arrive.
    const exited = container.wait({ condition: 'next-exit' }) as Promise<{ StatusCode: number }>;
    exited.catch(() => undefined);
    await container.start();
    const { StatusCode } = await exited;
    if (interrupted) await new Promise(() => {});
    await ended;
    lines.end();
    // A daemon being stopped kills its containers first (exit 137 or 143), then goes away.
    if ((StatusCode === 137 || StatusCode === 143) && (await daemonGoesAway(docker))) throw daemonGone({ code: `killed, exit ${StatusCode}` }, run.cmd)!;
    if (StatusCode !== 0) throw new UserError(`\`${run.cmd.join(' ')}\` failed with exit ${StatusCode} in ${run.image}${log.lastLines()}`);
    return afterSuccess ? await afterSuccess(container) : undefined;
  } catch (error) {
    throw daemonGone(error, run.cmd) ?? error;
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    await remove();
  }
}

const CONNECTION_LOST = new Set(['ECONNRESET', 'ECONNREFUSED', 'ENOENT', 'EPIPE', 'ECONNABORTED']);

/**
 * A daemon stopped or crashed in the middle of a build surfaces as a socket error (or dockerode's
 * "socket hang up"): one line saying so, not a stack trace.
 */
function daemonGone(error: unknown, cmd: string[]): UserError | undefined {
  const code = (error as NodeJS.ErrnoException).code;
  const message = (error as Error).message ?? '';
  if (!(code && (CONNECTION_LOST.has(code) || code.startsWith('killed'))) && !/socket hang up|ECONNRESET|ECONNREFUSED/.test(message)) return undefined;
  return new UserError(
    `lost the Docker daemon at ${dockerEndpoint()} during \`${cmd.join(' ')}\` (${code ?? message.split('\n')[0]}): was it stopped? Start it again and rerun the build`,
  );
}

/** True when the daemon stops answering within a few seconds (it is shutting down). */
async function daemonGoesAway(docker: Docker): Promise<boolean> {
  const ping = docker.ping.bind(docker) as unknown as (opts: { abortSignal: AbortSignal }) => Promise<unknown>;
  for (let i = 0; i < 10; i++) {
    const answered = await ping({ abortSignal: AbortSignal.timeout(1000) }).then(() => true, () => false);
    if (!answered) return true;
    await new Promise((wait) => setTimeout(wait, 500));
  }
  return false;
}

/** Loads a docker-archive tar and returns nothing until docker has it. */
export async function loadDockerArchive(docker: Docker, archive: string, log?: (line: string) => void): Promise<void> {
  const progress = log ? logProgress(`loading ${basename(archive)}`, statSync(archive).size, log) : undefined;
  const source = createReadStream(archive);
  const stream = await docker.loadImage(progress ? source.pipe(countingStream(progress)) : source, { quiet: true });
  await new Promise<void>((done, fail) => docker.modem.followProgress(stream, (error) => (error ? fail(error) : done())));
  progress?.finish();
}

/** Tags and pushes an image; returns `repository@sha256:<manifest digest>`. */
export async function pushImage(docker: Docker, imageId: string, repository: string, tag: string): Promise<string> {
  await docker.getImage(imageId).tag({ repo: repository, tag });
  const stream = await docker.getImage(`${repository}:${tag}`).push({ tag });
  let digest: string | undefined;
  await new Promise<void>((done, fail) =>
    docker.modem.followProgress(
      stream,
      (error) => (error ? fail(error) : done()),
      (event: { error?: string; aux?: { Digest?: string } }) => {
        if (event.error) fail(new UserError(`push to ${repository} failed: ${event.error}`));
        if (event.aux?.Digest) digest = event.aux.Digest;
      },
    ),
  );
  if (!digest) throw new UserError(`push to ${repository} reported no manifest digest`);
  return `${repository}@${digest}`;
}
