import { posix } from 'node:path';
import type { Owner } from '../dockerfile/dockerfile';
import { imagePath } from '../layer';
import { resolveInStage } from '../stage-files';
import type { RuntimeConfig } from '../layout/image-files';
import type { Handler, Handlers, InstructionOf } from './handler';
import { missingDirectories } from './session';

type ConfigOp = 'ENV' | 'LABEL' | 'USER' | 'EXPOSE' | 'SHELL' | 'VOLUME' | 'STOPSIGNAL' | 'HEALTHCHECK' | 'ENTRYPOINT' | 'CMD' | 'WORKDIR';

/** ENV replaces a variable where it is, else appends it (the order docker keeps). */
const env: Handlers['ENV'] = async (_build, state, instruction) => {
  const runtime = state.config.config;
  const vars = [...(runtime.Env ?? [])];
  for (const [key, value] of instruction.vars) {
    const index = vars.findIndex((item) => item.startsWith(`${key}=`));
    if (index >= 0) vars[index] = `${key}=${value}`;
    else vars.push(`${key}=${value}`);
  }
  runtime.Env = vars;
  return 'config';
};

const entrypoint: Handlers['ENTRYPOINT'] = async (_build, state, instruction) => {
  const runtime = state.config.config;
  if (instruction.op === 'CMD') {
    runtime.Cmd = instruction.argv;
    state.cmdFromBase = false;
    return 'config';
  }
  runtime.Entrypoint = instruction.argv;
  // As docker does: a new ENTRYPOINT drops the CMD the base image had.
  if (state.cmdFromBase) delete runtime.Cmd;
  return 'config';
};

/** WORKDIR sets the directory and creates it (a layer) when the stage lacks it. */
const workdir: Handlers['WORKDIR'] = async (build, state, instruction, step) => {
  const runtime = state.config.config;
  const path = posix.resolve(runtime.WorkingDir || '/', instruction.path);
  runtime.WorkingDir = path;
  const stat = build.statOf(state);
  // Created owned by the stage's USER, as BuildKit does (the classic builder makes it root's).
  const entries = await missingDirectories(stat, [await resolveInStage(imagePath(path), stat)], ownerOf(runtime.User));
  if (entries.length === 0) return 'config';
  build.addLayer(state, entries, step.fail);
  return 'layer';
};

/** A handler that only sets the runtime config. */
const setting =
  <Op extends ConfigOp>(set: (runtime: RuntimeConfig, instruction: InstructionOf<Op>) => void): Handler<InstructionOf<Op>> =>
  async (_build, state, instruction) => {
    set(state.config.config, instruction);
    return 'config';
  };

/** The instructions that change the image config (WORKDIR also a directory). */
export const imageConfigHandlers: Pick<Handlers, ConfigOp> = {
  ENV: env,
  LABEL: setting<'LABEL'>((runtime, { labels }) => (runtime.Labels = { ...runtime.Labels, ...Object.fromEntries(labels) })),
  USER: setting<'USER'>((runtime, { user }) => (runtime.User = user)),
  EXPOSE: setting<'EXPOSE'>((runtime, { ports }) => (runtime.ExposedPorts = { ...runtime.ExposedPorts, ...Object.fromEntries(ports.map((port) => [port, {}])) })),
  SHELL: setting<'SHELL'>((runtime, { shell }) => (runtime.Shell = shell)),
  VOLUME: setting<'VOLUME'>((runtime, { volumes }) => (runtime.Volumes = { ...runtime.Volumes, ...Object.fromEntries(volumes.map((volume) => [volume, {}])) })),
  STOPSIGNAL: setting<'STOPSIGNAL'>((runtime, { signal }) => (runtime.StopSignal = signal)),
  HEALTHCHECK: setting<'HEALTHCHECK'>((runtime, { healthcheck }) => (runtime.Healthcheck = healthcheck)),
  ENTRYPOINT: entrypoint,
  CMD: entrypoint,
  WORKDIR: workdir,
};

/** Numeric `uid[:gid]` of a USER value; names (resolved by the image's /etc/passwd) count as 0:0. */
export function ownerOf(user: string | undefined): Owner {
  const match = /^(\d+)(?::(\d+))?$/.exec(user ?? '');
  return match ? { uid: Number(match[1]), gid: Number(match[2] ?? match[1]) } : { uid: 0, gid: 0 };
}
