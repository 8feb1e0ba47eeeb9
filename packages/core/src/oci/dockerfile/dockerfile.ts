import { UserError } from '../../errors';
import { parseDockerfile as splitInstructions } from '../../pins/files/dockerfile';
import { isPinnedImage } from '../../pins/rules';
import { expandText, parseJsonForm, parseKeyValues, splitWords, UnsetVariableError, type Word } from './dockerfile-words';
import { heredocsOf, runHeredocCommand, type Heredoc } from './dockerfile-heredoc';
import { parseHealthcheck, type Healthcheck } from './dockerfile-healthcheck';
import { parseRunMount, type RunMount } from './dockerfile-mount';
import type { RuntimeConfig } from '../layout/image-files';

/** Where a stage or a `COPY --from` takes its files from. */
export type ImageSource = { kind: 'scratch' } | { kind: 'image'; ref: string } | { kind: 'stage'; index: number };

export interface Owner {
  uid: number;
  gid: number;
}

/** One source of COPY or ADD: a path (of the context or of `--from`, maybe a wildcard), a URL (ADD), or a heredoc. */
export type CopySource = { kind: 'path'; path: string } | { kind: 'url'; url: string } | { kind: 'heredoc'; name: string; content: string };

export type StageInstruction =
  | { op: 'WORKDIR'; line: number; text: string; path: string }
  | {
      op: 'COPY' | 'ADD';
      line: number;
      text: string;
      from?: ImageSource;
      sources: CopySource[];
      dest: string;
      chown?: Owner;
      chmod?: number;
      /** ADD of a URL: the sha256 the download must have (`sha256:<hex>`). */
      checksum?: string;
    }
  | {
      op: 'RUN';
      line: number;
      text: string;
      /** What the container executes (the shell form already wrapped in the stage's SHELL). */
      argv: string[];
      /** True when argv is the default `/bin/sh -c <script>`: reprokit then sets umask 022 in the script. */
      defaultShell: boolean;
      args: Record<string, string>;
      mounts: RunMount[];
      /** Files a heredoc with a `#!` line becomes, mounted read-only under /dev/pipes/ (as BuildKit does). */
      files: Heredoc[];
    }
  | { op: 'ENV'; line: number; text: string; vars: [string, string][] }
  | { op: 'LABEL'; line: number; text: string; labels: [string, string][] }
  | { op: 'USER'; line: number; text: string; user: string }
  | { op: 'EXPOSE'; line: number; text: string; ports: string[] }
  | { op: 'SHELL'; line: number; text: string; shell: string[] }
  | { op: 'VOLUME'; line: number; text: string; volumes: string[] }
  | { op: 'STOPSIGNAL'; line: number; text: string; signal: string }
  | { op: 'HEALTHCHECK'; line: number; text: string; healthcheck: Healthcheck }
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
  /** Pinned images the Dockerfile names (FROM, COPY --from, RUN --mount from=), in order of appearance. */
  images: string[];
  /** Those that stages are built FROM (known before any variable a base image sets). */
  fromImages: string[];
}

export interface PlanOptions {
  buildArgs?: Record<string, string>;
  /**
   * The config of a pinned image: its `Env` seeds variable expansion in stages built FROM it (so
   * `ENV PATH=$PATH:/x` works as with docker build). Without it (the validation pass, before any
   * image is at hand) an instruction using a variable that only the base image could set is
   * checked again once the images are known.
   */
  baseConfig?: (ref: string) => RuntimeConfig;
}

/** The only platform reprokit builds for; `--platform` may name it (or the BuildKit variables that mean it). */
const PLATFORM = 'linux/amd64';
const PLATFORM_ARGS = new Map([
  ['BUILDPLATFORM', PLATFORM],
  ['TARGETPLATFORM', PLATFORM],
  ['BUILDOS', 'linux'],
  ['BUILDARCH', 'amd64'],
  ['TARGETOS', 'linux'],
  ['TARGETARCH', 'amd64'],
  ['TARGETVARIANT', ''],
]);

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

