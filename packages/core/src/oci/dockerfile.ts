import { UserError } from '../errors';
import { parseDockerfile as splitInstructions } from '../pins/dockerfile';
import { isPinnedImage } from '../pins/rules';
import { parseJsonForm, parseKeyValues, splitWords, UnsetVariableError, type Word } from './dockerfile-words';

/** Where a stage or a `COPY --from` takes its files from. */
export type ImageSource = { kind: 'scratch' } | { kind: 'image'; ref: string } | { kind: 'stage'; index: number };

export interface Owner {
  uid: number;
  gid: number;
}

export type StageInstruction =
  | { op: 'WORKDIR'; line: number; text: string; path: string }
  | { op: 'COPY'; line: number; text: string; from?: ImageSource; sources: string[]; dest: string; chown?: Owner; chmod?: number }
  | { op: 'RUN'; line: number; text: string; argv: string[]; shell: boolean; args: Record<string, string> }
  | { op: 'ENV'; line: number; text: string; vars: [string, string][] }
  | { op: 'LABEL'; line: number; text: string; labels: [string, string][] }
  | { op: 'USER'; line: number; text: string; user: string }
  | { op: 'EXPOSE'; line: number; text: string; ports: string[] }
  | { op: 'ENTRYPOINT' | 'CMD'; line: number; text: string; argv: string[]; shell: boolean };

export interface Stage {
  index: number;
  name?: string;
  from: ImageSource;
  line: number;
  instructions: StageInstruction[];
}

export interface DockerfilePlan {
  file: string;
  stages: Stage[];
}

/** The only platform reprokit builds for; `--platform` may name it (or the BuildKit variables that mean it). */
const PLATFORM = 'linux/amd64';
const PLATFORM_ARGS = new Map([
  ['BUILDPLATFORM', PLATFORM],
  ['TARGETPLATFORM', PLATFORM],
  ['TARGETOS', 'linux'],
  ['TARGETARCH', 'amd64'],
]);

const WHY_UNSUPPORTED: Record<string, string> = {
  ADD: 'ADD downloads and unpacks implicitly; use COPY for files of the build context',
  ONBUILD: 'ONBUILD runs instructions in someone else’s build',
  HEALTHCHECK: 'HEALTHCHECK is not supported by reprokit’s image writer',
  VOLUME: 'VOLUME is not supported by reprokit’s image writer',
  SHELL: 'SHELL is not supported: RUN, CMD and ENTRYPOINT shell forms use /bin/sh -c',
  STOPSIGNAL: 'STOPSIGNAL is not supported by reprokit’s image writer',
  MAINTAINER: 'MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors=…',
};

/**
 * Reads a Dockerfile into build stages whose instructions have their variables expanded and their
 * flags checked. Every instruction is either understood or refused with `Dockerfile:LINE` and why:
 * nothing is skipped. `FROM` must name an image pinned by digest, `scratch` or an earlier stage.
 */
