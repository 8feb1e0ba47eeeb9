// The hostile corpus, issue 26: a manifest from a stranger must not make reprokit read a local file
// outside the workspace or the process environment and print it, nor fetch from this machine or its
// private network, and a slow server must not hold a run. The real CLI in child processes, a real
// server in its own process on 127.0.0.1 (spawnSync blocks this one), a decoy secret in the victim
// file and in the environment that no output may show.
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { assertNoSecret, DECOY_SECRET, hostileProject } from './hostile-fixtures';

const BIN = join(__dirname, '..', '..', 'bin', 'reprokit.js');

// /drip sends one byte every 2 s (chunked, no length: the 6-byte artifact would take 12 s, a MiB 24 days), /hello the artifact's bytes, /to-secret and
// /to-environ redirect to local files.
const SERVER = `
const http = require('node:http');
const [secret] = process.argv.slice(1);
http.createServer((req, res) => {
  if (req.url === '/drip') {
    res.writeHead(200);
    res.write('x');
    const timer = setInterval(() => res.write('x'), 2000);
    req.socket.on('close', () => clearInterval(timer));
    return;
  }
  if (req.url === '/to-secret') return res.writeHead(302, { location: 'file://' + secret }).end();
  if (req.url === '/to-environ') return res.writeHead(302, { location: 'file:///proc/self/environ' }).end();
  if (req.url === '/hello') return res.writeHead(200, { 'content-length': '6' }).end('hello\\n');
  res.writeHead(404).end();
}).listen(0, '127.0.0.1', function () { process.stdout.write(this.address().port + '\\n'); });
`;