const WHY_UNSUPPORTED: Record<string, string> = {
  ONBUILD: 'ONBUILD is refused: it would run instructions in the build of whoever uses this image as a base, unseen by them; do the work here instead',
  MAINTAINER: 'MAINTAINER is deprecated: use LABEL org.opencontainers.image.authors=…',
};

/** Thrown while validating when a word uses a variable that only the (not yet known) base image could set. */
class Deferred extends Error {}

/**
 * Reads a Dockerfile into build stages whose instructions have their variables expanded and their
 * flags checked. Every instruction is either understood or refused with `Dockerfile:LINE` and why:
 * nothing is skipped, and everything that can be refused is refused here, before anything is built.
 * `FROM` must name an image pinned by digest, `scratch` or an earlier stage.
 */
export function planDockerfile(text: string, file: string, options: PlanOptions = {}): DockerfilePlan {
  const buildArgs = options.buildArgs ?? {};
  const globalArgs = new Map<string, string>(PLATFORM_ARGS);
  const declared = new Set<string>();
  const stages: Stage[] = [];
  const images: string[] = [];
  const fromImages: string[] = [];
  // Per stage: its environment (what ENV set, seeded from its base) and its SHELL; a stage FROM another continues both.
  const stageEnvs: Map<string, string>[] = [];
  const stageShells: string[][] = [];
  const stageOnScratch: boolean[] = [];
  const stageEnvUnknown: boolean[] = [];
  let stageArgs = new Map<string, string>();
  let stageEnv = new Map<string, string>();
  let shell = DEFAULT_SHELL;
  // Unknown while validating: the base image's environment.
  let envUnknown = false;
  const fail = (line: number, message: string): never => {
    throw new UserError(`${file}:${line}: ${message}`);
  };
  const scope = () => new Map([...stageArgs, ...stageEnv]);
  const useImage = (ref: string) => {
    if (!images.includes(ref)) images.push(ref);
  };

  for (const instruction of splitInstructions(text)) {
    const line = instruction.args.positionAt(0).line;
    const argsText = instruction.args.text.trim();
    const keyword = instruction.keyword;
    const shown = `${keyword} ${argsText}`.trim().replace(/\s+/g, ' ');
    const expand = <T>(compute: () => T, inStage = true): T => {
      try {
        return compute();
      } catch (error) {
        if (error instanceof UnsetVariableError) {
          if (inStage && envUnknown) throw new Deferred();
          return fail(line, `${keyword}: ${error.message}`);
        }
        throw error;
      }
    };
    const words = (vars: ReadonlyMap<string, string>, inStage = true): Word[] => expand(() => splitWords(argsText, vars), inStage);
    if (WHY_UNSUPPORTED[keyword]) fail(line, WHY_UNSUPPORTED[keyword]);
    if (instruction.heredocs.length > 0 && !['RUN', 'COPY', 'ADD'].includes(keyword)) fail(line, `${keyword} does not take a heredoc`);

    if (keyword === 'ARG') {
      const target = stages.length === 0 ? globalArgs : stageArgs;
      try {
        for (const word of words(stages.length === 0 ? globalArgs : scope(), stages.length > 0)) {
          const eq = word.value.indexOf('=');
          const name = eq < 0 ? word.value : word.value.slice(0, eq);
          if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) fail(line, `ARG: \`${name}\` is not a variable name`);
          declared.add(name);
          const value = buildArgs[name] ?? (eq < 0 ? (stages.length > 0 ? globalArgs.get(name) : undefined) : word.value.slice(eq + 1));
          if (value !== undefined) target.set(name, value);
        }
      } catch (error) {
        if (!(error instanceof Deferred)) throw error;
      }
      continue;
    }
    if (keyword === 'FROM') {
      const { flags, rest } = takeFlags(words(globalArgs, false), ['--platform'], line, fail);
      if (flags.has('--platform') && flags.get('--platform') !== PLATFORM) fail(line, `FROM --platform=${flags.get('--platform')}: reprokit builds ${PLATFORM} images only`);
      if (rest.length !== 1 && !(rest.length === 3 && rest[1].value.toLowerCase() === 'as')) fail(line, 'FROM takes an image and optionally `AS name`');
      const name = rest[2]?.value.toLowerCase();
      if (name !== undefined && stages.some((stage) => stage.name === name)) fail(line, `FROM … AS ${name}: a stage of that name already exists`);
      const from = imageSource(rest[0].value, stages, line, fail, 'FROM ');
      stages.push({ index: stages.length, name, from, line, instructions: [] });
      stageArgs = new Map();
      if (from.kind === 'stage') {
        stageEnv = new Map(stageEnvs[from.index]);
        shell = stageShells[from.index];
        envUnknown = stageEnvUnknown[from.index];
        stageOnScratch.push(stageOnScratch[from.index]);
      } else if (from.kind === 'image') {
        useImage(from.ref);
        if (!fromImages.includes(from.ref)) fromImages.push(from.ref);
        const base = options.baseConfig?.(from.ref);
        if (base && base.OnBuild && base.OnBuild.length > 0) fail(line, `FROM ${from.ref}: the image has ONBUILD triggers, which reprokit does not run; build FROM an image without them`);
        stageEnv = new Map((base?.Env ?? []).map((item) => item.split(/=(.*)/s).slice(0, 2) as [string, string]));
        // Without the base's environment every variable a stage uses might come from it.
        envUnknown = !base;
        shell = base?.Shell && base.Shell.length > 0 ? base.Shell : DEFAULT_SHELL;
        stageOnScratch.push(false);
      } else {
        stageEnv = new Map();
        envUnknown = false;
        shell = DEFAULT_SHELL;
        stageOnScratch.push(true);
      }
      stageEnvs.push(stageEnv);
      stageShells.push(shell);
      stageEnvUnknown.push(envUnknown);
      continue;
    }
    const stage = stages.at(-1) ?? fail(line, `${keyword} before the first FROM`);
    const add = (planned: StageInstruction) => stage.instructions.push(planned);
    try {
      planInstruction();
    } catch (error) {
      if (!(error instanceof Deferred)) throw error;
    }
    stageShells[stage.index] = shell;

    function planInstruction(): void {
      switch (keyword) {
        case 'WORKDIR': {
          const list = words(scope());
          if (list.length !== 1) fail(line, 'WORKDIR takes one path');
          add({ op: 'WORKDIR', line, text: shown, path: list[0].value });
          break;
        }
        case 'COPY':
        case 'ADD': {
          const allowed = keyword === 'COPY' ? ['--from', '--chown', '--chmod', '--link'] : ['--chown', '--chmod', '--link', '--checksum'];
          const { flags, rest } = takeFlags(words(scope()), allowed, line, fail);
          // The JSON form (`COPY ["a b", "/c"]`) after the flags; its strings are not expanded.
          const json = rest.length > 0 ? parseJsonForm(argsText.slice(rest[0].offset)) : undefined;
          const paths = json ?? rest.map((word) => word.value);
          if (paths.length < 2) fail(line, `${keyword} takes at least one source and a destination`);
          const dest = paths.at(-1)!;
          const heredocs = heredocsOf(instruction.heredocs, argsText);
          const sources = paths.slice(0, -1).map((path): CopySource => {
            const heredoc = heredocs.find((doc) => `<<${doc.marker}` === path || `<<-${doc.marker}` === path);
            if (heredoc) return { kind: 'heredoc', name: heredoc.name, content: heredoc.expand ? expand(() => expandText(heredoc.content, scope())) : heredoc.content };
            if (/^[a-z][a-z0-9+.-]*:\/\//i.test(path) || /^git@/.test(path)) {
              if (keyword === 'COPY') fail(line, `COPY ${path}: COPY takes files of the build context; ADD downloads URLs`);
              if (!/^https?:\/\//i.test(path)) fail(line, `ADD ${path}: only http:// and https:// URLs are downloaded (git sources would need the network at build time)`);
              if (!flags.has('--checksum')) fail(line, `ADD ${path}: a download needs --checksum=sha256:<64 hex>, or the image depends on what the server sends that day`);
              return { kind: 'url', url: path };
            }
            return { kind: 'path', path };
          });
          const checksum = flags.get('--checksum');
          if (checksum !== undefined && !/^sha256:[0-9a-f]{64}$/.test(checksum)) fail(line, `--checksum=${checksum}: give sha256:<64 hex>`);
          if (checksum !== undefined && !sources.some((source) => source.kind === 'url')) fail(line, 'ADD --checksum verifies a download: name a URL');
          if (sources.length > 1 && !dest.endsWith('/')) fail(line, `${keyword} with several sources needs a destination ending in /`);
          const fromFlag = flags.get('--from');
          const from = fromFlag === undefined ? undefined : imageSource(fromFlag, stages.slice(0, -1), line, fail, 'COPY --from=');
          if (from?.kind === 'scratch') fail(line, 'COPY --from=scratch copies nothing');
          if (from?.kind === 'image') useImage(from.ref);
          add({
            op: keyword,
            line,
            text: shown,
            from,
            sources,
            dest,
            chown: flags.has('--chown') ? parseOwner(flags.get('--chown')!, line, fail) : undefined,
            chmod: flags.has('--chmod') ? parseMode(flags.get('--chmod')!, line, fail) : undefined,
            checksum,
          });
          break;
        }
        case 'RUN': {
          // Flags come before the command; their values are expanded, the command is not (the shell does that).
          let command = argsText;
          const mounts: RunMount[] = [];
          for (let flag = /^(--\S+)(\s+|$)/.exec(command); flag; flag = /^(--\S+)(\s+|$)/.exec(command)) {
            command = command.slice(flag[0].length);
            const [name, value] = expand(() => splitWords(flag![1], scope()))
              .map((word) => word.value)
              .join('')
              .split(/=(.*)/s);
            if (name === '--mount') mounts.push(parseRunMount(value ?? '', (message) => fail(line, `RUN --mount=${value}: ${message}`), (ref) => imageSource(ref, stages.slice(0, -1), line, fail, 'RUN --mount from=')));
            else if (name === '--network') {
              if (value !== 'none' && value !== 'default') fail(line, `RUN --network=${value}: builds have no network (only none, or default, which is none here)`);
            } else if (name === '--security') {
              if (value !== 'sandbox') fail(line, `RUN --security=${value}: RUN is never privileged`);
            } else fail(line, `RUN ${name}: not a RUN flag reprokit knows (supported: --mount, --network=none)`);
          }
          for (const mount of mounts) if (mount.from?.kind === 'image') useImage(mount.from.ref);
          const json = parseJsonForm(command);
          if (!json && command === '') fail(line, 'RUN needs a command');
          const heredocs = heredocsOf(instruction.heredocs, command);
          if (json && heredocs.length > 0) fail(line, 'RUN in JSON form does not take a heredoc');
          // docker runs a JSON-form RUN in a stage FROM scratch (`RUN ["/jq", "--version"]`); the shell form needs a shell.
          if (stageOnScratch[stage.index] && (!json || heredocs.length > 0)) fail(line, 'RUN in shell form needs /bin/sh, and this stage is built FROM scratch: use the JSON form to run a program the stage holds');
          const script = heredocs.length > 0 ? runHeredocCommand(command, heredocs) : { script: command, files: [] as Heredoc[] };
          if (script.files.length > 0) {
            add({ op: 'RUN', line, text: shown, argv: script.files.map((doc) => `/dev/pipes/${doc.name}`), defaultShell: false, args: Object.fromEntries(stageArgs), mounts, files: script.files });
          } else if (json) {
            add({ op: 'RUN', line, text: shown, argv: json, defaultShell: false, args: Object.fromEntries(stageArgs), mounts, files: [] });
          } else {
            add({ op: 'RUN', line, text: shown, argv: [...shell, script.script], defaultShell: shell === DEFAULT_SHELL, args: Object.fromEntries(stageArgs), mounts, files: [] });
          }
          break;
        }
        case 'ENV':
        case 'LABEL': {
          const pairs = expand(() => {
            try {
              return parseKeyValues(argsText, scope());
            } catch (error) {
              if (error instanceof UnsetVariableError) throw error;
              return fail(line, `${keyword}: ${(error as Error).message}`);
            }
          });
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
          for (const port of ports) if (!/^\d+(-\d+)?(\/(tcp|udp|sctp))?$/i.test(port)) fail(line, `EXPOSE ${port}: not PORT or PORT/PROTOCOL`);
          if (ports.length === 0) fail(line, 'EXPOSE needs a port');
          add({ op: 'EXPOSE', line, text: shown, ports: ports.map((port) => (port.includes('/') ? port.toLowerCase() : `${port}/tcp`)) });
          break;
        }
        case 'SHELL': {
          const json = parseJsonForm(argsText);
          if (!json || json.length === 0) fail(line, 'SHELL takes the JSON form, e.g. SHELL ["/bin/bash", "-o", "pipefail", "-c"]');
          shell = json!;
          add({ op: 'SHELL', line, text: shown, shell: json! });
          break;
        }
        case 'VOLUME': {
          const json = parseJsonForm(argsText);
          const volumes = json ?? words(scope()).map((word) => word.value);
          if (volumes.length === 0 || volumes.some((volume) => volume.trim() === '')) fail(line, 'VOLUME needs a path');
          add({ op: 'VOLUME', line, text: shown, volumes });
          break;
        }
        case 'STOPSIGNAL': {
          const list = words(scope());
          if (list.length !== 1 || !/^(SIG[A-Z0-9+-]+|[A-Z][A-Z0-9+-]*|\d+)$/.test(list[0].value)) fail(line, 'STOPSIGNAL takes one signal, e.g. SIGTERM or 15');
          add({ op: 'STOPSIGNAL', line, text: shown, signal: list[0].value });
          break;
        }
        case 'HEALTHCHECK': {
          add({ op: 'HEALTHCHECK', line, text: shown, healthcheck: parseHealthcheck(argsText, (message) => fail(line, `HEALTHCHECK: ${message}`)) });
          break;
        }
        case 'ENTRYPOINT':
        case 'CMD': {
          const json = parseJsonForm(argsText);
          add({ op: keyword, line, text: shown, argv: json ?? (argsText === '' ? [] : [...shell, argsText]), shell: !json });
          break;
        }
        default:
          fail(line, `${keyword} is not a Dockerfile instruction`);
      }
    }
  }
  if (stages.length === 0) throw new UserError(`${file}: no FROM instruction`);
  const unknown = Object.keys(buildArgs).filter((name) => !declared.has(name));
  if (unknown.length > 0) throw new UserError(`${file}: build argument ${unknown.join(', ')} is not declared by any ARG`);
  return { file, stages, images, fromImages };
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

export function imageSource(value: string, stages: Stage[], line: number, fail: (line: number, message: string) => never, what: string): ImageSource {
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

export function parseOwner(value: string, line: number, fail: (line: number, message: string) => never): Owner {
  const match = /^(\d+)(?::(\d+))?$/.exec(value);
  if (!match) return fail(line, `--chown=${value}: give numeric uid[:gid] (names depend on the image's /etc/passwd)`);
  return { uid: Number(match[1]), gid: Number(match[2] ?? match[1]) };
}

function parseMode(value: string, line: number, fail: (line: number, message: string) => never): number {
  if (!/^[0-7]{3,4}$/.test(value)) return fail(line, `--chmod=${value}: give an octal mode such as 0755`);
  return parseInt(value, 8);
}
