import { posix } from 'node:path';

/**
 * Whether the repository itself makes NuGet restores reproducible, so that `dotnet restore` without
 * `--locked-mode` is pinned anyway (as OpenSSF Scorecard's post-processing accepts it):
 * - central package management (`ManagePackageVersionsCentrally` in a Directory.*.props) with every
 *   `PackageVersion` fixed to one version (`[1.2.3]`); or
 * - every project file (.csproj, .fsproj, .vbproj) in locked mode: `<RestoreLockedMode>true` in the
 *   project, or in a Directory.Build.props of its directory or above (which MSBuild imports).
 */
export function nugetRestoreLockedByRepository(files: readonly string[], read: (path: string) => string | undefined): boolean {
  const props = files.filter((file) => /^directory\..*\.props$/i.test(posix.basename(file)));
  for (const file of props) {
    const text = read(file) ?? '';
    if (!/<ManagePackageVersionsCentrally>\s*true\s*<\/ManagePackageVersionsCentrally>/i.test(text)) continue;
    const versions = [...text.matchAll(/<PackageVersion\b[^>]*\bVersion\s*=\s*"([^"]*)"/gi)].map((match) => match[1].trim());
    if (versions.length > 0 && versions.every((version) => /^\[[^[,\]]+\]$/.test(version))) return true;
  }
  const projects = files.filter((file) => /\.(cs|fs|vb)proj$/i.test(file));
  if (projects.length === 0) return false;
  const locked = (text: string | undefined) => /<RestoreLockedMode>\s*true\s*<\/RestoreLockedMode>/i.test(text ?? '');
  const lockedDirs = new Set(files.filter((file) => /^directory\.build\.props$/i.test(posix.basename(file)) && locked(read(file))).map((file) => posix.dirname(file)));
  return projects.every((project) => {
    if (locked(read(project))) return true;
    for (let dir = posix.dirname(project); ; dir = posix.dirname(dir)) {
      if (lockedDirs.has(dir)) return true;
      if (dir === '.' || dir === '/') return false;
    }
  });
}
