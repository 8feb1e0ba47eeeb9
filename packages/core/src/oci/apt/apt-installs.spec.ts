import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UserError } from '../../errors';
import { planDockerfile } from '../dockerfile/dockerfile';
import { findAptInstalls, runAptInstalls, runRunsApt } from './apt-installs';
import { lockedInstall, type DockerfileLock } from './dockerfile-lock';

const fail = (message: string): never => {
  throw new UserError(message);
};
const BASE = `reprokit/debian-base@sha256:${'a'.repeat(64)}`;

/** The installs of every RUN of a one-stage Dockerfile, with the base image's Env. */
function installsOf(dockerfile: string, env: string[] = []) {
  const plan = planDockerfile(dockerfile, 'Dockerfile', { baseConfig: () => ({ Env: env }) });
  const found = [];
  const stageEnv = [...env];
  for (const instruction of plan.stages[0].instructions) {
    if (instruction.op === 'ENV') for (const [key, value] of instruction.vars) stageEnv.push(`${key}=${value}`);
    if (instruction.op === 'RUN') found.push(...runAptInstalls(instruction, stageEnv, fail).map((install) => ({ line: instruction.line, ...install })));
  }
  return found;
}

describe('apt installs in RUN', () => {
  it('reads apt-get and apt install through &&, continuations, sudo and options; update and other commands are not installs', () => {
    const found = installsOf(
      [
        `FROM ${BASE}`,
        'RUN apt-get update && apt-get install -y --no-install-recommends \\',
        '      jq \\',
        '      curl=7.88.1-10+deb12u5 \\',
        ' && rm -rf /var/lib/apt/lists/*',
        'RUN sudo apt install -q -o Dpkg::Options::=--force-confold make; apt-get -y install -t bookworm git',
        'RUN echo apt-get install nothing && apt-get update',
      ].join('\n'),
    );
    assert.deepEqual(found, [
      { line: 2, command: 'apt-get install -y --no-install-recommends jq curl=7.88.1-10+deb12u5', packages: ['jq', 'curl=7.88.1-10+deb12u5'], noRecommends: true },
      { line: 6, command: 'apt install -q -o Dpkg::Options::=--force-confold make', packages: ['make'], noRecommends: false },
      { line: 6, command: 'apt-get -y install -t bookworm git', packages: ['git'], noRecommends: false },
    ]);
  });

  it('takes packages from ARG and ENV, as the RUN shell sees them; the exec form and a heredoc too', () => {
    const found = installsOf(
      [
        `FROM ${BASE}`,
        'ARG TOOLS="jq make"',
        'ENV EXTRA=git',
        'RUN apt-get install -y $TOOLS "${EXTRA}"',
        'RUN ["apt-get", "install", "-y", "--no-install-recommends", "xz-utils"]',
        'RUN <<EOF',
        'apt-get install -y -o APT::Install-Recommends=false file',
        'EOF',
      ].join('\n'),
    );
    assert.deepEqual(
      found.map(({ line, command, packages, noRecommends }) => ({ line, command, packages, noRecommends })),
      [
        { line: 4, command: 'apt-get install -y jq make git', packages: ['jq', 'make', 'git'], noRecommends: false },
        { line: 5, command: 'apt-get install -y --no-install-recommends xz-utils', packages: ['xz-utils'], noRecommends: true },
        { line: 6, command: 'apt-get install -y -o APT::Install-Recommends=false file', packages: ['file'], noRecommends: true },
      ],
    );
  });

  it('refuses packages it cannot know: an unknown variable, a command substitution', () => {
    assert.throws(() => findAptInstalls('apt-get install -y $NOPE', {}, fail), /\$NOPE is not an ARG or ENV of the stage/);
    assert.throws(() => findAptInstalls('apt-get install -y $(cat packages.txt)', {}, fail), /a command substitution in an apt install/);
  });

  it('matches an install to the lock by line, command and base; each refusal names Dockerfile:LINE and the command to run', () => {
    const install = findAptInstalls('apt-get install -y jq', {}, fail)[0];
    const lock: DockerfileLock = { lockVersion: 1, architecture: 'amd64', suites: ['bookworm'], installs: [{ line: 3, command: 'apt-get install -y jq', base: BASE, packages: [] }] };
    assert.equal(lockedInstall(lock, 'Dockerfile.lock.json', 'app/Dockerfile', 3, install, BASE), lock.installs[0]);
    assert.throws(() => lockedInstall(undefined, 'app/Dockerfile.lock.json', 'app/Dockerfile', 3, install, BASE), /^UserError: app\/Dockerfile:3: RUN apt-get install -y jq: installs Debian packages and Dockerfile.lock.json does not exist .*run `reprokit oci lock app\/Dockerfile`$/);
    assert.throws(() => lockedInstall(lock, 'Dockerfile.lock.json', 'app/Dockerfile', 4, install, BASE), /^UserError: app\/Dockerfile:4: RUN apt-get install -y jq: not in Dockerfile.lock.json \(it locks that command at another line\): run `reprokit oci lock app\/Dockerfile`$/);
    const other = findAptInstalls('apt-get install -y jq curl', {}, fail)[0];
    assert.throws(() => lockedInstall(lock, 'Dockerfile.lock.json', 'app/Dockerfile', 3, other, BASE), /app\/Dockerfile:3: RUN apt-get install -y jq curl: not in Dockerfile.lock.json \(it locks `apt-get install -y jq` there\)/);
    assert.throws(() => lockedInstall(lock, 'Dockerfile.lock.json', 'app/Dockerfile', 3, install, BASE.replace(/a{64}/, 'b'.repeat(64))), /resolved it against reprokit\/debian-base@sha256:a{64}, but the stage is built FROM .*b{64}/);
  });
});

describe('which RUNs get apt\'s offline setup', () => {
  it('every RUN that runs apt-get or apt, whatever it asks (update, clean, upgrade, install), and no other', () => {
    const plan = planDockerfile(
      `FROM ${BASE}\nRUN apt-get update\nRUN set -e; sudo apt clean\nRUN ["/usr/bin/apt-get", "update"]\nRUN <<EOF\nif true; then apt-get -q upgrade; fi\nEOF\nRUN echo apt-get update > /x\nRUN make\nRUN ["echo", "apt-get"]\n`,
      'Dockerfile',
      { baseConfig: () => ({}) },
    );
    const runs = plan.stages[0].instructions.flatMap((instruction) => (instruction.op === 'RUN' ? [runRunsApt(instruction, fail)] : []));
    assert.deepEqual(runs, [true, true, true, true, false, false, false]);
  });
});
