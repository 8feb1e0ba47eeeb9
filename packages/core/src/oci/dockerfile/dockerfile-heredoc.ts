import type { MappedText } from '../../pins/mapped-text';

/** A heredoc of RUN, COPY or ADD: `<<EOF` (expanded), `<<'EOF'` (literal), `<<-EOF` (leading tabs removed). */
export interface Heredoc {
  /** What follows `<<` or `<<-` in the instruction, quotes included. */
  marker: string;
  /** The delimiter word, also the file name a COPY heredoc gets. */
  name: string;
  content: string;
  /** The body as written (tabs kept). */
  raw: string;
  /** Whether `$VAR` in the body is expanded (the delimiter was not quoted). */
  expand: boolean;
  /** `<<-`: leading tabs of every line are removed. */
  chomp: boolean;
}

const HEREDOC = /<<(-?)((["']?)([A-Za-z0-9_.-]+)\3)/g;

/** The heredocs an instruction's text introduces, paired with the bodies the line parser collected. */
export function heredocsOf(bodies: MappedText[], text: string): Heredoc[] {
  const markers = [...text.matchAll(HEREDOC)];
  return bodies.map((body, i) => {
    const [, chomp, marker, quote, name] = markers[i] ?? ['', '', '', '', `EOF${i}`];
    const content = chomp ? body.text.replace(/^\t+/gm, '') : body.text;
    return { marker: (chomp ? '-' : '') + marker, name, content, raw: body.text, expand: quote === '', chomp: chomp === '-' };
  });
}

/**
 * What `RUN` with heredocs executes, as BuildKit does it: `RUN <<EOF` alone runs the body with the
 * shell (or, when it starts with `#!`, as a script file of its own); any other command gets its
 * heredocs back after it and the shell reads them (`RUN python3 <<EOF`).
 */
export function runHeredocCommand(command: string, heredocs: Heredoc[]): { script: string; files: Heredoc[] } {
  const only = heredocs.length === 1 && command.trim() === `<<${heredocs[0].marker}`;
  if (only) {
    const [doc] = heredocs;
    if (doc.content.startsWith('#!')) return { script: '', files: [doc] };
    return { script: doc.content, files: [] };
  }
  // The shell sees the bodies as written (with their tabs: `<<-` is the shell's to apply).
  let full = command;
  heredocs.forEach((doc) => {
    full += '\n' + doc.raw + doc.name;
  });
  return { script: full, files: [] };
}