describe('hostile manifests: no secret printed, no private address fetched, no drip holds a run', () => {
  const outer = mkdtempSync(join(tmpdir(), 'reprokit-secrets-'));
  chmodSync(outer, 0o755);
  const victim = join(outer, 'victim');
  const secret = join(victim, 'secret.txt');
  const ws = join(outer, 'ws');
  const temp = join(outer, 'tmp');
  let manifestPath = '';
  let server: ChildProcess;
  let base = '';

  before(async () => {
    mkdirSync(victim);
    mkdirSync(ws);
    mkdirSync(temp);
    // 4 KiB of one line, as the probe's /etc/shadow stand-in: bigger than the artifact, so an old
    // reader would have diffed it against the kept copy.
    writeFileSync(secret, `root:${DECOY_SECRET}:19000:0:99999:7:::\n`.repeat(100));
    writeFileSync(join(ws, 'nx.json'), '{}\n');
    ({ manifestPath } = await hostileProject(ws));
    symlinkSync(secret, join(ws, 'innocent-link'));
    server = spawn(process.execPath, ['-e', SERVER, secret], { stdio: ['ignore', 'pipe', 'inherit'] });
    base = `http://127.0.0.1:${await new Promise<string>((done) => server.stdout!.once('data', (chunk) => done(String(chunk).trim())))}`;
  });
  after(() => {
    server?.kill();
    rmSync(outer, { recursive: true, force: true });
  });

  /** Lists `url` as where `hello` was published, replacing earlier locations. */
  const publishAt = (url: string) => {
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    manifest.artifacts.find((a: { name: string }) => a.name === 'hello').published = [{ url }];
    writeFileSync(manifestPath, JSON.stringify(manifest, null, 2));
  };

  const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => {
    const started = Date.now();
    const run = spawnSync(process.execPath, [BIN, ...args], {
      cwd: ws,
      encoding: 'utf8',
      timeout: 30_000,
      env: { PATH: process.env.PATH, HOME: ws, TMPDIR: temp, PROBE_SECRET: DECOY_SECRET, ...env },
    });
    assert.equal(run.error, undefined, `did not finish: ${run.error?.message}`);
    const output = run.stdout + run.stderr;
    assertNoSecret(output);
    assert.doesNotMatch(output, /[\x00-\x08\x0b-\x1f\x7f]/);
    assert.doesNotMatch(run.stderr, /^\s+at /m, run.stderr);
    return { ...run, output, ms: Date.now() - started };
  };

  const leftovers = () => readdirSync(temp).filter((name) => name.startsWith('reprokit-'));

  it('published: a file:// location outside the workspace (the probe\'s /etc/shadow) is refused, nothing of it shown', () => {
    publishAt(`file://${secret}`);
    const run = cli(['published', manifestPath]);
    assert.equal(run.status, 2, run.output);
    assert.match(run.stdout, /^UNREACHABLE hello file:\/\/\S+secret\.txt: refused: it is outside the workspace .*; a manifest's file:\/\/ location must stay inside it/m);
  });

  it('published: a symlink inside the workspace leading to the secret is refused as where it leads', () => {
    publishAt(`file://${join(ws, 'innocent-link')}`);
    const run = cli(['published', manifestPath]);
    assert.equal(run.status, 2, run.output);
    assert.match(run.stdout, /innocent-link: refused: it leads to \S+secret\.txt, outside the workspace/);
  });

  it('published: file:///proc/self/environ is refused (the environment holds CI tokens)', () => {
    publishAt('file:///proc/self/environ');
    const run = cli(['published', manifestPath]);
    assert.equal(run.status, 2, run.output);
    assert.match(run.stdout, /^UNREACHABLE hello file:\/\/\/proc\/self\/environ: refused: \/proc\/\d+\/environ is in \/proc, \/sys, \/dev/m);
  });

  it('reproduce --published and report --published refuse it the same way', () => {
    publishAt(`file://${secret}`);
    const reproduce = cli(['reproduce', manifestPath, '--published']);
    assert.equal(reproduce.status, 2, reproduce.output);
    assert.match(reproduce.stdout, /UNREACHABLE hello file:\/\/\S+: refused: it is outside the workspace/);
    const report = cli(['report', ws, '--published', '--no-pins']);
    assert.equal(report.status, 1, report.output);
    assert.match(report.output, /refused: it is outside the workspace/);
  });

  it('verify: a MISMATCH is not explained against a published secret or the environment', () => {
    const dist = join(ws, 'dist', 'hello');
    writeFileSync(dist, 'HELLO\n');
    // No kept copy of the expected bytes: the published location is all there is to explain against.
    rmSync(join(ws, 'node_modules'), { recursive: true, force: true });
    try {
      for (const url of [`file://${secret}`, 'file:///proc/self/environ', `${base}/to-environ`]) {
        publishAt(url);
        const run = cli(['verify', manifestPath], { REPROKIT_ALLOW_PRIVATE_NETWORK: '1' });
        assert.equal(run.status, 1, run.output);
        assert.match(run.stdout, /hello: no copy of the expected bytes \(.*refused/);
      }
    } finally {
      writeFileSync(dist, 'hello\n');
    }
  });

  it('a server redirecting to file:// is refused, even where private addresses are allowed', () => {
    for (const path of ['/to-secret', '/to-environ']) {
      publishAt(`${base}${path}`);
      const run = cli(['published', manifestPath, '--allow-private-network']);
      assert.equal(run.status, 2, run.output);
      assert.match(run.stdout, new RegExp(`${path}: refused: redirects to file:///\\S+; only http and https redirects are followed`));
    }
  });

  it('loopback and cloud metadata are refused unless allowed; REPROKIT_ALLOW_PRIVATE_NETWORK=1 allows them', () => {
    publishAt(`${base}/hello`);
    const refused = cli(['published', manifestPath]);
    assert.equal(refused.status, 2, refused.output);
    assert.match(refused.stdout, /\/hello: refused: 127\.0\.0\.1, a loopback address; .*\(allow it with --allow-private-network or REPROKIT_ALLOW_PRIVATE_NETWORK=1\)$/m);
    assert.equal(cli(['published', manifestPath], { REPROKIT_ALLOW_PRIVATE_NETWORK: '1' }).status, 0);
    assert.equal(cli(['published', manifestPath, '--allow-private-network']).status, 0);
    publishAt('http://169.254.169.254/latest/meta-data/iam/security-credentials/');
    const metadata = cli(['published', manifestPath]);
    assert.equal(metadata.status, 2, metadata.output);
    assert.match(metadata.stdout, /refused: 169\.254\.169\.254, a link-local address \(cloud metadata lives there\)/);
    assert.ok(metadata.ms < 5000, `${metadata.ms} ms: refused before any connection`);
  });

  it('a drip server (1 byte every 2 s) ends by the minimum rate with one line, and no temp file is left', () => {
    publishAt(`${base}/drip`);
    const run = cli(['published', manifestPath, '--allow-private-network', '--timeout', '5', '--speed-time', '3']);
    assert.equal(run.status, 2, run.output);
    assert.match(run.stdout, /^UNREACHABLE hello http:\/\/127\.0\.0\.1:\d+\/drip: slower than 1024 bytes\/s for 3 s after \d+ bytes$/m);
    assert.ok(run.ms < 10_000, `${run.ms} ms`);
    assert.deepEqual(leftovers(), []);
  });

  it('reproduce --published and report --published take the same download bounds', () => {
    publishAt(`${base}/drip`);
    const reproduce = cli(['reproduce', manifestPath, '--published', '--allow-private-network', '--speed-time', '2']);
    assert.equal(reproduce.status, 2, reproduce.output);
    assert.match(reproduce.stdout, /\/drip: slower than 1024 bytes\/s for 2 s after \d+ bytes$/m);
    const report = cli(['report', ws, '--published', '--no-pins', '--allow-private-network', '--deadline', '2', '--speed-limit', '0']);
    assert.equal(report.status, 1, report.output);
    assert.match(report.output, /\/drip: took longer than the 2 s deadline after \d+ bytes/);
    assert.ok(report.ms < 15_000, `${report.ms} ms`);
    assert.deepEqual(leftovers(), []);
  });

  it('a drip ends at the total deadline when the rate rule is off', () => {
    publishAt(`${base}/drip`);
    const run = cli(['published', manifestPath, '--allow-private-network', '--deadline', '4', '--speed-limit', '0']);
    assert.equal(run.status, 2, run.output);
    assert.match(run.stdout, /\/drip: took longer than the 4 s deadline after \d+ bytes$/m);
    assert.ok(run.ms < 10_000, `${run.ms} ms`);
    assert.deepEqual(leftovers(), []);
  });

  it('SIGTERM and SIGINT during a download leave no reprokit-published-* directory behind', async () => {
    publishAt(`${base}/drip`);
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const child = spawn(process.execPath, [BIN, 'published', manifestPath, '--allow-private-network'], { cwd: ws, env: { PATH: process.env.PATH, HOME: ws, TMPDIR: temp }, stdio: 'ignore' });
      for (let i = 0; i < 100 && leftovers().length === 0; i++) await new Promise((done) => setTimeout(done, 50));
      assert.equal(leftovers().length, 1, 'the download started');
      const ended = new Promise<NodeJS.Signals | null>((done) => child.on('exit', (_code, got) => done(got)));
      child.kill(signal);
      assert.equal(await ended, signal);
      assert.deepEqual(leftovers(), []);
    }
  });
});
