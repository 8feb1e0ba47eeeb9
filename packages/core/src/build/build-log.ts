/** Where an error message's build-log tail starts: reportError shows the lines after it indented, each escaped. */
export const LAST_LINES = '; last lines:\n';

/**
 * A build's log as the user sees it: every line streamed live behind a `[project:target] ` prefix,
 * and the last lines kept, because a failure is reported with them (that is usually where the
 * compiler said why).
 */
export class BuildLog {
  private readonly tail: string[] = [];

  constructor(
    private readonly prefix: string,
    private readonly log: (line: string) => void = (line) => process.stderr.write(line + '\n'),
    private readonly keep = 20,
  ) {}

  line(text: string): void {
    this.tail.push(text);
    if (this.tail.length > this.keep) this.tail.shift();
    this.log(this.prefix + text);
  }

  /** A writer for one stream: chunks are split into lines; `end()` flushes a last unterminated one. */
  stream(): { write(chunk: string): void; end(): void } {
    let rest = '';
    return {
      write: (chunk) => {
        const lines = (rest + chunk).split('\n');
        rest = lines.pop() ?? '';
        lines.forEach((line) => this.line(line));
      },
      end: () => {
        if (rest) this.line(rest);
        rest = '';
      },
    };
  }

  /** `; last lines:` and the kept lines, indented, for an error message (empty when there are none). */
  lastLines(): string {
    return this.tail.length ? `${LAST_LINES}${this.tail.map((line) => '  ' + line).join('\n')}` : '';
  }
}
