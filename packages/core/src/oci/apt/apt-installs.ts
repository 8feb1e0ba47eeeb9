import type { Word } from '../../pins/shell/shell';
import { runScriptPipelines } from '../instructions/run-script';
import { commandName, commandWords } from '../../pins/shell/command-words';
import { aptInstall, type AptInstall } from '../../pins/shell/apt-install';

export type { AptInstall } from '../../pins/shell/apt-install';
import type { StageInstruction } from '../dockerfile/dockerfile';

/**
 * The Debian package installs of a RUN's shell script: every `apt-get install` and `apt install`
 * (also behind sudo, env or `&&`, across `\` continuations), with `$NAME` and `${NAME}` taken from
 * `vars` (the stage's ARG and ENV, as the RUN's shell sees them). A variable it does not know, or any
 * other expansion in a package name, is an error: the lock must name exact packages.
 */
export function findAptInstalls(script: string, vars: Record<string, string>, fail: (message: string) => never): AptInstall[] {
  const installs: AptInstall[] = [];
  for (const words of aptCommands(script, fail)) {
    const texts = words.map((word) => expand(word, vars, fail));
    const install = aptInstall(texts.flat());
    if (install) installs.push(install);
  }
  return installs;
}

/** The words of every `apt-get` and `apt` command of a shell script, whatever it asks apt to do. */
function aptCommands(script: string, fail: (message: string) => never): Word[][] {
  const commands: Word[][] = [];
  for (const pipeline of runScriptPipelines(script, fail)) {
    for (const command of pipeline.commands) {
      const words = commandWords(command);
      const name = commandName(words);
      if (name === 'apt-get' || name === 'apt') commands.push(words);
    }
  }
  return commands;
}

/** A word's value with `$NAME` and `${NAME}` replaced; an unquoted one splits on blanks, as the shell does. */
function expand(word: Word, vars: Record<string, string>, fail: (message: string) => never): string[] {
  if (!word.expanded) return [word.text];
  if (word.substitutions.length > 0) fail(`RUN: ${word.raw}: a command substitution in an apt install; name the packages, or put them in an ARG or ENV`);
  const value = word.text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_all, braced: string | undefined, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    if (!(name in vars)) fail(`RUN: ${word.raw}: $${name} is not an ARG or ENV of the stage, so the packages it names are unknown`);
    return vars[name];
  });
  if (value.includes('$')) fail(`RUN: ${word.raw}: an expansion reprokit does not evaluate in an apt install; use $NAME or \${NAME}`);
  const quoted = /^["']/.test(word.raw);
  return quoted ? [value] : value.split(/\s+/).filter(Boolean);
}

type RunInstruction = Extract<StageInstruction, { op: 'RUN' }>;

/**
 * The apt installs of one RUN, with the variables its shell sees: the RUN's ARGs and the stage's
 * ENV (`env` as the image config holds it, NAME=value). The shell form's script, a heredoc's
 * files, or the exec form's words when they are apt itself.
 */
export function runAptInstalls(instruction: RunInstruction, env: string[] | undefined, fail: (message: string) => never): AptInstall[] {
  const vars: Record<string, string> = { ...instruction.args };
  for (const item of env ?? []) {
    const at = item.indexOf('=');
    if (at > 0) vars[item.slice(0, at)] = item.slice(at + 1);
  }
  if (instruction.files.length > 0) return instruction.files.flatMap((file) => findAptInstalls(file.content, vars, fail));
  if (EXEC_FORM.test(instruction.text)) {
    const name = instruction.argv[0]?.slice(instruction.argv[0].lastIndexOf('/') + 1);
    if (name !== 'apt-get' && name !== 'apt') return [];
    const install = aptInstall(instruction.argv);
    return install ? [install] : [];
  }
  return findAptInstalls(instruction.argv.at(-1) ?? '', vars, fail);
}

/**
 * Whether a RUN runs apt-get or apt at all (update, clean, upgrade… as well as install): such a RUN
 * gets apt's offline setup, so that what needs the network with docker build (`apt-get update`)
 * works as it would there, against the offline repository.
 */
export function runRunsApt(instruction: RunInstruction, fail: (message: string) => never): boolean {
  if (instruction.files.length > 0) return instruction.files.some((file) => aptCommands(file.content, fail).length > 0);
  if (EXEC_FORM.test(instruction.text)) {
    const name = instruction.argv[0]?.slice(instruction.argv[0].lastIndexOf('/') + 1);
    return name === 'apt-get' || name === 'apt';
  }
  return aptCommands(instruction.argv.at(-1) ?? '', fail).length > 0;
}

/** `RUN [--flag…] [ "…" ]`: the exec form, whose argv is not a shell script. */
const EXEC_FORM = /^RUN\s+(?:--\S+\s+)*\[/i;
