import { symlinkSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A pacman repository beside the packages: `<repo>.db.tar.gz` and `<repo>.files.tar.gz` as
 * reprokit-makepkg left them in PKGDEST (written by repo-add, re-packed with the build date, root
 * as owner and sorted entries, so the same packages give the same bytes), and the `<repo>.db` and
 * `<repo>.files` links pacman reads. Both archives are artifacts the manifest records, so
 * `checksum` finds nothing unexpected; the links are not files it hashes.
 */
export function installRepository(
  repo: string,
  pkgdest: string,
  target: string,
  install: (from: string, file: string, name: string, kind: 'file') => string,
): string[] {
  return ['db', 'files'].map((kind) => {
    const archive = `${repo}.${kind}.tar.gz`;
    const file = install(join(pkgdest, archive), archive, `${repo}.${kind}`, 'file');
    symlinkSync(archive, join(target, `${repo}.${kind}`));
    return file;
  });
}
