import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planDockerfile } from './dockerfile';

const PIN = 'sha256:' + 'a'.repeat(64);
const plan = (text: string, args?: Record<string, string>) => planDockerfile(text, 'Dockerfile', { buildArgs: args });
const refused = (text: string, message: RegExp) => assert.throws(() => plan(text), { message });

describe('planDockerfile', () => {
  it('reads the seed’s two stages: pinned FROM, stage by index, JSON-form ENTRYPOINT', () => {
    const { stages } = plan(`# build
FROM docker.io/rust@${PIN} AS build
WORKDIR /app
COPY . .
RUN cargo build --release \\
    --locked
FROM alpine@${PIN}
COPY --from=0 /app/target/release/asdf /asdf
ENTRYPOINT ["/asdf"]
`);
    assert.equal(stages.length, 2);
    assert.deepEqual(stages[0].from, { kind: 'image', ref: `docker.io/rust@${PIN}` });
    assert.equal(stages[0].name, 'build');
    assert.deepEqual(
      stages[0].instructions.map((i) => [i.op, i.line]),
      [
        ['WORKDIR', 3],
        ['COPY', 4],
        ['RUN', 5],
      ],
    );
    const run = stages[0].instructions[2];
    assert.ok(run.op === 'RUN' && run.defaultShell && run.argv[0] === '/bin/sh' && run.argv[2].includes('--locked'));
    const copy = stages[1].instructions[0];
    assert.ok(copy.op === 'COPY');
    assert.deepEqual(copy.from, { kind: 'stage', index: 0 });
    assert.deepEqual([copy.sources, copy.dest], [[{ kind: 'path', path: '/app/target/release/asdf' }], '/asdf']);
    assert.deepEqual(stages[1].instructions[1], { op: 'ENTRYPOINT', line: 9, text: 'ENTRYPOINT ["/asdf"]', argv: ['/asdf'], shell: false });
  });

  it('expands global and stage ARGs, build arguments and ENV; --from by name; --chown and --chmod', () => {
    const { stages } = plan(
      `ARG BASE=alpine@${PIN}
ARG DEST=/opt
FROM \${BASE} AS one
FROM scratch
ARG DEST
ENV APP="my app" HOME=/root
LABEL org.opencontainers.image.title="$APP"
COPY --from=one --chown=1000:100 --chmod=0750 /bin/x \${DEST}/bin/
USER 1000:1000
EXPOSE 8080 53/udp
CMD echo hi
`,
      { DEST: '/srv' },
    );
    assert.deepEqual(stages[0].from, { kind: 'image', ref: `alpine@${PIN}` });
    const [env, label, copy, user, expose, cmd] = stages[1].instructions;
    assert.deepEqual(env.op === 'ENV' && env.vars, [
      ['APP', 'my app'],
      ['HOME', '/root'],
    ]);
    assert.deepEqual(label.op === 'LABEL' && label.labels, [['org.opencontainers.image.title', 'my app']]);
    assert.ok(copy.op === 'COPY');
    assert.deepEqual([copy.from, copy.chown, copy.chmod, copy.dest], [{ kind: 'stage', index: 0 }, { uid: 1000, gid: 100 }, 0o750, '/srv/bin/']);
    assert.deepEqual(user.op === 'USER' && user.user, '1000:1000');
    assert.deepEqual(expose.op === 'EXPOSE' && expose.ports, ['8080/tcp', '53/udp']);
    assert.deepEqual(cmd.op === 'CMD' && cmd.argv, ['/bin/sh', '-c', 'echo hi']);
  });

  it('refuses, with the line, what it cannot honour', () => {
    refused(`FROM alpine:3.19\n`, /^Dockerfile:1: FROM alpine:3\.19: the image is not pinned by digest/);
    refused(`# c\n\nFROM debian:bookworm AS x\n`, /^Dockerfile:3: FROM debian:bookworm/);
    refused(`ARG V\nFROM alpine@\${V}\n`, /^Dockerfile:2: FROM: \$V is not set/);
    refused(`FROM scratch\nADD https://example.org/x /x\n`, /^Dockerfile:2: ADD https:\/\/example\.org\/x: a download needs --checksum=sha256:/);
    refused(`FROM scratch\nADD git@github.com:a/b.git /x\n`, /^Dockerfile:2: ADD git@github\.com:a\/b\.git: only http:\/\/ and https:\/\/ URLs/);
    refused(`FROM scratch\nADD --checksum=sha256:${'0'.repeat(64)} a.tar /x\n`, /^Dockerfile:2: ADD --checksum verifies a download/);
    refused(`FROM scratch\nONBUILD RUN true\n`, /^Dockerfile:2: ONBUILD is refused/);
    refused(`FROM scratch\nHEALTHCHECK --interval=5 CMD true\n`, /^Dockerfile:2: HEALTHCHECK: --interval=5: not a duration/);
    refused(`FROM scratch\nSHELL /bin/bash -c\n`, /^Dockerfile:2: SHELL takes the JSON form/);
    refused(`FROM scratch\nCOPY a b /x\n`, /^Dockerfile:2: COPY with several sources needs a destination ending in \//);
    refused(`FROM scratch\nRUN true\n`, /^Dockerfile:2: RUN in shell form needs \/bin\/sh, and this stage is built FROM scratch: use the JSON form/);
    refused(`FROM alpine@${PIN}\nRUN --mount=type=secret,id=x,target=/s true\n`, /^Dockerfile:2: RUN --mount=type=secret,id=x,target=\/s: type=secret: a reproducible build cannot depend on secrets/);
    refused(`FROM alpine@${PIN}\nRUN --mount=type=cache true\n`, /^Dockerfile:2: RUN --mount=type=cache: target=… is required/);
    refused(`FROM scratch\nCOPY --from=nope /a /b\n`, /^Dockerfile:2: COPY --from=nope: the image is not pinned/);
    refused(`FROM scratch\nCOPY --from=3 /a /b\n`, /^Dockerfile:2: COPY --from=3: there is no earlier stage 3/);
    refused(`FROM scratch\nCOPY --chown=app /a /b\n`, /^Dockerfile:2: --chown=app: give numeric uid/);
    refused(`FROM alpine@${PIN}\nRUN --network=host true\n`, /^Dockerfile:2: RUN --network=host: builds have no network/);
    refused(`FROM --platform=linux/arm64 scratch\n`, /^Dockerfile:1: FROM --platform=linux\/arm64: reprokit builds linux\/amd64/);
    refused(`FROM scratch\nFROBNICATE\n`, /^Dockerfile:2: FROBNICATE is not a Dockerfile instruction/);
    refused(`WORKDIR /x\n`, /^Dockerfile:1: WORKDIR before the first FROM/);
    refused(`# nothing\n`, /^Dockerfile: no FROM instruction/);
    assert.throws(() => plan(`FROM scratch\n`, { NOPE: '1' }), { message: /^Dockerfile: build argument NOPE is not declared by any ARG/ });
  });

  it('accepts --platform naming the one platform reprokit builds', () => {
    const { stages } = plan(`FROM --platform=$BUILDPLATFORM scratch\n`);
    assert.deepEqual(stages[0].from, { kind: 'scratch' });
  });
});
