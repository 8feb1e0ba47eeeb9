/**
 * The binary a Cargo.toml builds: the first `[[bin]]` name, else `[package] name`. Only the few
 * keys reprokit needs are read (a line-based look at TOML tables); a workspace-only manifest, with
 * no `[package]`, builds nothing by itself and gives undefined.
 */
export function cargoBinaryName(toml: string): string | undefined {
  let table = '';
  let packageName: string | undefined;
  for (const raw of toml.split('\n')) {
    const line = raw.replace(/(^|\s)#.*$/, '').trim();
    const header = /^\[\[?\s*([A-Za-z0-9_.-]+)\s*\]\]?$/.exec(line);
    if (header) {
      table = line.startsWith('[[') ? `[[${header[1]}]]` : header[1];
      continue;
    }
    const name = /^name\s*=\s*"([^"]+)"$/.exec(line)?.[1];
    if (!name) continue;
    if (table === '[[bin]]') return name;
    if (table === 'package') packageName ??= name;
  }
  return packageName;
}
