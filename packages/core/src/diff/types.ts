/** One thing that differs between two inputs, named by where it lies inside them. */
export interface Difference {
  /**
   * The path to it through the containers: an archive entry, a layer, an ELF section, a field
   * (e.g. `["asdf-image.tar", "layer 2 (sha256:…)", "asdf", "section .rodata"]`).
   */
  where: string[];
  /** What differs, one line. */
  what: string;
  /** Optional longer explanation: a unified diff or a hex window. */
  detail?: string;
}

/** Bounds for hostile inputs: how deep, how much, how many. */
export interface DiffLimits {
  /** Nested containers (archive in a compressed file in a layer …) followed at most. */
  maxDepth: number;
  /** Bytes one side may decompress or read into memory. */
  maxBytes: number;
  /** Differences reported before the rest is counted only. */
  maxDifferences: number;
}

export const DEFAULT_LIMITS: DiffLimits = { maxDepth: 8, maxBytes: 1 << 30, maxDifferences: 200 };

/** Collects differences for one comparison, with its limits. */
export class DiffContext {
  readonly differences: Difference[] = [];
  /** Differences found past `maxDifferences`: counted, not kept. */
  dropped = 0;
  constructor(readonly limits: DiffLimits = DEFAULT_LIMITS) {}

  add(where: string[], what: string, detail?: string): void {
    if (this.differences.length >= this.limits.maxDifferences) {
      this.dropped++;
      return;
    }
    this.differences.push(detail === undefined ? { where, what } : { where, what, detail });
  }

  get count(): number {
    return this.differences.length + this.dropped;
  }
}

/** A comparison of two inputs: what they are and what differs. */
export interface DiffResult {
  a: string;
  b: string;
  /** The format both were read as (`elf`, `tar`, `gzip`, `oci-layout`, `json`, `text`, `binary`, …). */
  format: string;
  same: boolean;
  differences: Difference[];
  /** Differences not listed (past the limit). */
  more: number;
}
