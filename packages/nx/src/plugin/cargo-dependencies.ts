import { type CreateDependencies, DependencyType, type RawProjectGraphDependency } from '@nx/devkit';
import { readCargoModel } from '@reprokit/core';

/**
 * Path dependencies between Cargo packages as edges of the Nx project graph, so that `nx affected`
 * and `dependsOn: ['^…']` follow them: a binary is affected when a library it uses changes.
 * Vendored crates and packages that are not projects give no edge.
 */
export const createCargoDependencies: CreateDependencies = (_options, context) => {
  const files = [...context.fileMap.nonProjectFiles, ...Object.values(context.fileMap.projectFileMap).flat()]
    .map((file) => file.file)
    .filter((file) => file === 'Cargo.toml' || file.endsWith('/Cargo.toml'));
  if (!files.length) return [];
  const model = readCargoModel(context.workspaceRoot, files);
  const projectAt = new Map<string, string>();
  for (const [key, project] of Object.entries(context.projects)) projectAt.set(project.root || '.', project.name ?? key);
  const dependencies: RawProjectGraphDependency[] = [];
  for (const pkg of model.packages.values()) {
    const source = projectAt.get(pkg.dir);
    if (!source) continue;
    for (const dep of pkg.pathDependencies) {
      const target = projectAt.get(dep);
      if (!target || target === source) continue;
      dependencies.push({ source, target, type: DependencyType.static, sourceFile: pkg.dir === '.' ? 'Cargo.toml' : `${pkg.dir}/Cargo.toml` });
    }
  }
  return dependencies;
};
