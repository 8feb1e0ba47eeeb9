import { posix } from 'node:path';
import { runScriptPipelines } from '../instructions/run-script';
import { commandName, commandWords } from '../../pins/shell/command-words';
import type { StageInstruction } from '../dockerfile/dockerfile';

/** One `npm ci` or lockfile `npm install` of a RUN: where it runs (absolute, in the stage) and as written. */
export interface NpmInstall {
  dir: string;
  command: string;
}

// npm's names and abbreviations of the commands (npm/lib/utils/cmd-list.js).
const CI = new Set(['ci', 'clean-install', 'ic', 'install-clean', 'isntall-clean']);
const INSTALL = new Set(['install', 'i', 'in', 'ins', 'inst', 'insta', 'instal', 'isnt', 'isnta', 'isntal', 'isntall', 'add']);
/** npm options written with their value as the next word (`--omit dev`); every other option is a flag or `--name=value`. */
const VALUED = new Set(['--omit', '--include', '--prefix', '-C', '--registry', '--cache', '--loglevel', '--workspace', '-w', '--tag', '--userconfig', '--install-strategy', '--install-links', '--before', '--script-shell', '--os', '--cpu', '--libc']);

type RunInstruction = Extract<StageInstruction, { op: 'RUN' }>;

/**
 * The npm installs from a lockfile in one RUN, as its shell runs them: `npm ci` and `npm install`
 * (or an alias) with no package named, behind `&&`, `\` continuations, sudo or env, in the RUN's
 * working directory or the one an earlier `cd DIR` (or `--prefix DIR`) moved to. `npm install PKG`
 * would fetch what no lockfile pins, with no network: refused here with what to do instead.
 */
export function runNpmInstalls(instruction: RunInstruction, workdir: string, fail: (message: string) => never): NpmInstall[] {
  if (instruction.files.length > 0) return instruction.files.flatMap((file) => findNpmInstalls(file.content, workdir, fail));
  if (/^RUN\s+(?:--\S+\s+)*\[/i.test(instruction.text)) {
    const install = npmInstall(instruction.argv, workdir, instruction.argv.join(' '), fail);
    return install ? [install] : [];
  }
  return findNpmInstalls(instruction.argv.at(-1) ?? '', workdir, fail);
}

/** The npm installs of a shell script run in `workdir`. */
export function findNpmInstalls(script: string, workdir: string, fail: (message: string) => never): NpmInstall[] {
  const installs: NpmInstall[] = [];
  let dir = workdir;
  for (const pipeline of runScriptPipelines(script, fail)) {
    for (const command of pipeline.commands) {
      const words = commandWords(command);
      const name = commandName(words);
      if (name === 'cd' && pipeline.commands.length === 1) {
        const target = words[1];
        // A directory reprokit cannot evaluate (HOME, the previous one, a variable): an npm install after it is refused, not guessed.
        if (!target || target.expanded || target.text === '-' || target.text.startsWith('~')) dir = '';
        else dir = posix.resolve(dir || '/', target.text);
        continue;
      }
      if (name !== 'npm') continue;
      if (words.some((word) => word.expanded)) {
        if (words.slice(1).some((word) => CI.has(word.text) || INSTALL.has(word.text))) fail(`RUN: ${words.map((w) => w.raw).join(' ')}: an expansion in an npm install reprokit does not evaluate; write the command out`);
        continue;
      }
      const text = words.map((word) => word.text);
      const install = npmInstall(text, dir, text.join(' '), fail);
      if (install) {
        if (!install.dir) fail(`RUN: ${install.command}: runs after a cd into a directory reprokit does not evaluate; cd to a written-out path (or set WORKDIR)`);
        installs.push(install);
      }
    }
  }
  return installs;
}

/** `npm [options] ci|install [options]` in `dir`: the install, undefined for any other npm command. */
function npmInstall(argv: string[], dir: string, command: string, fail: (message: string) => never): NpmInstall | undefined {
  if (posix.basename(argv[0] ?? '') !== 'npm') return undefined;
  let sub: string | undefined;
  const operands: string[] = [];
  let prefix: string | undefined;
  for (let i = 1; i < argv.length; i++) {
    const word = argv[i];
    if (word === '--') {
      operands.push(...argv.slice(i + 1));
      break;
    }
    if (word.startsWith('-') && word !== '-') {
      const [flag, inline] = word.split(/=(.*)/s);
      const value = inline ?? (VALUED.has(flag) ? argv[++i] : undefined);
      if ((flag === '--prefix' || flag === '-C') && value !== undefined) prefix = value;
      if (flag === '-g' || flag === '--global' || (flag === '--location' && value === 'global')) return undefined;
      continue;
    }
    if (sub === undefined) sub = word;
    else operands.push(word);
  }
  if (sub === undefined || (!CI.has(sub) && !INSTALL.has(sub))) return undefined;
  if (operands.length > 0) {
    if (CI.has(sub)) return undefined; // npm ci refuses operands itself
    fail(`RUN: ${command}: installs ${operands.join(' ')}, which no lockfile pins, and RUN has no network: add ${operands.length > 1 ? 'them' : 'it'} to package.json, run npm install on your machine, commit package-lock.json and RUN npm ci`);
  }
  return { dir: prefix === undefined ? dir : dir && posix.resolve(dir, prefix), command };
}
