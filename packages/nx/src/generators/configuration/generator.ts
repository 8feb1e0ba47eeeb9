import { createProjectGraphAsync, joinPathFragments, type GeneratorCallback, type Tree } from '@nx/devkit';
import { MANIFEST_FILE } from '@reprokit/core';
import { spawnSync } from 'node:child_process';
import type { ConfigurationGeneratorSchema } from './schema';

function run(cwd: string, command: string, args: string[]): void {
  const result = spawnSync(command, args, { cwd, stdio: 'inherit', env: process.env });
  if (result.status !== 0) throw new Error(`\`${command} ${args.join(' ')}\` failed (exit ${result.status ?? result.signal}); fix what it says, then run the generator again`);
}

/**
 * A package.json that is not private makes the project an npm package: the plugin infers its `npm`
 * target once the project has a manifest, so the generator starts one with no artifacts, and
 * `checksum --update` (which depends on the npm target) packs and records the tarball.
 */
function startNpmManifest(tree: Tree, name: string, root: string): void {
  const manifest = joinPathFragments(root, MANIFEST_FILE);
  const packageJson = joinPathFragments(root, 'package.json');
  if (root === '.' || tree.exists(manifest) || !tree.exists(packageJson)) return;
  let pkg: { private?: unknown; name?: unknown; version?: unknown };
  try {
    pkg = JSON.parse(tree.read(packageJson, 'utf-8')!);
  } catch {
    return; // Not a package npm could pack; the other targets say what is wrong with the project.
  }
  if (pkg.private === true || typeof pkg.name !== 'string' || typeof pkg.version !== 'string') return;
  tree.write(manifest, JSON.stringify({ manifestVersion: 1, project: name, outputDir: 'dist', artifacts: [] }, null, 2) + '\n');
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
  startNpmManifest(tree, options.project, project.root);
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
