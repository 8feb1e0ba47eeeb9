import { spawn } from 'node:child_process';
import { BuildLog } from './build-log';
import { UserError } from '../errors';

export interface StreamedCommand {
  command: string;
  args: string[];
  cwd: string;
  /** The complete environment: nothing is inherited. */
  env: NodeJS.ProcessEnv;
  /** Printed before every log line, e.g. `[asdf:elf] `. */
  prefix: string;
  /** Where log lines go; defaults to standard error. */
  log?: (line: string) => void;
  /** File mode creation mask of the child. */
  umask?: number;
}

/** Runs a build command with its output streamed live (see BuildLog); a failure reports the exit code and the last lines. */
export async function runStreamed(cmd: StreamedCommand): Promise<void> {
  const log = new BuildLog(cmd.prefix, cmd.log);
  // The umask is inherited by children at spawn: set it for the spawn, then restore ours.
  const previousUmask = cmd.umask === undefined ? undefined : process.umask(cmd.umask);
  let child;
  try {
    child = spawn(cmd.command, cmd.args, { cwd: cmd.cwd, env: cmd.env, stdio: ['ignore', 'pipe', 'pipe'] });
  } finally {
    if (previousUmask !== undefined) process.umask(previousUmask);
  }
  const pending = [child.stdout, child.stderr].map(
    (stream) =>
      new Promise<void>((done) => {
        const lines = log.stream();
        stream.setEncoding('utf8');
        stream.on('data', (text: string) => lines.write(text));
        stream.on('end', () => {
          lines.end();
          done();
        });
      }),
  );
  const code = await new Promise<number | string>((done) => {
    child.on('error', (error) => done((error as NodeJS.ErrnoException).code ?? error.message));
    child.on('close', (status, signal) => done(status ?? signal ?? 'unknown'));
  });
  await Promise.all(pending);
  if (code === 'ENOENT') throw new UserError(`${cmd.command}: command not found: install it or fix PATH`);
  if (code !== 0) {
    throw new UserError(`\`${[cmd.command, ...cmd.args].join(' ')}\` failed with exit ${code}${log.lastLines()}`);
  }
}
