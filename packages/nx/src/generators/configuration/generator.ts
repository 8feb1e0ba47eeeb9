import { createProjectGraphAsync, type GeneratorCallback, type Tree } from '@nx/devkit';
import { spawnSync } from 'node:child_process';
import type { ConfigurationGeneratorSchema } from './schema';

function run(cwd: string, command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env: process.env });
  if (result.status !== 0) throw new Error(`\`${command} ${args.join(' ')}\` failed (exit ${result.status ?? result.signal}); fix what it says, then run the generator again`);
}

/**
 * `nx g @reprokit/nx:configuration <project>`: after the files are written, pins the images the
 * project's files name (`reprokit pins update`, where docker or a registry can resolve them), then
 * builds the project's artifacts and records its first repro-manifest.json (`checksum --update`).
 */
export default async function configurationGenerator(tree: Tree, options: ConfigurationGeneratorSchema): Promise<GeneratorCallback> {
  // The project graph, not project.json: reprokit's projects may be inferred from a Cargo.toml alone.
  const project = (await createProjectGraphAsync()).nodes[options.project]?.data;
  if (!project) throw new Error(`no project named ${JSON.stringify(options.project)} in this workspace (see \`nx show projects\`)`);
  return () => {
    const nx = require.resolve('nx/bin/nx.js', { paths: [tree.root] });
    if (!options.skipPins) {
      const reprokit = require.resolve('@reprokit/core/bin/reprokit.js');
      // Exit 1 only means some reference could not be resolved: it was reported, the rest pinned.
      spawnSync(process.execPath, [reprokit, 'pins', 'update', project.root], { cwd: tree.root, stdio: 'inherit' });
    }
    run(tree.root, process.execPath, [nx, 'run', `${options.project}:checksum`, '--update']);
  };
}
