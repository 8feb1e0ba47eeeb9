import { MAX_NESTING } from '../../manifest/nesting';
import type { RawFinding } from '../rules';
import type { ShellCheckOptions } from '../shell/shell-rules';

/**
 * YAML nesting has a named limit, not V8's stack. The yaml library composes a document recursively:
 * on the main thread's stack it gives up near 900 levels with "Maximum call stack size exceeded".
 * Valid files deeper than that (1,400 levels) are checked in a worker thread with a 64 MiB stack,
 * synchronously (the scan is synchronous); past MAX_YAML_NESTING levels the file is a finding that
 * says so. The depth is measured on yaml's concrete syntax tree, which its parser builds without recursion.
 */
export const MAX_YAML_NESTING = MAX_NESTING;
const WORKER_STACK_MB = 64;
const WORKER_TIMEOUT_MS = 60_000;

/** The deepest nesting of collections in `text`, and the offset where it is first reached. */
export function yamlNesting(text: string): { depth: number; offset: number } {
  const { Parser } = require('yaml') as typeof import('yaml');
  let max = { depth: 0, offset: 0 };
  type Token = { type?: string; offset?: number; value?: unknown; items?: { key?: unknown; value?: unknown }[] };
  for (const top of new Parser().parse(text)) {
    const stack: [Token, number][] = [[top as Token, 0]];
    while (stack.length) {
      const [token, depth] = stack.pop()!;
      if (!token || typeof token !== 'object') continue;
      const here = depth + (token.type === 'block-map' || token.type === 'block-seq' || token.type === 'flow-collection' ? 1 : 0);
      if (here > max.depth) max = { depth: here, offset: token.offset ?? 0 };
      if (token.value && typeof token.value === 'object') stack.push([token.value as Token, here]);
      for (const item of token.items ?? []) {
        if (item.key && typeof item.key === 'object') stack.push([item.key as Token, here]);
        if (item.value && typeof item.value === 'object') stack.push([item.value as Token, here]);
      }
    }
  }
  return max;
}

/** True in the worker checkDeepWorkflow starts: an overflow there is final, not a reason to start another. */
export function inDeepYamlWorker(): boolean {
  const threads = require('node:worker_threads') as typeof import('node:worker_threads');
  return !threads.isMainThread && Boolean((threads.workerData as { deepYaml?: boolean } | undefined)?.deepYaml);
}

export function isStackOverflow(error: unknown): boolean {
  return error instanceof RangeError || /Maximum call stack size exceeded/.test(String((error as Error)?.message ?? error));
}

function lineColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < offset; i = text.indexOf('\n', i + 1)) {
    line++;
    start = i + 1;
  }
  return { line, column: offset - start + 1 };
}

type Check = (text: string, kind: 'workflow' | 'action', options: Omit<ShellCheckOptions, 'context'>) => RawFinding[];

/**
 * What to do with a workflow the main thread could not compose: a finding past the limit, else
 * the same check in a worker with a deep stack (readRelated and nugetLocked answered from here).
 */
export function checkDeepWorkflow(text: string, kind: 'workflow' | 'action', options: Omit<ShellCheckOptions, 'context'>): RawFinding[] {
  const { depth, offset } = yamlNesting(text);
  if (depth > MAX_YAML_NESTING) {
    return [{ rule: 'pins-unparsable', ...lineColumn(text, offset), message: `invalid YAML: nested deeper than ${MAX_YAML_NESTING} levels (${depth})` }];
  }
  const { Worker, MessageChannel, receiveMessageOnPort } = require('node:worker_threads') as typeof import('node:worker_threads');
  // signal[0] wakes this thread, signal[1] the worker: a synchronous call over a message port.
  const signal = new Int32Array(new SharedArrayBuffer(8));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(__filename, { workerData: { deepYaml: true, text, kind, signal, port: port2 }, transferList: [port2], resourceLimits: { stackSizeMb: WORKER_STACK_MB }, stdout: true, stderr: true });
  try {
    for (;;) {
      const seen = Atomics.load(signal, 0);
      const received = receiveMessageOnPort(port1);
      if (!received) {
        if (Atomics.wait(signal, 0, seen, WORKER_TIMEOUT_MS) === 'timed-out') {
          return [{ rule: 'pins-unparsable', line: 1, column: 1, message: `workflow not checked: nested ${depth} levels deep, not checked within ${WORKER_TIMEOUT_MS / 1000} s` }];
        }
        continue;
      }
      const message = received.message as { type: string; findings?: RawFinding[]; error?: string; path?: string };
      if (message.type === 'done') return message.findings!;
      if (message.type === 'error') {
        if (isStackOverflow(message.error)) return [{ rule: 'pins-unparsable', line: 1, column: 1, message: `invalid YAML: nested deeper than the checker can follow (${depth} levels)` }];
        throw new Error(message.error);
      }
      const value = message.type === 'readRelated' ? options.readRelated?.(message.path!) : options.nugetLocked?.();
      port1.postMessage({ value });
      Atomics.add(signal, 1, 1);
      Atomics.notify(signal, 1);
    }
  } finally {
    void worker.terminate();
  }
}

// The worker's side: the same check, its callbacks asked of the main thread synchronously.
const threads = require('node:worker_threads') as typeof import('node:worker_threads');
if (!threads.isMainThread && (threads.workerData as { deepYaml?: boolean } | undefined)?.deepYaml) {
  const { text, kind, signal, port } = threads.workerData as { text: string; kind: 'workflow' | 'action'; signal: Int32Array; port: import('node:worker_threads').MessagePort };
  const send = (message: object) => {
    port.postMessage(message);
    Atomics.add(signal, 0, 1);
    Atomics.notify(signal, 0);
  };
  const call = (message: object): unknown => {
    const seen = Atomics.load(signal, 1);
    send(message);
    for (let at = seen; ; at = Atomics.load(signal, 1)) {
      const received = threads.receiveMessageOnPort(port);
      if (received) return (received.message as { value: unknown }).value;
      Atomics.wait(signal, 1, at, 1000);
    }
  };
  try {
    const { checkWorkflow } = require('./workflow') as { checkWorkflow: Check };
    const findings = checkWorkflow(text, kind, {
      readRelated: (path) => call({ type: 'readRelated', path }) as string | undefined,
      nugetLocked: () => call({ type: 'nugetLocked' }) as boolean,
    });
    send({ type: 'done', findings });
  } catch (error) {
    send({ type: 'error', error: String((error as Error)?.message ?? error) });
  }
}
