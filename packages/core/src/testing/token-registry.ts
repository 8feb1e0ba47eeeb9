// A token-gated front of the local registry (127.0.0.1:5000), as Docker Hub, ghcr.io and Harbor
// are: every /v2/ request without the token gets 401 and `WWW-Authenticate: Bearer realm=…,
// service=…,scope=…`; the realm hands out a pull token for one repository; requests with it are
// proxied to the registry. What it saw is recorded for the test to check.
import { createServer, request, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Seen {
  path: string;
  authorization?: string;
  status: number;
}

/** The token-gated front of the local registry. `refuse`: the token service says 401 to everyone. */
export function tokenRegistry(repository: string): { server: Server; seen: Seen[]; tokenRequests: URL[]; mode: { refuse: boolean }; SERVICE: string; TOKEN: string } {
  const SERVICE = 'reprokit-test-registry';
  const TOKEN = `token-${process.pid}-${Date.now()}`;
  const seen: Seen[] = [];
  const tokenRequests: URL[] = [];
  const mode = { refuse: false };
  const server = createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/token') {
      tokenRequests.push(url);
      if (mode.refuse) return res.writeHead(401, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAUTHORIZED","message":"access denied"}]}');
      if (url.searchParams.get('service') !== SERVICE || url.searchParams.get('scope') !== `repository:${repository}:pull`) return res.writeHead(400).end('bad scope');
      return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: TOKEN, expires_in: 300 }));
    }
    const authorized = req.headers.authorization === `Bearer ${TOKEN}`;
    if (!authorized) {
      seen.push({ path: url.pathname, authorization: req.headers.authorization, status: 401 });
      const realm = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
      return res
        .writeHead(401, { 'www-authenticate': `Bearer realm="${realm}",service="${SERVICE}",scope="repository:${repository}:pull"`, 'content-type': 'application/json' })
        .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
    }
    const upstream = request({ host: '127.0.0.1', port: 5000, method: req.method, path: req.url, headers: { accept: req.headers.accept ?? '*/*' } }, (answer: IncomingMessage) => {
      seen.push({ path: url.pathname, authorization: req.headers.authorization, status: answer.statusCode! });
      res.writeHead(answer.statusCode!, answer.headers);
      answer.pipe(res);
    });
    upstream.on('error', () => res.writeHead(502).end());
    upstream.end();
  });
  return { server, seen, tokenRequests, mode, SERVICE, TOKEN };
}
