import type { TargetConfiguration } from '@nx/devkit';
import type { ElfExecutorSchema } from '../executors/elf/schema';
import { commitDateInput, MANIFEST_FILE, OUTPUT_DIR, type InputDefinition } from './targets';
import { recordOutputs } from './record-outputs';

/** An elf target a project.json declares with a `command` (a make project, …): what the plugin completes. */
export interface DeclaredCommandTarget {
  /** The target's name in project.json. */
  name: string;
  /** Its `binary` option: the artifact's name, so the output's file name. */
  binary: string;
  /** Its own `outputDir`, when it sets one. */
  outputDir?: string;
  /** Its own `envLock`, when it sets one (an input like the default's). */
  envLock?: string;
}

/** A binary name as the elf executor's schema allows it: one path component. */
const BINARY_NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/;
/** A relative path that stays inside the project (no `..`, not absolute). */
const INSIDE = /^(?!\/)(?!.*(^|\/)\.\.(\/|$))[^\0]+$/;

/**
 * The declared target the plugin completes, from project.json's options: only an elf target with a
 * `command` and a `binary` that is a plain name, whose outputDir and envLock stay inside the
 * project and workspace (they become Nx outputs and inputs, which Nx would otherwise write and read
 * wherever a project.json says). Undefined otherwise: the target then runs as declared.
 */
export function declaredCommandTarget(name: string, target: { executor?: string; options?: Record<string, unknown> }): DeclaredCommandTarget | undefined {
  const options = target.options ?? {};
  if (target.executor !== '@reprokit/nx:elf' || !Array.isArray(options.command)) return undefined;
  const { binary, outputDir, envLock } = options;
  if (typeof binary !== 'string' || !BINARY_NAME.test(binary)) return undefined;
  for (const path of [outputDir, envLock]) if (path !== undefined && (typeof path !== 'string' || !INSIDE.test(path))) return undefined;
  return { name, binary, outputDir: outputDir as string | undefined, envLock: envLock as string | undefined };
}

/**
 * The inferred half of an elf target that project.json declares with a `command`: the plugin's
 * `elfCommand` options as defaults (init pins the c-builder image there), complete inputs and
 * outputs, cached. Nx merges project.json's options over these (same executor), so a project
 * writes only what is its own: binary, command, artifact.
 *
 * The inputs are the whole project, build outputs and the manifest left out: a command build gets
 * the project's directory (read-only, or as a writable copy for in-tree builds), so any file in it
 * can change what the command does.
 */
export function commandElfTarget(root: string, declared: DeclaredCommandTarget, defaults: Partial<ElfExecutorSchema>, reprokitInputs: InputDefinition[]): TargetConfiguration {
  const outputDir = `{projectRoot}/${declared.outputDir ?? defaults.outputDir ?? OUTPUT_DIR}`;
  const inputs: InputDefinition[] = [
    '{projectRoot}/**/*',
    `!${outputDir}/**/*`,
    '!{projectRoot}/target/**/*',
    `!{projectRoot}/${MANIFEST_FILE}`,
    commitDateInput(root),
    ...((declared.envLock ?? defaults.envLock) ? [`{workspaceRoot}/${declared.envLock ?? defaults.envLock}`] : []),
    ...reprokitInputs,
  ];
  return {
    executor: '@reprokit/nx:elf',
    cache: true,
    inputs,
    outputs: [`${outputDir}/${declared.binary}`, ...recordOutputs(`${outputDir}/.reprokit/${declared.binary}`)],
    options: { ...defaults },
    metadata: {
      description: `Build the ${declared.binary} ELF binary with the project's command in the pinned builder image (no network)`,
      technologies: ['reprokit'],
    },
  };
}
