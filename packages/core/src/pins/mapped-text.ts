/** A 1-based line and column in a source file. */
export interface Position {
  line: number;
  column: number;
}

/**
 * Text assembled from pieces of a source file (a Dockerfile's RUN with its continuation lines, a
 * YAML block scalar without its indentation), remembering where each piece came from, so that a
 * parser working on the assembled text can report positions in the original file.
 */
export class MappedText {
  text = '';
  private readonly starts: number[] = [];
  private readonly origins: Position[] = [];

  /** Appends a piece whose characters come, in order, from `origin` onwards on one source line. */
  append(piece: string, origin: Position): this {
    this.starts.push(this.text.length);
    this.origins.push(origin);
    this.text += piece;
    return this;
  }

  /** Appends characters that are not in the source (a joining space or newline). */
  appendSynthetic(piece: string): this {
    const end = this.text.length > 0 ? this.positionAt(this.text.length - 1) : { line: 1, column: 1 };
    return this.append(piece, { line: end.line, column: end.column + 1 });
  }

  positionAt(offset: number): Position {
    if (this.starts.length === 0) return { line: 1, column: 1 };
    const segment = this.segmentAt(offset);
    const origin = this.origins[segment];
    return { line: origin.line, column: origin.column + (offset - this.starts[segment]) };
  }

  /** The text from `start` to `end`, keeping where each character came from. */
  slice(start: number, end = this.text.length): MappedText {
    const sliced = new MappedText();
    for (let offset = start; offset < end; ) {
      const segment = this.segmentAt(offset);
      const segmentEnd = Math.min(end, this.starts[segment + 1] ?? this.text.length);
      sliced.append(this.text.slice(offset, segmentEnd), this.positionAt(offset));
      offset = segmentEnd;
    }
    return sliced;
  }

  private segmentAt(offset: number): number {
    let low = 0;
    let high = this.starts.length - 1;
    while (low < high) {
      const mid = (low + high + 1) >> 1;
      if (this.starts[mid] <= offset) low = mid;
      else high = mid - 1;
    }
    return low;
  }

  /** A whole file, or a multi-line string starting at `origin` whose later lines start at column `nextColumn`. */
  static fromLines(text: string, origin: Position = { line: 1, column: 1 }, nextColumn = 1): MappedText {
    const mapped = new MappedText();
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      const piece = i < lines.length - 1 ? line + '\n' : line;
      if (piece !== '') mapped.append(piece, i === 0 ? origin : { line: origin.line + i, column: nextColumn });
    });
    return mapped;
  }
}
