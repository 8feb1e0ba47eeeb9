import { copyFileSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LockedPackage } from '../../env/build-env';
import { fetchLockedDebs } from '../../env/debs/deb-cache';
import type { AptInstall } from '../apt/apt-installs';
import { asLockedPackages, dockerfileLockPath, lockedInstall, writeFlatRepository } from '../apt/dockerfile-lock';
import type { Step } from './handler';
import type { BuildSession } from './session';
import type { StageState } from './stage-state';

/** Where a RUN that installs locked packages finds them: a flat apt repository, mounted read-only. */
const REPOSITORY = '/var/lib/reprokit-apt';

export interface Mount {
  host: string;
  container: string;
  readOnly: boolean;
}

/**
 * The mounts that make a RUN's apt work with no network, as it works with network under docker
 * build: the locked .debs of its installs (fetched as environments fetch them, sha256 checked) as a
 * local repository (an empty one when the RUN installs nothing but runs `apt-get update`, `clean`…),
 * a sources.list naming only it over /etc/apt/sources.list, an empty /etc/apt/sources.list.d over
 * the image's, an apt.conf.d file that keeps apt's downloads as root (the container has no
 * capability to switch to the _apt user: `E: setgroups 65534 failed`), and apt's lists as an update
 * leaves them (so an install without its own `apt-get update` works too). Only for this RUN: mounts
 * are not part of the layer. apt itself runs unmodified and can only install what the lock names.
 */
export async function offlineAptMounts(build: BuildSession, state: StageState, line: number, installs: AptInstall[], step: Step): Promise<Mount[]> {
  const repository = build.scratchPath('apt-repository');
  mkdirSync(repository, { recursive: true });
  if (installs.length === 0) writeFlatRepository(repository, [], new Map(), () => {});
  else {
    const lockPath = dockerfileLockPath(build.input.dockerfile);
    const lock = await build.dockerfileLock();
    if (!state.base) step.fail(`RUN ${installs[0].command}: the stage is built FROM scratch, which has no dpkg`);
    const packages = new Map<string, LockedPackage>();
    for (const install of installs) {
      for (const p of asLockedPackages(lockedInstall(lock, lockPath, build.where, line, install, state.base))) packages.set(p.name, p);
    }
    const list = [...packages.values()];
    build.say(`${step.at}: serving ${list.length} locked packages from ${build.where}.lock.json offline`);
    const debs = await fetchLockedDebs(list, lockPath, undefined, (text) => build.say(text));
    writeFlatRepository(repository, list, debs, (from, to) => {
      try {
        linkSync(from, to);
      } catch {
        copyFileSync(from, to);
      }
    });
  }
  const config = build.scratchPath('apt-config');
  mkdirSync(join(config, 'sources.list.d'), { recursive: true });
  writeFileSync(join(config, 'sources.list'), `deb [trusted=yes] file:${REPOSITORY} ./\n`);
  writeFileSync(join(config, 'offline.conf'), 'APT::Sandbox::User "root";\nAcquire::Languages "none";\n');
  // apt's lists as `apt-get update` leaves them for the repository (a link to its index), so an
  // install in a RUN after the one that ran `apt-get update` finds the packages too.
  const lists = build.scratchPath('apt-lists');
  mkdirSync(join(lists, 'partial'), { recursive: true });
  symlinkSync(`${REPOSITORY}/./Packages`, join(lists, `${REPOSITORY.replace(/\//g, '_')}_._Packages`));
  return [
    { host: repository, container: REPOSITORY, readOnly: true },
    { host: join(config, 'sources.list'), container: '/etc/apt/sources.list', readOnly: true },
    { host: join(config, 'sources.list.d'), container: '/etc/apt/sources.list.d', readOnly: true },
    { host: join(config, 'offline.conf'), container: '/etc/apt/apt.conf.d/99reprokit-offline', readOnly: true },
    { host: lists, container: '/var/lib/apt/lists', readOnly: false },
  ];
}
