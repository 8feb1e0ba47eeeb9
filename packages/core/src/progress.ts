import { Transform } from 'node:stream';
import { escapeControls, writeRaw } from './terminal/safe-output';

/**
 * Progress of long work (packages checked and unpacked, layer and image bytes written, loaded or
 * pushed). On a terminal one line is redrawn in place, at most every 100 ms; in CI (`CI` set) or
 * when standard error is not a terminal, a plain line is written at the start, at every quarter and
 * at the end, so a log shows that work goes on without thousands of lines.
 */
export interface Progress {
  /** `done` units of `total` are finished. */
  update(done: number): void;
  /** The work is finished; `summary` replaces the progress line. */
  finish(summary?: string): void;
}

export interface ProgressOptions {
  /** Where lines go; the stream's `isTTY` decides the style unless `interactive` is given. */
  stream?: { write(text: string): unknown; isTTY?: boolean };
  /** Redraw one line in place. Default: a terminal, and not CI. */
  interactive?: boolean;
  /** `bytes` shows sizes (MiB), `items` plain counts. */
  unit?: 'bytes' | 'items';
  /** For tests: the clock. */
  now?: () => number;
}

const REDRAW_MS = 100;

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

/** Whether progress is drawn in place: a terminal, outside CI. */
export function isInteractive(stream: { isTTY?: boolean }): boolean {
  const ci = process.env.CI;
  return Boolean(stream.isTTY) && (ci === undefined || ci === '' || ci === 'false' || ci === '0');
}

let terminal: ProgressOptions['stream'];

/**
 * The CLI calls this with standard error: when that is a terminal outside CI, progress is drawn there
 * in place rather than logged line by line. Executors under Nx never have a terminal.
 */
export function useTerminalProgress(stream: NonNullable<ProgressOptions['stream']>): void {
  terminal = isInteractive(stream) ? stream : undefined;
}

/** Progress through a line logger (an executor's `[project:target]` log): plain lines, or the terminal's redrawn line. */
export function logProgress(label: string, total: number | undefined, log: (line: string) => void, unit: ProgressOptions['unit'] = 'bytes'): Progress {
  if (terminal) return createProgress(label, total, { stream: terminal, interactive: true, unit });
  return createProgress(label, total, { stream: { write: (text) => log(text.replace(/\n$/, '')) }, interactive: false, unit });
}

/** A pass-through stream that reports the bytes that went through it. */
export function countingStream(progress: Progress): Transform {
  let done = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      done += chunk.length;
      progress.update(done);
      callback(null, chunk);
    },
  });
}

/**
 * `total` undefined: the size is not known in advance (a `docker save` stream); only the bytes so
 * far are shown, and in plain mode only the start and the end.
 */
export function createProgress(label: string, total: number | undefined, options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const interactive = options.interactive ?? isInteractive(stream);
  const now = options.now ?? Date.now;
  const show = (n: number) => (options.unit === 'bytes' ? formatBytes(n) : String(n));
  const line = (done: number) => {
    if (total === undefined) return `${label}: ${show(done)}`;
    const percent = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
    return `${label}: ${show(done)} of ${show(total)} (${percent}%)`;
  };
  let lastDraw = -Infinity;
  let lastQuarter = -1;
  let finished = false;
  let last = 0;
  if (!interactive) {
    stream.write(line(0) + '\n');
    lastQuarter = 0;
  }
  return {
    update(done) {
      if (finished) return;
      last = done;
      if (interactive) {
        const t = now();
        if (t - lastDraw < REDRAW_MS && (total === undefined || done < total)) return;
        lastDraw = t;
        // The redraw codes are reprokit's own; the text may hold input, escaped here.
        writeRaw(stream, `\r\x1b[2K${escapeControls(line(done), true)}`);
      } else {
        if (total === undefined) return;
        const quarter = total > 0 ? Math.min(4, Math.floor((done / total) * 4)) : 4;
        // The last quarter is the finish line's to print.
        if (quarter > lastQuarter && quarter < 4) {
          lastQuarter = quarter;
          stream.write(line(done) + '\n');
        }
      }
    },
    finish(summary) {
      if (finished) return;
      finished = true;
      const text = summary ?? line(total ?? last);
      if (interactive) writeRaw(stream, `\r\x1b[2K${escapeControls(text, true)}\n`);
      else stream.write(text + '\n');
    },
  };
}
