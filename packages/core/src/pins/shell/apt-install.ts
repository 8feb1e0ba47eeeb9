/**
 * `apt-get install` and `apt install` read from a command's words: shared by `pins` (an install
 * no lock covers is a finding) and reprokit's Dockerfile builds (which install locked packages offline).
 */

/** One `apt-get install` / `apt install`: the packages asked for and how. */
export interface AptInstall {
  /** The command as the lock records it: its words, variables expanded, joined by spaces. */
  command: string;
  /** Package names, maybe with `=VERSION` (as written). */
  packages: string[];
  /** --no-install-recommends (or -o APT::Install-Recommends=false). */
  noRecommends: boolean;
}

/** apt-get's options that take a value as the next word. */
const VALUED = new Set(['-o', '--option', '-c', '--config-file', '-t', '--target-release', '--default-release', '-a', '--host-architecture']);

/** The arguments after `install`, when the command is an install. */
export function aptInstall(words: string[]): AptInstall | undefined {
  let i = 1;
  let sub: string | undefined;
  for (; i < words.length; i++) {
    if (VALUED.has(words[i])) i++;
    else if (!words[i].startsWith('-')) {
      sub = words[i];
      break;
    }
  }
  if (sub !== 'install') return undefined;
  const packages: string[] = [];
  let noRecommends = false;
  for (let j = 1; j < words.length; j++) {
    const word = words[j];
    if (j === i) continue;
    if (VALUED.has(word)) {
      if (/^APT::Install-Recommends=("?)(false|0|no)\1$/i.test(words[j + 1] ?? '')) noRecommends = true;
      j++;
    } else if (word === '--no-install-recommends') noRecommends = true;
    else if (/^-o(APT::Install-Recommends=)?/.test(word) && /APT::Install-Recommends=("?)(false|0|no)\1$/i.test(word)) noRecommends = true;
    else if (!word.startsWith('-') && j > i) packages.push(word);
  }
  return { command: words.join(' '), packages, noRecommends };
}

