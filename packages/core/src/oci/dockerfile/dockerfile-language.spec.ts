import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planDockerfile } from './dockerfile';
import { componentRegExp, matchesPattern } from './wildcard';

const PIN = 'sha256:' + 'a'.repeat(64);
const plan = (text: string) => planDockerfile(text, 'Dockerfile');

describe('planDockerfile: the rest of the language', () => {
  it('seeds ENV expansion from the base image’s config; without it, validation leaves such lines for later', () => {
    assert.throws(() => plan(`FROM scratch\nENV X=$PATH\n`), { message: /^Dockerfile:2: ENV: \$PATH is not set/ });
    const text = `FROM base@${PIN} AS one\nENV PATH=$PATH:/x\nFROM one\nENV P2=$PATH\n`;
    const validated = plan(text);
    assert.deepEqual(validated.stages[0].instructions, [], 'the line waits for the base config');
    assert.deepEqual(validated.fromImages, [`base@${PIN}`]);
    const planned = planDockerfile(text, 'Dockerfile', { baseConfig: () => ({ Env: ['PATH=/usr/bin', 'A=1'] }) });
    const [env] = planned.stages[0].instructions;
    assert.deepEqual(env.op === 'ENV' && env.vars, [['PATH', '/usr/bin:/x']]);
    const [inherited] = planned.stages[1].instructions;
    assert.deepEqual(inherited.op === 'ENV' && inherited.vars, [['P2', '/usr/bin:/x']], 'a stage FROM a stage continues its environment');
    assert.throws(() => planDockerfile(text, 'Dockerfile', { baseConfig: () => ({ Env: [] }) }), { message: /^Dockerfile:2: ENV: \$PATH is not set/ });
    assert.throws(() => planDockerfile(text, 'Dockerfile', { baseConfig: () => ({ OnBuild: ['RUN x'] }) }), { message: /^Dockerfile:1: FROM base@.*has ONBUILD triggers/ });
  });

  it('reads SHELL, heredocs, RUN --mount, VOLUME, STOPSIGNAL, HEALTHCHECK and ADD', () => {
    const { stages } = plan(
      [
        `FROM base@${PIN}`,
        'SHELL ["/bin/bash", "-o", "pipefail", "-c"]',
        'RUN echo one | cat',
        'RUN <<EOF',
        'echo two',
        'EOF',
        "RUN <<-'EOF'",
        '\t#!/usr/bin/env python3',
        '\tprint("three")',
        '\tEOF',
        'RUN --mount=type=cache,target=/root/.cache,id=c --mount=type=tmpfs,target=/scratch,size=1m --mount=type=bind,source=src,target=/src,rw python3 <<EOF',
        'print("four")',
        'EOF',
        'ARG WHO=world',
        'COPY <<EOF /etc/motd',
        'hello $WHO, \\$HOME',
        'EOF',
        'VOLUME ["/data", "/logs"]',
        'STOPSIGNAL SIGINT',
        'HEALTHCHECK --interval=1m30s --retries=2 CMD curl -f http://localhost/',
        `ADD --checksum=sha256:${'b'.repeat(64)} https://example.org/a.tar.gz /opt/`,
        'CMD run me',
        '',
      ].join('\n'),
    );
    const [shell, one, two, three, four, copy, volume, stop, health, add, cmd] = stages[0].instructions;
    assert.deepEqual(shell.op === 'SHELL' && shell.shell, ['/bin/bash', '-o', 'pipefail', '-c']);
    assert.deepEqual(one.op === 'RUN' && [one.argv, one.defaultShell], [['/bin/bash', '-o', 'pipefail', '-c', 'echo one | cat'], false]);
    assert.deepEqual(two.op === 'RUN' && two.argv.at(-1), 'echo two\n');
    assert.ok(three.op === 'RUN');
    assert.deepEqual([three.argv, three.files.map((f) => [f.name, f.content])], [['/dev/pipes/EOF'], [['EOF', '#!/usr/bin/env python3\nprint("three")\n']]]);
    assert.ok(four.op === 'RUN');
    assert.deepEqual(four.argv.at(-1), 'python3 <<EOF\nprint("four")\nEOF');
    assert.deepEqual(
      four.mounts.map((m) => [m.type, m.target, m.id, m.readOnly, m.size, m.source]),
      [
        ['cache', '/root/.cache', 'c', false, undefined, undefined],
        ['tmpfs', '/scratch', undefined, false, 1048576, undefined],
        ['bind', '/src', undefined, false, undefined, 'src'],
      ],
    );
    assert.deepEqual(copy.op === 'COPY' && copy.sources, [{ kind: 'heredoc', name: 'EOF', content: 'hello world, $HOME\n' }]);
    assert.deepEqual(volume.op === 'VOLUME' && volume.volumes, ['/data', '/logs']);
    assert.deepEqual(stop.op === 'STOPSIGNAL' && stop.signal, 'SIGINT');
    assert.deepEqual(health.op === 'HEALTHCHECK' && health.healthcheck, { Test: ['CMD-SHELL', 'curl -f http://localhost/'], Interval: 90e9, Retries: 2 });
    assert.deepEqual(add.op === 'ADD' && [add.sources, add.checksum], [[{ kind: 'url', url: 'https://example.org/a.tar.gz' }], `sha256:${'b'.repeat(64)}`]);
    assert.deepEqual(cmd.op === 'CMD' && cmd.argv, ['/bin/bash', '-o', 'pipefail', '-c', 'run me'], 'CMD’s shell form uses SHELL too');
  });

  it('matches wildcards as Go’s filepath.Match does, one path component at a time', () => {
    assert.ok(componentRegExp('*.c').test('main.c'));
    assert.ok(!componentRegExp('*.c').test('main.h'));
    assert.ok(componentRegExp('[a-c]?.txt').test('b1.txt'));
    assert.ok(!componentRegExp('[^a-c]?.txt').test('b1.txt'));
    assert.ok(componentRegExp('\\*').test('*') && !componentRegExp('\\*').test('x'));
    assert.ok(matchesPattern('src/*.rs', 'src/main.rs'));
    assert.ok(!matchesPattern('src/*.rs', 'src/bin/main.rs'), '* does not cross a /');
  });
});
