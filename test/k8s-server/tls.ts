import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The per-instance TLS material: a CA and a server certificate for 127.0.0.1/localhost. */
export interface TlsMaterial {
  caCert: string;
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/**
 * Creates the CA and server certificate in `dir` with the openssl CLI (EC P-256,
 * fast), or reuses them so a restarted server keeps the kubeconfig valid.
 */
export function ensureTls(dir: string): TlsMaterial {
  const files = { caCert: join(dir, 'ca.crt'), cert: join(dir, 'server.crt'), key: join(dir, 'server.key') };
  if (!existsSync(files.caCert) || !existsSync(files.cert) || !existsSync(files.key)) {
    writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature,keyEncipherment\n');
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'ca.key'], dir);
    openssl(['req', '-x509', '-new', '-key', 'ca.key', '-sha256', '-days', '3650', '-subj', '/CN=drivetrain-local-ca', '-out', 'ca.crt'], dir);
    openssl(['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', 'server.key'], dir);
    openssl(['req', '-new', '-key', 'server.key', '-subj', '/CN=kube-apiserver', '-out', 'server.csr'], dir);
    openssl(['x509', '-req', '-in', 'server.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-sha256', '-days', '3650', '-extfile', 'server.ext', '-out', 'server.crt'], dir);
  }
  return { caCert: readFileSync(files.caCert, 'utf8'), cert: readFileSync(files.cert, 'utf8'), key: readFileSync(files.key, 'utf8') };
}

/** The bearer token written into the kubeconfig (the server accepts any client). */
export const LOCAL_TOKEN = 'drivetrain-local-token';

/**
 * Writes a kubeconfig pointing at `url` with the CA inline; returns its path. By default
 * `<dir>/kubeconfig` with the administrator's token; `user` writes another user's.
 */
export function writeKubeconfig(dir: string, url: string, caCert: string, user: { token: string; fileName: string } = { token: LOCAL_TOKEN, fileName: 'kubeconfig' }): string {
  const path = join(dir, user.fileName);
  const ca = Buffer.from(caCert).toString('base64');
  const text = `apiVersion: v1
kind: Config
clusters:
- name: drivetrain-local
  cluster:
    server: ${url}
    certificate-authority-data: ${ca}
users:
- name: drivetrain-local
  user:
    token: ${user.token}
contexts:
- name: drivetrain-local
  context:
    cluster: drivetrain-local
    user: drivetrain-local
    namespace: default
current-context: drivetrain-local
preferences: {}
`;
  writeFileSync(path, text, { mode: 0o600 });
  return path;
}
