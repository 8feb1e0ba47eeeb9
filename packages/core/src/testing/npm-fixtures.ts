import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Real tarballs from the npm registry, kept by integrity (test-fixtures/npm/README.md, with their licences). */
export const NPM_FIXTURES = join(__dirname, '..', '..', 'test-fixtures', 'npm');

/** file name -> dist.integrity, as the fixtures' README lists them. */
export function npmFixtures(): Map<string, string> {
  const table = readFileSync(join(NPM_FIXTURES, 'README.md'), 'utf8');
  return new Map([...table.matchAll(/^\| (\S+\.tgz) \| (sha512-\S+) \|/gm)].map((m) => [m[1], m[2]]));
}
