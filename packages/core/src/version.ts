import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** reprokit's own version, recorded in every paper trail. */
export const REPROKIT_VERSION: string = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')).version;
