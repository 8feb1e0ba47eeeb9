// The one download client (net/): real servers on 127.0.0.1 (a drip, a steady trickle, a redirect
// to a local file), real files, FIFOs and /proc, and a real SIGINT to a child process.
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { tempDir } from '../testing/fixtures';
import { guardedLookup, nonPublicAddress, RefusedLocationError } from './address-policy';
import { downloadToFile, fetchBuffer, UnreachableError } from './bounded-fetch';

describe('net: every download is bounded in time and rate, and leaves nothing behind', () => {
  const dir = tempDir('reprokit-net-');
  let base = '';
  const server: Server = createServer((req, res) => {
    if (req.url === '/drip') {
      // One byte every 2 s of a declared MiB: no idle timeout ever fires.
      res.writeHead(200, { 'content-length': String(1 << 20) });
      const timer = setInterval(() => res.write('x'), 2000);
      res.write('x');
      req.socket.on('close', () => clearInterval(timer));
      return;
    }
    if (req.url === '/trickle') {
      // 4 KiB every 500 ms: above any minimum rate, but a MiB takes two minutes.
      res.writeHead(200, { 'content-length': String(1 << 20) });
      const timer = setInterval(() => res.write(Buffer.alloc(4096)), 500);
      req.socket.on('close', () => clearInterval(timer));
      return;
    }
    if (req.url === '/to-file') return res.writeHead(302, { location: 'file:///etc/passwd' }).end();
    res.writeHead(200, { 'content-length': '5' }).end('hello');
  });

  before(async () => {
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });

  it('a drip ends by the minimum-rate rule, with one line, and the partial file is removed', async () => {
    const file = join(dir, 'drip.download');
    const started = Date.now();
    await assert.rejects(
      downloadToFile(`${base}/drip`, file, { maxBytes: 1 << 20, allowPrivateNetwork: true, minRate: { bytesPerSecond: 1024, seconds: 2 } }),
      (error: Error) => error instanceof UnreachableError && /^http:\/\/127\.0\.0\.1:\d+\/drip: slower than 1024 bytes\/s for 2 s after \d+ bytes$/.test(error.message),
    );
    const took = Date.now() - started;
    assert.ok(took >= 2000 && took < 5000, `ended after ${took} ms`);
    assert.equal(existsSync(file), false);
  });

  it('a steady trickle above the minimum rate ends at the total deadline', async () => {
    const file = join(dir, 'trickle.download');
    const started = Date.now();
    await assert.rejects(
      downloadToFile(`${base}/trickle`, file, { maxBytes: 1 << 20, allowPrivateNetwork: true, deadlineMs: 2000, minRate: { bytesPerSecond: 1024, seconds: 1 } }),
      /trickle: took longer than the 2 s deadline after \d+ bytes$/,
    );
    assert.ok(Date.now() - started < 4000);
    assert.equal(existsSync(file), false);
  });

  it('refuses loopback without the allow flag, by IP literal and by a name resolving to it', async () => {
    await assert.rejects(fetchBuffer(`${base}/ok`, { maxBytes: 100, allowPrivateNetwork: false }), (error: Error) => {
      assert.ok(error instanceof RefusedLocationError);
      assert.match(error.message, /^http:\/\/127\.0\.0\.1:\d+\/ok: refused: 127\.0\.0\.1, a loopback address; .*--allow-private-network or REPROKIT_ALLOW_PRIVATE_NETWORK=1\)$/);
      return true;
    });
    await assert.rejects(fetchBuffer(base.replace('127.0.0.1', 'localhost') + '/ok', { maxBytes: 100, allowPrivateNetwork: false }), /refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address/);
    assert.equal((await fetchBuffer(`${base}/ok`, { maxBytes: 100, allowPrivateNetwork: true })).body.toString(), 'hello');
  });

  it('classifies the ranges a manifest may not reach, IPv4-mapped and NAT64 forms included', () => {
    for (const ip of ['169.254.169.254', '127.0.0.1', '10.1.2.3', '172.31.0.1', '192.168.1.1', '100.64.0.1', '0.0.0.0', '::1', '::', 'fe80::1', 'fd00::1', '::ffff:127.0.0.1', '::ffff:a9fe:a9fe', '64:ff9b::a9fe:a9fe', '[::1]']) {
      assert.ok(nonPublicAddress(ip), `${ip} is not public`);
    }
    for (const ip of ['151.101.2.132', '8.8.8.8', '2a04:4e42::644', '64:ff9b::808:808']) assert.equal(nonPublicAddress(ip), undefined, ip);
    assert.match(nonPublicAddress('169.254.169.254')!, /link-local/);
  });

  it('the connection itself is guarded: a name resolving to loopback at connect time is refused (DNS rebinding)', async () => {
    const error = await new Promise<Error | null>((done) => guardedLookup('localhost', {}, (e) => done(e)));
    assert.ok(error instanceof RefusedLocationError);
    assert.match(error.message, /^localhost: refused: localhost resolves to .*, a loopback address/);
  });

  it('credentials stay with their origin: a redirect to another host gets no Authorization', async () => {
    const seen: (string | undefined)[] = [];
    const storage = createServer((req, res) => {
      seen.push(req.headers.authorization);
      res.writeHead(200, { 'content-length': '4' }).end('blob');
    });
    await new Promise<void>((done) => storage.listen(0, '127.0.0.1', done));
    // Another origin: localhost instead of 127.0.0.1, as a registry hands a blob to its storage.
    const elsewhere = `http://localhost:${(storage.address() as AddressInfo).port}/signed?x=1`;
    const registry = createServer((req, res) => {
      seen.push(req.headers.authorization);
      if (req.url === '/same') return res.writeHead(307, { location: '/signed' }).end();
      if (req.url === '/signed') return res.writeHead(200, { 'content-length': '4' }).end('same');
      res.writeHead(307, { location: elsewhere }).end();
    });
    await new Promise<void>((done) => registry.listen(0, '127.0.0.1', done));
    const at = `http://127.0.0.1:${(registry.address() as AddressInfo).port}`;
    try {
      const options = { maxBytes: 1 << 10, allowPrivateNetwork: true, headers: { authorization: 'Bearer secret', accept: '*/*' } };
      assert.equal((await fetchBuffer(`${at}/blob`, options)).body.toString(), 'blob');
      assert.deepEqual(seen, ['Bearer secret', undefined]);
      seen.length = 0;
      assert.equal((await fetchBuffer(`${at}/same`, options)).body.toString(), 'same');
      assert.deepEqual(seen, ['Bearer secret', 'Bearer secret'], 'kept on the same origin');
    } finally {
      for (const server of [storage, registry]) {
        server.closeAllConnections();
        server.close();
      }
    }
  });

  it('a redirect to a file:// URL is refused', async () => {
    await assert.rejects(fetchBuffer(`${base}/to-file`, { maxBytes: 1 << 20, allowPrivateNetwork: true, files: 'any' }), /\d+\/to-file: refused: redirects to file:\/\/\/etc\/passwd; only http and https redirects are followed$/);
  });

  it('file:// stays inside its root, symlinks resolved; /proc and FIFOs are refused, even where any file is allowed', async () => {
    const root = join(dir, 'ws');
    mkdirSync(root);
    writeFileSync(join(root, 'ok.bin'), 'ok');
    writeFileSync(join(dir, 'secret.txt'), 'decoy-secret');
    symlinkSync(join(dir, 'secret.txt'), join(root, 'link'));
    execFileSync('mkfifo', [join(root, 'fifo')]);
    const files = { root };
    assert.equal((await fetchBuffer(`file://${root}/ok.bin`, { maxBytes: 10, files })).body.toString(), 'ok');
    await assert.rejects(fetchBuffer(`file://${dir}/secret.txt`, { maxBytes: 100, files }), /secret\.txt: refused: it is outside the workspace/);
    await assert.rejects(fetchBuffer(`file://${root}/link`, { maxBytes: 100, files }), /link: refused: it leads to .*secret\.txt, outside the workspace/);
    await assert.rejects(fetchBuffer(`file://${root}/ok.bin`, { maxBytes: 100 }), /refused: a file:\/\/ location is not accepted here/);
    await assert.rejects(fetchBuffer('file:///proc/self/environ', { maxBytes: 1 << 20, files: 'any' }), /refused: .* is in \/proc, \/sys, \/dev/);
    await assert.rejects(fetchBuffer('file:///dev/zero', { maxBytes: 1 << 20, files: 'any' }), /refused/);
    await assert.rejects(fetchBuffer(`file://${root}/fifo`, { maxBytes: 100, files }), /fifo: refused: .*is a FIFO/);
  });

  it('TransferLimits, for a client reading its own body: the rate rule and the deadline each end it with a reason', async () => {
    const { TransferLimits } = require('./transfer-limits') as typeof import('./transfer-limits');
    const slow = new TransferLimits({ deadlineMs: 60_000, minRate: { bytesPerSecond: 1024, seconds: 2 } });
    const started = Date.now();
    const feed = setInterval(() => slow.add(100), 500);
    await assert.rejects(slow.failed, /^Error: slower than 1024 bytes\/s for 2 s$/);
    clearInterval(feed);
    assert.ok(Date.now() - started < 4000);
    const late = new TransferLimits({ deadlineMs: 300, minRate: false });
    await assert.rejects(late.failed, /took longer than the 0\.3 s deadline/);
    const done = new TransferLimits({ deadlineMs: 100, minRate: false });
    done.stop();
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(done.reason, undefined);
  });

  it('SIGINT during a download removes the partial file, and the process dies of the signal', async () => {
    const file = join(dir, 'interrupted.download');
    const script = `require(${JSON.stringify(join(__dirname, 'bounded-fetch.js'))}).downloadToFile(${JSON.stringify(`${base}/drip`)}, ${JSON.stringify(file)}, { maxBytes: 1 << 20, allowPrivateNetwork: true, minRate: false }); setInterval(() => {}, 1000);`;
    const child = spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
    for (let i = 0; i < 100 && !existsSync(file); i++) await new Promise((done) => setTimeout(done, 50));
    assert.ok(existsSync(file), 'the download started');
    const ended = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, signal) => done(signal)));
    child.kill('SIGINT');
    assert.equal(await ended, 'SIGINT');
    assert.equal(existsSync(file), false);
  });
});
