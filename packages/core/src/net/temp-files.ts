import { rmSync } from 'node:fs';

/**
 * Temp files and directories that must not outlive a run: removed by their owner on success and on
 * failure (finally), and here on SIGINT/SIGTERM, where no finally runs. A download killed half way
 * leaves nothing behind.
 */

const paths = new Set<string>();
const SIGNALS: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];

function removeAll(): void {
  for (const path of paths) rmSync(path, { recursive: true, force: true });
  paths.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  // Other handlers (a container being removed, docker/docker.ts) re-raise the signal once they are
  // done; only when there are none does this one, so that the process still dies of the signal.
  const others = process.listenerCount(signal) - 1;
  removeAll();
  uninstall();
  if (others === 0) process.kill(process.pid, signal);
}

function install(): void {
  // First in line: the files go before another handler's asynchronous cleanup re-raises the signal.
  for (const signal of SIGNALS) if (!process.listeners(signal).includes(onSignal)) process.prependListener(signal, onSignal);
}

function uninstall(): void {
  for (const signal of SIGNALS) process.removeListener(signal, onSignal);
}

/** Removes `path` (recursively) if the process is interrupted before `release` is called. */
export function removeOnSignal(path: string): void {
  paths.add(path);
  install();
}

/** `path` is the caller's again (kept, or already removed). */
export function releaseOnSignal(path: string): void {
  paths.delete(path);
  if (paths.size === 0) uninstall();
}

/** Runs `work` with `path` registered, and removes `path` after it, whatever happens (unless `keep` says otherwise on success). */
export async function withTempPath<T>(path: string, work: () => Promise<T>, keep: (result: T) => boolean = () => false): Promise<T> {
  removeOnSignal(path);
  let result: T;
  try {
    result = await work();
  } catch (error) {
    rmSync(path, { recursive: true, force: true });
    releaseOnSignal(path);
    throw error;
  }
  if (!keep(result)) rmSync(path, { recursive: true, force: true });
  releaseOnSignal(path);
  return result;
}
