import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { RemoteCacheServer, tarEntries } from './remote-cache-server';
import { TempWorkspace } from './workspace';

const BINARY = 'packages/hello-c/dist/hello';

describe("a shared Nx remote cache (Nx's self-hosted protocol): what it restores is verified again", () => {
  const server = new RemoteCacheServer();
  const previous = process.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER;
  let uploaded: string;

  before(async () => {
    // TempWorkspace's nx inherits this process's environment.
    process.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER = await server.start();
  });
  after(async () => {
    if (previous === undefined) delete process.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER;
    else process.env.NX_SELF_HOSTED_REMOTE_CACHE_SERVER = previous;
    await server.stop();
    rmSync(server.dir, { recursive: true, force: true });
  });

  it('a build uploads its outputs as a tar: the binary, its record and its provenance', () => {
    const ws = new TempWorkspace();
    const { status, output } = ws.nx('run', 'hello-c:elf');
    assert.equal(status, 0, output);
    const puts = server.requests.filter((request) => request.method === 'PUT' && request.status === 200);
    assert.equal(puts.length, 1, JSON.stringify(server.requests));
    uploaded = puts[0].hash;
    const tar = server.entry(uploaded);
    const names = tarEntries(tar).map((entry) => entry.name.replace(/^\.\//, ''));
    for (const name of [BINARY, 'packages/hello-c/dist/.reprokit/hello.json', 'packages/hello-c/dist/.reprokit/hello.intoto.json']) assert.ok(names.includes(name), `${name} in ${names}`);
    const binary = tarEntries(tar).find((entry) => entry.name.replace(/^\.\//, '') === BINARY)!;
    assert.deepEqual(tar.subarray(binary.offset, binary.offset + binary.size), readFileSync(join(ws.root, BINARY)));
  });

  it('a clean checkout restores the same entry from the remote cache and reproduces', () => {
    const clean = new TempWorkspace();
    const { status, output } = clean.nx('run', 'hello-c:reproduce');
    assert.equal(status, 0, output);
    assert.match(output, /nx run hello-c:elf {2}\[remote cache\]/);
    assert.match(output, /REPRODUCED hello/);
    assert.ok(server.requests.some((request) => request.method === 'GET' && request.hash === uploaded && request.status === 200));
  });

  it('a poisoned entry (the binary inside the stored tar altered) is restored by Nx and rejected by reproduce', () => {
    const tar = Buffer.from(server.entry(uploaded));
    const binary = tarEntries(tar).find((entry) => entry.name.replace(/^\.\//, '') === BINARY)!;
    // One byte of the program's text, in place: the tar stays valid (ustar checksums cover headers only).
    const original = tar.subarray(binary.offset, binary.offset + binary.size);
    const at = original.indexOf('Hello from C');
    assert.ok(at > 0, 'the string is in the binary');
    tar[binary.offset + at] = 'J'.charCodeAt(0);
    const poisoned = createHash('sha256').update(tar.subarray(binary.offset, binary.offset + binary.size)).digest('hex');
    server.replace(uploaded, tar);

    const victim = new TempWorkspace();
    const { status, output } = victim.nx('run', 'hello-c:reproduce');
    assert.match(output, /nx run hello-c:elf {2}\[remote cache\]/);
    // Nx restored the altered bytes as they were stored...
    assert.equal(createHash('sha256').update(readFileSync(join(victim.root, BINARY))).digest('hex'), poisoned);
    assert.match(readFileSync(join(victim.root, BINARY), 'latin1'), /Jello from C/);
    // ...and reproduce refuses them, naming the artifact.
    assert.notEqual(status, 0, output);
    assert.match(output, /^hello\s+elf\s+MISMATCH/m);
    assert.doesNotMatch(output, /REPRODUCED hello/);
  });
});
