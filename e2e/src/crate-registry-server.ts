// The crate registry's server process (see crate-registry.ts): cargo's sparse protocol over HTTP
// on 127.0.0.1, files served from a directory, so that tests can replace a crate on disk while it
// runs. A process of its own: the tests run nx and cargo synchronously, which would starve a
// server in the test's own event loop. Prints its port, logs each request to <root>/requests.log.
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join, normalize } from 'node:path';

const root = process.argv[2];
const server = createServer((req, res) => {
  const url = (req.url ?? '/').split('?')[0];
  appendFileSync(join(root, 'requests.log'), `${req.method} ${url}\n`);
  const send = (status: number, body: string | Buffer) => {
    res.writeHead(status, { 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
  if (url === '/config.json') {
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return send(200, JSON.stringify({ dl: `${base}/dl/{crate}/{version}/download` }));
  }
  const path = normalize(join(root, 'files', url));
  if (!path.startsWith(join(root, 'files') + '/') || !existsSync(path) || !statSync(path).isFile()) return send(404, 'not found');
  send(200, readFileSync(path));
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as AddressInfo).port}\n`));
