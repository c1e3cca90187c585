/**
 * TLS material generated per test run with openssl and keytool: a CA, a
 * server certificate for 127.0.0.1/localhost signed by it, a client
 * certificate signed by it, and a second, untrusted CA with its own server
 * and client certificates (to prove that peers outside the trust chain are
 * refused). PEM files for Node and our server; PKCS12 keystores and a
 * truststore for Apache ZooKeeper.
 */
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';

export interface TlsFixtures {
  dir: string;
  /** Password of every keystore/truststore below. */
  storePassword: string;
  caCert: Buffer;
  serverCert: Buffer;
  serverKey: Buffer;
  clientCert: Buffer;
  clientKey: Buffer;
  /** A CA nobody trusts, and a client/server pair signed by it. */
  untrustedCaCert: Buffer;
  untrustedClientCert: Buffer;
  untrustedClientKey: Buffer;
  untrustedServerCert: Buffer;
  untrustedServerKey: Buffer;
  files: {
    caCert: string;
    serverCert: string;
    serverKey: string;
    clientCert: string;
    clientKey: string;
    untrustedCaCert: string;
    /** PKCS12: the server's key and certificate chain. */
    serverKeyStore: string;
    /** PKCS12: the trusted CA as a trusted-certificate entry. */
    trustStore: string;
    /** PKCS12 keystore of the server certificate signed by the untrusted CA. */
    untrustedServerKeyStore: string;
  };
}

function run(cmd: string, args: string[], cwd: string): void {
  try {
    execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    throw new Error(`${cmd} ${args.join(' ')} failed: ${e.stderr?.toString() ?? e.message}`);
  }
}

function makeCa(dir: string, name: string): void {
  run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-subj', `/CN=${name}`, '-keyout', `${name}-key.pem`, '-out', `${name}.pem`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'], dir);
}

/** A leaf certificate for `cn` with SANs 127.0.0.1 and localhost, signed by `ca`. */
function makeLeaf(dir: string, ca: string, name: string, usage: 'serverAuth' | 'clientAuth'): void {
  const ext = path.join(dir, `${name}.ext`);
  fs.writeFileSync(ext, [
    'basicConstraints=CA:FALSE',
    'keyUsage=critical,digitalSignature,keyEncipherment',
    // Both usages: Apache's trust manager checks client certs against
    // hostnames too, and Netty may check extendedKeyUsage either way.
    `extendedKeyUsage=serverAuth,clientAuth`,
    'subjectAltName=IP:127.0.0.1,DNS:localhost',
    '',
  ].join('\n'));
  run('openssl', ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}-${usage}`,
    '-keyout', `${name}-key.pem`, '-out', `${name}.csr`], dir);
  run('openssl', ['x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.pem`, '-CAkey', `${ca}-key.pem`,
    '-CAcreateserial', '-days', '2', '-extfile', ext, '-out', `${name}.pem`], dir);
}

function pkcs12KeyStore(dir: string, name: string, ca: string, password: string): string {
  const out = `${name}.p12`;
  run('openssl', ['pkcs12', '-export', '-in', `${name}.pem`, '-inkey', `${name}-key.pem`,
    '-certfile', `${ca}.pem`, '-name', name, '-out', out, '-passout', `pass:${password}`], dir);
  return path.join(dir, out);
}

/** Generates a fresh set of fixtures into `dir` (created if missing). Takes ~1 s. */
export function generateTlsFixtures(dir: string): TlsFixtures {
  fs.mkdirSync(dir, { recursive: true });
  const storePassword = 'test-store-pw';
  makeCa(dir, 'ca');
  makeCa(dir, 'untrusted-ca');
  makeLeaf(dir, 'ca', 'server', 'serverAuth');
  makeLeaf(dir, 'ca', 'client', 'clientAuth');
  makeLeaf(dir, 'untrusted-ca', 'untrusted-server', 'serverAuth');
  makeLeaf(dir, 'untrusted-ca', 'untrusted-client', 'clientAuth');
  const serverKeyStore = pkcs12KeyStore(dir, 'server', 'ca', storePassword);
  const untrustedServerKeyStore = pkcs12KeyStore(dir, 'untrusted-server', 'untrusted-ca', storePassword);
  // A truststore needs a trusted-certificate entry, which keytool writes
  // and `openssl pkcs12` does not (Java ignores openssl's cert-only bags).
  const trustStore = path.join(dir, 'truststore.p12');
  run('keytool', ['-importcert', '-noprompt', '-storetype', 'PKCS12', '-keystore', trustStore,
    '-storepass', storePassword, '-alias', 'ca', '-file', path.join(dir, 'ca.pem')], dir);
  const read = (f: string) => fs.readFileSync(path.join(dir, f));
  return {
    dir,
    storePassword,
    caCert: read('ca.pem'),
    serverCert: read('server.pem'),
    serverKey: read('server-key.pem'),
    clientCert: read('client.pem'),
    clientKey: read('client-key.pem'),
    untrustedCaCert: read('untrusted-ca.pem'),
    untrustedClientCert: read('untrusted-client.pem'),
    untrustedClientKey: read('untrusted-client-key.pem'),
    untrustedServerCert: read('untrusted-server.pem'),
    untrustedServerKey: read('untrusted-server-key.pem'),
    files: {
      caCert: path.join(dir, 'ca.pem'),
      serverCert: path.join(dir, 'server.pem'),
      serverKey: path.join(dir, 'server-key.pem'),
      clientCert: path.join(dir, 'client.pem'),
      clientKey: path.join(dir, 'client-key.pem'),
      untrustedCaCert: path.join(dir, 'untrusted-ca.pem'),
      serverKeyStore,
      trustStore,
      untrustedServerKeyStore,
    },
  };
}