export function planDockerfile(text: string, file: string, buildArgs: Record<string, string> = {}): DockerfilePlan {
  const globalArgs = new Map<string, string>(PLATFORM_ARGS);
  const declared = new Set<string>();
  const stages: Stage[] = [];
  let stageArgs = new Map<string, string>();
  let stageEnv = new Map<string, string>();
  const fail = (line: number, message: string): never => {
    throw new UserError(`${file}:${line}: ${message}`);
  };
  const scope = () => new Map([...stageArgs, ...stageEnv]);

  for (const instruction of splitInstructions(text)) {
    const line = instruction.args.positionAt(0).line;
    const argsText = instruction.args.text.trim();
    const keyword = instruction.keyword;
    const shown = `${keyword} ${argsText}`.trim().replace(/\s+/g, ' ');
    const words = (vars: ReadonlyMap<string, string>): Word[] => {
      try {
        return splitWords(argsText, vars);
      } catch (error) {
        if (error instanceof UnsetVariableError) return fail(line, `${keyword}: ${error.message}`);
        throw error;
      }
    };
    if (instruction.heredocs.length > 0) fail(line, `${keyword} with a heredoc is not supported: put the script in a file of the build context and COPY it`);
    if (WHY_UNSUPPORTED[keyword]) fail(line, WHY_UNSUPPORTED[keyword]);

    if (keyword === 'ARG') {
      const target = stages.length === 0 ? globalArgs : stageArgs;
      for (const word of words(stages.length === 0 ? globalArgs : scope())) {
        const eq = word.value.indexOf('=');
        const name = eq < 0 ? word.value : word.value.slice(0, eq);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(line, `ARG: \`${name}\` is not a variable name`);
        declared.add(name);
        const value = buildArgs[name] ?? (eq < 0 ? (stages.length > 0 ? globalArgs.get(name) : undefined) : word.value.slice(eq + 1));
        if (value !== undefined) target.set(name, value);
      }
      continue;
    }
    if (keyword === 'FROM') {
      const { flags, rest } = takeFlags(words(globalArgs), ['--platform'], line, fail);
      if (flags.has('--platform') && flags.get('--platform') !== PLATFORM) fail(line, `FROM --platform=${flags.get('--platform')}: reprokit builds ${PLATFORM} images only`);
      if (rest.length !== 1 && !(rest.length === 3 && rest[1].value.toLowerCase() === 'as')) fail(line, 'FROM takes an image and optionally `AS name`');
      const name = rest[2]?.value.toLowerCase();
      if (name !== undefined && stages.some((stage) => stage.name === name)) fail(line, `FROM … AS ${name}: a stage of that name already exists`);
      stages.push({ index: stages.length, name, from: imageSource(rest[0].value, stages, line, fail, 'FROM '), line, instructions: [] });
      stageArgs = new Map();
      stageEnv = new Map();
      continue;
    }
    const stage = stages.at(-1) ?? fail(line, `${keyword} before the first FROM`);
    const add = (planned: StageInstruction) => stage.instructions.push(planned);

    switch (keyword) {
      case 'WORKDIR': {
        const list = words(scope());
        if (list.length !== 1) fail(line, 'WORKDIR takes one path');
        add({ op: 'WORKDIR', line, text: shown, path: list[0].value });
        break;
      }
      case 'COPY': {
        const { flags, rest } = takeFlags(words(scope()), ['--from', '--chown', '--chmod', '--link'], line, fail);
        // The JSON form (`COPY ["a b", "/c"]`) after the flags; its strings are not expanded.
        const json = rest.length > 0 ? parseJsonForm(argsText.slice(rest[0].offset)) : undefined;
        const paths = json ?? rest.map((word) => word.value);
        if (paths.length < 2) fail(line, 'COPY takes at least one source and a destination');
        const sources = paths.slice(0, -1);
        for (const source of sources) {
          if (/[*?[]/.test(source)) fail(line, `COPY ${source}: wildcards are not supported; name the files`);
        }
        const from = flags.get('--from');
        add({
          op: 'COPY',
          line,
          text: shown,
          from: from === undefined ? undefined : imageSource(from, stages.slice(0, -1), line, fail, 'COPY --from='),
          sources,
          dest: paths.at(-1)!,
          chown: flags.has('--chown') ? parseOwner(flags.get('--chown')!, line, fail) : undefined,
          chmod: flags.has('--chmod') ? parseMode(flags.get('--chmod')!, line, fail) : undefined,
        });
        break;
      }
      case 'RUN': {
        if (/^--/.test(argsText)) fail(line, `RUN ${argsText.split(/\s/)[0]}: RUN flags are not supported (builds have no network and no mounts)`);
        const json = parseJsonForm(argsText);
        if (!json && argsText === '') fail(line, 'RUN needs a command');
        add({ op: 'RUN', line, text: shown, argv: json ?? [argsText], shell: !json, args: Object.fromEntries(stageArgs) });
        break;
      }
      case 'ENV':
      case 'LABEL': {
        let pairs: [string, string][] = [];
        try {
          pairs = parseKeyValues(argsText, scope());
        } catch (error) {
          fail(line, `${keyword}: ${(error as Error).message}`);
        }
        if (pairs.length === 0) fail(line, `${keyword} needs KEY=value`);
        if (keyword === 'ENV') {
          for (const [key, value] of pairs) stageEnv.set(key, value);
          add({ op: 'ENV', line, text: shown, vars: pairs });
        } else add({ op: 'LABEL', line, text: shown, labels: pairs });
        break;
      }
      case 'USER': {
        const list = words(scope());
        if (list.length !== 1) fail(line, 'USER takes one user[:group]');
        add({ op: 'USER', line, text: shown, user: list[0].value });
        break;
      }
      case 'EXPOSE': {
        const ports = words(scope()).map((word) => word.value);
        for (const port of ports) if (!/^\d+(\/(tcp|udp|sctp))?$/.test(port)) fail(line, `EXPOSE ${port}: not PORT or PORT/PROTOCOL`);
        if (ports.length === 0) fail(line, 'EXPOSE needs a port');
        add({ op: 'EXPOSE', line, text: shown, ports: ports.map((port) => (port.includes('/') ? port : `${port}/tcp`)) });
        break;
      }
      case 'ENTRYPOINT':
      case 'CMD': {
        const json = parseJsonForm(argsText);
        add({ op: keyword, line, text: shown, argv: json ?? (argsText === '' ? [] : ['/bin/sh', '-c', argsText]), shell: !json });
        break;
      }
      default:
        fail(line, `${keyword} is not a Dockerfile instruction`);
    }
  }
  if (stages.length === 0) throw new UserError(`${file}: no FROM instruction`);
  const unknown = Object.keys(buildArgs).filter((name) => !declared.has(name));
  if (unknown.length > 0) throw new UserError(`${file}: build argument ${unknown.join(', ')} is not declared by any ARG`);
  return { file, stages };
}

function takeFlags(list: Word[], allowed: string[], line: number, fail: (line: number, message: string) => never): { flags: Map<string, string>; rest: Word[] } {
  const flags = new Map<string, string>();
  let i = 0;
  for (; i < list.length && list[i].value.startsWith('--'); i++) {
    const [name, value] = list[i].value.split(/=(.*)/s);
    if (!allowed.includes(name)) fail(line, `${name} is not supported here (supported: ${allowed.join(', ')})`);
    flags.set(name, value ?? '');
  }
  return { flags, rest: list.slice(i) };
}

function imageSource(value: string, stages: Stage[], line: number, fail: (line: number, message: string) => never, what: string): ImageSource {
  if (value.toLowerCase() === 'scratch') return { kind: 'scratch' };
  const named = stages.find((stage) => stage.name === value.toLowerCase());
  if (named) return { kind: 'stage', index: named.index };
  if (/^\d+$/.test(value)) {
    if (Number(value) < stages.length) return { kind: 'stage', index: Number(value) };
    return fail(line, `${what}${value}: there is no earlier stage ${value}`);
  }
  if (!isPinnedImage(value) || !/@sha256:[0-9a-f]{64}$/.test(value)) {
    return fail(line, `${what}${value}: the image is not pinned by digest (use name@sha256:<64 hex>)`);
  }
  return { kind: 'image', ref: value };
}

function parseOwner(value: string, line: number, fail: (line: number, message: string) => never): Owner {
  const match = /^(\d+)(?::(\d+))?$/.exec(value);
  if (!match) return fail(line, `--chown=${value}: give numeric uid[:gid] (names depend on the image's /etc/passwd)`);
  return { uid: Number(match[1]), gid: Number(match[2] ?? match[1]) };
}

function parseMode(value: string, line: number, fail: (line: number, message: string) => never): number {
  if (!/^[0-7]{3,4}$/.test(value)) return fail(line, `--chmod=${value}: give an octal mode such as 0755`);
  return parseInt(value, 8);
}

