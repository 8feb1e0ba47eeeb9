import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { LockedPackage } from '../../env/build-env';
import { UserError } from '../../errors';
import { readJsonFile, writeFileAtomic } from '../../manifest/json-file';
import { schemaChecker } from '../../manifest/json-schema';
import { orderedLockedPackages } from '../../env/debs/locked-packages';
import { compareStrings } from '../../manifest/manifest';
import type { AptInstall } from './apt-installs';
import type { DockerfileLock, LockedInstall } from './dockerfile-lock-types';

export type { DockerfileLock, LockedInstall } from './dockerfile-lock-types';

const checkLock = schemaChecker<DockerfileLock>('dockerfile-lock.schema.json');

/** The lock of a Dockerfile's package installs: `<Dockerfile>.lock.json` beside it. */
export const dockerfileLockPath = (dockerfile: string) => `${dockerfile}.lock.json`;

export async function readDockerfileLock(path: string): Promise<DockerfileLock> {
  return checkLock(await readJsonFile(path), path);
}

/** The lock as committed: installs in line order, packages by name, keys in schema order. */
export function serializeDockerfileLock(lock: DockerfileLock): string {
  const ordered: DockerfileLock = {
    lockVersion: 1,
    architecture: lock.architecture,
    suites: lock.suites,
    installs: [...lock.installs]
      .sort((a, b) => a.line - b.line || compareStrings(a.command, b.command))
      .map((install) => ({
        line: install.line,
        command: install.command,
        base: install.base,
        packages: orderedLockedPackages(install.packages),
      })),
  };
  return JSON.stringify(ordered, null, 2) + '\n';
}

export function writeDockerfileLock(path: string, lock: DockerfileLock): void {
  writeFileAtomic(path, serializeDockerfileLock(lock));
}

/** The command that (re)writes the lock, for messages. */
export const lockCommand = (dockerfile: string) => `reprokit oci lock ${dockerfile}`;

/**
 * The lock's entry for an install of the Dockerfile, or a one-line error naming `Dockerfile:LINE`
 * and the command that locks it: no lock, no entry for the line, another command, another base.
 */
export function lockedInstall(lock: DockerfileLock | undefined, lockPath: string, where: string, line: number, install: AptInstall, base: string): LockedInstall {
  const fix = `run \`${lockCommand(where)}\``;
  const at = `${where}:${line}`;
  if (!lock) throw new UserError(`${at}: RUN ${install.command}: installs Debian packages and ${basename(lockPath)} does not exist (reprokit builds offline from locked packages): ${fix}`);
  const entries = lock.installs.filter((entry) => entry.line === line);
  const entry = entries.find((candidate) => candidate.command === install.command);
  if (!entry) {
    const locked = entries.length ? ` (it locks \`${entries[0].command}\` there)` : lock.installs.some((other) => other.command === install.command) ? ' (it locks that command at another line)' : '';
    throw new UserError(`${at}: RUN ${install.command}: not in ${basename(lockPath)}${locked}: ${fix}`);
  }
  if (entry.base !== base) throw new UserError(`${at}: RUN ${install.command}: ${basename(lockPath)} resolved it against ${entry.base}, but the stage is built FROM ${base}: ${fix}`);
  return entry;
}

export function asLockedPackages(install: LockedInstall): LockedPackage[] {
  return install.packages as LockedPackage[];
}

/**
 * A flat apt repository (`deb [trusted=yes] file:DIR ./`) of the given .debs: each linked in by its
 * pool name and a `Packages` index of their control fields with Filename, Size and SHA256, which is
 * all apt reads from a flat repository without a Release file.
 */
export function writeFlatRepository(dir: string, packages: LockedPackage[], debs: Map<string, string>, link: (from: string, to: string) => void): void {
  const stanzas: string[] = [];
  for (const p of [...packages].sort((a, b) => compareStrings(a.name, b.name))) {
    const file = debs.get(p.name)!;
    const name = basename(p.filename);
    link(file, join(dir, name));
    const control = spawnSync('dpkg-deb', ['--field', file], { encoding: 'utf8', maxBuffer: 16 << 20 });
    if (control.status !== 0) throw new UserError(`${file}: dpkg-deb cannot read its control file (${control.stderr.trim() || `exit ${control.status}`})`);
    stanzas.push(`${control.stdout.trimEnd()}\nFilename: ./${name}\nSize: ${p.size}\nSHA256: ${p.sha256}\n`);
  }
  writeFileSync(join(dir, 'Packages'), stanzas.join('\n'));
}

/** Reads a file if it exists (the lock is optional until a RUN installs packages). */
export async function readDockerfileLockIfAny(path: string): Promise<DockerfileLock | undefined> {
  return existsSync(path) ? readDockerfileLock(path) : undefined;
}

