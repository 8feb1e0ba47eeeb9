import { allPipelines, parseShell, ShellParseError } from '../../pins/shell/shell';
import { MappedText } from '../../pins/mapped-text';

/**
 * Every pipeline of a RUN's shell script, in the order the shell runs them (the pins shell parser:
 * `&&`, `\` continuations, subshells, heredocs); a script it cannot parse stops the build with the
 * parser's line.
 */
export function runScriptPipelines(script: string, fail: (message: string) => never): ReturnType<typeof allPipelines> {
  try {
    return allPipelines(parseShell(new MappedText().append(script, { line: 1, column: 1 })));
  } catch (error) {
    if (error instanceof ShellParseError) fail(`RUN: ${error.message}`);
    throw error;
  }
}
