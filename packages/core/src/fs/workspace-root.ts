import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * The workspace a file belongs to: the nearest directory up from `dir` holding nx.json or .git (as
 * the keep store finds it), else `dir` itself. Paths a manifest names (file:// locations) stay inside it.
 */
export function workspaceRootOf(dir: string): string {
  const start = resolve(dir);
  for (let at = start; ; at = dirname(at)) {
    if (existsSync(join(at, 'nx.json')) || existsSync(join(at, '.git'))) return at;
    if (dirname(at) === at) return start;
  }
}
