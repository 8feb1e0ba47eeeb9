// Certificates for a docker daemon with --tlsverify, made with openssl as Docker's "Protect the
// Docker daemon socket" guide makes them: a CA, a server certificate for 127.0.0.1 (subjectAltName
// IP, serverAuth) and a client certificate (clientAuth), each directory laid out as DOCKER_CERT_PATH
// wants it (ca.pem, cert.pem, key.pem). Plus a second CA, for clients the daemon must refuse and a
// daemon the client must refuse.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

function openssl(cwd: string, ...args: string[]): void {
  const result = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${result.stderr}`);
}

function ca(dir: string, name: string): void {
  openssl(dir, 'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.pem`);
}

function signed(dir: string, caName: string, name: string, extensions: string): void {
  writeFileSync(join(dir, `${name}.ext`), extensions);
  openssl(dir, 'req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.csr`);
  openssl(dir, 'x509', '-req', '-in', `${name}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}-key.pem`, '-CAcreateserial', '-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`);
}

/** DOCKER_CERT_PATH directories: `client` (the right one), `stranger` (a client cert of another CA), `wrongCa` (trusts another CA). */
export interface DockerCerts {
  server: { ca: string; cert: string; key: string };
  client: string;
  stranger: string;
  wrongCa: string;
}

export function makeDockerCerts(dir: string): DockerCerts {
  mkdirSync(dir, { recursive: true });
  ca(dir, 'ca');
  ca(dir, 'other-ca');
  signed(dir, 'ca', 'server', 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n');
  signed(dir, 'ca', 'client', 'extendedKeyUsage = clientAuth\n');
  signed(dir, 'other-ca', 'stranger', 'extendedKeyUsage = clientAuth\n');
  const certPath = (name: string, caFile: string, cert: string) => {
    const path = join(dir, name);
    mkdirSync(path);
    copyFileSync(join(dir, caFile), join(path, 'ca.pem'));
    copyFileSync(join(dir, `${cert}.pem`), join(path, 'cert.pem'));
    copyFileSync(join(dir, `${cert}-key.pem`), join(path, 'key.pem'));
    return path;
  };
  return {
    server: { ca: join(dir, 'ca.pem'), cert: join(dir, 'server.pem'), key: join(dir, 'server-key.pem') },
    client: certPath('client-certs', 'ca.pem', 'client'),
    stranger: certPath('stranger-certs', 'ca.pem', 'stranger'),
    wrongCa: certPath('wrong-ca-certs', 'other-ca.pem', 'client'),
  };
}
