import { basename, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { UserError } from '../errors';
import { sourceDateEpochFromGit } from '../git';
import { MANIFEST_FILE } from '../manifest/manifest';
import { rustContainerCommand } from '../build/rust-container-build';
import { varyCommandBuild, type VaryCommandBuild } from './kinds/container-vary';
import { renderVaryReport, varyPassed } from './report';
import { varyResultDocuments, writeVaryResultFiles } from './result-file';
import { VARIATION_NAMES, type VariationName } from './variations';

/** `--variations a,b`: known names only. */
export function parseVariationList(text: string, where: string): VariationName[] {
  const names = text.split(',').map((name) => name.trim()).filter(Boolean);
  for (const name of names) {
    if (!(VARIATION_NAMES as readonly string[]).includes(name)) throw new UserError(`${where}: unknown variation ${JSON.stringify(name)} (one of ${VARIATION_NAMES.join(', ')})`);
  }
  if (!names.length) throw new UserError(`${where}: name at least one variation`);
  return names as VariationName[];
}

/** Where a project's vary builds keep their outputs (below target/, which builds already ignore). */
export function varyWorkDir(projectDir: string, label: string): string {
  return resolve(projectDir, 'target', 'reprokit-vary', label.replace(/[^A-Za-z0-9._-]/g, '_'));
}

/**
 * `reprokit vary`: one command build (cargo or any command) under variations, without Nx. Exit 0
 * when every artifact reproduces, 1 when one differs, 2 on bad usage.
 */
export async function varyCommand(args: string[], usage: (message: string) => Error): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      image: { type: 'string' },
      'env-lock': { type: 'string' },
      'project-dir': { type: 'string', default: '.' },
      cargo: { type: 'string' },
      target: { type: 'string', default: 'x86_64-unknown-linux-gnu' },
      artifact: { type: 'string', multiple: true },
      variations: { type: 'string' },
      'source-date-epoch': { type: 'string' },
      'output-dir': { type: 'string', default: 'dist' },
      json: { type: 'boolean', default: false },
    },
    allowPositionals: true,
  });
  if (!values.image) throw usage('vary: --image NAME@sha256:… is required');
  if (!values.cargo === !positionals.length) throw usage('vary: give either --cargo BINARY or --artifact PATH -- COMMAND…');
  if (positionals.length && !values.artifact?.length) throw usage('vary: a command needs --artifact PATH (below /out) for each artifact it leaves');
  const projectDir = resolve(values['project-dir']);
  let epoch: number;
  if (values['source-date-epoch'] !== undefined) {
    if (!/^\d{1,12}$/.test(values['source-date-epoch'])) throw usage(`vary: --source-date-epoch: ${JSON.stringify(values['source-date-epoch'])} is not a number of seconds`);
    epoch = Number(values['source-date-epoch']);
  } else {
    epoch = sourceDateEpochFromGit(projectDir, [MANIFEST_FILE]);
  }
  const label = basename(projectDir);
  let spec: Pick<VaryCommandBuild, 'command' | 'env' | 'artifacts'>;
  if (values.cargo) {
    const cargo = rustContainerCommand({ binary: values.cargo, target: values.target });
    spec = { command: cargo.command, env: cargo.env, artifacts: [{ name: values.cargo, path: cargo.artifact }] };
  } else {
    spec = { command: positionals, artifacts: values.artifact!.map((path) => ({ name: basename(path), path })) };
  }
  const result = await varyCommandBuild(
    {
      ...spec,
      label,
      projectDir,
      image: values.image,
      envLock: values['env-lock'] && resolve(values['env-lock']),
      sourceDateEpoch: epoch,
      exclude: [values['output-dir'], 'target', MANIFEST_FILE],
      workDir: varyWorkDir(projectDir, label),
    },
    {
      variations: values.variations === undefined ? undefined : parseVariationList(values.variations, '--variations'),
      logPrefix: `[${label}:vary] `,
      log: (line) => process.stderr.write(line + '\n'),
    },
  );
  // Beside the build records of the output directory, as the Nx target leaves them.
  writeVaryResultFiles(resolve(projectDir, values['output-dir']), varyResultDocuments(result));
  process.stdout.write(values.json ? JSON.stringify([result], null, 2) + '\n' : renderVaryReport([result]));
  return varyPassed([result]) ? 0 : 1;
}
