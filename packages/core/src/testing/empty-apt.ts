import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './fixtures';

/**
 * An APT_CONFIG file for apt with an empty index: the real apt-get and apt-cache, knowing no
 * package, so every locked version is one "apt no longer offers" (as after Debian's archive drops
 * superseded versions).
 */
export function emptyAptConfig(): string {
  const dir = tempDir('reprokit-apt-');
  for (const sub of ['lists/partial', 'cache/archives/partial', 'sources.list.d']) mkdirSync(join(dir, sub), { recursive: true });
  writeFileSync(join(dir, 'sources.list'), '');
  writeFileSync(join(dir, 'status'), '');
  const conf = join(dir, 'apt.conf');
  const settings = {
    'Dir::State::Lists': `${dir}/lists`,
    'Dir::State::status': `${dir}/status`,
    'Dir::Cache': `${dir}/cache`,
    'Dir::Etc::SourceList': `${dir}/sources.list`,
    'Dir::Etc::SourceParts': `${dir}/sources.list.d`,
  };
  writeFileSync(conf, Object.entries(settings).map(([key, value]) => `${key} "${value}";\n`).join(''));
  return conf;
}
