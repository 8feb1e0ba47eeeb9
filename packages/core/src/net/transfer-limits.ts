/**
 * The total deadline and the minimum rate of one transfer (curl's --max-time, --speed-limit and
 * --speed-time), for a loop that reads a body by itself: bounded-fetch.ts uses it, and so can any
 * other client (a registry, a vault). `failed` rejects when a limit is crossed: race it against each read.
 */
export interface TransferLimitOptions {
  deadlineMs: number;
  /** Below `bytesPerSecond` for `seconds` in a row, the transfer ends; false: no such rule. */
  minRate: { bytesPerSecond: number; seconds: number } | false;
}

/** curl's --speed-limit 1024 --speed-time 30, as every download's default. */
export const DEFAULT_MIN_RATE = { bytesPerSecond: 1024, seconds: 30 };

/** The total time of a download: 5 minutes, plus one second per MiB it may be (a 1 GiB artifact gets 22 minutes). */
export function defaultDeadlineMs(maxBytes: number): number {
  return 300_000 + Math.ceil(maxBytes / (1 << 20)) * 1000;
}

const seconds = (ms: number) => `${Math.round(ms / 100) / 10} s`;

export class TransferLimits {
  /** Rejects with the reason (`took longer than the 300 s deadline`) once a limit is crossed. */
  readonly failed: Promise<never>;
  /** The reason, once a limit was crossed. */
  reason?: string;
  private bytes = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private fail!: (reason: string) => void;

  constructor(options: TransferLimitOptions, onFail?: (reason: string) => void) {
    this.failed = new Promise<never>((_, reject) => {
      this.fail = (reason) => {
        if (this.reason !== undefined) return;
        this.reason = reason;
        this.stop();
        onFail?.(reason);
        reject(new Error(reason));
      };
    });
    // Nobody may be racing it yet: an unobserved rejection must not end the process.
    this.failed.catch(() => {});
    this.timers.push(setTimeout(() => this.fail(`took longer than the ${seconds(options.deadlineMs)} deadline`), options.deadlineMs));
    const rate = options.minRate;
    if (rate) {
      // curl's rule: the rate, measured each second, below the limit for `seconds` in a row.
      let last = 0;
      let slowSince: number | undefined;
      this.timers.push(
        setInterval(() => {
          const now = Date.now();
          const got = this.bytes - last;
          last = this.bytes;
          if (got >= rate.bytesPerSecond) slowSince = undefined;
          else if (slowSince === undefined) slowSince = now - 1000;
          else if (now - slowSince >= rate.seconds * 1000) this.fail(`slower than ${rate.bytesPerSecond} bytes/s for ${rate.seconds} s`);
        }, 1000),
      );
    }
  }

  /** `n` more bytes arrived (or were sent). */
  add(n: number): void {
    this.bytes += n;
  }

  /** The transfer is over: no limit fires any more. */
  stop(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.length = 0;
  }
}
