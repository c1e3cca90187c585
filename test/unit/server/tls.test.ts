/**
 * TLS on our server's secureClientPort: PEM and PKCS12 keystores and
 * truststores, ssl.clientAuth need/want/none, our client connecting with
 * {ca, cert, key}, refusals of clients without (trusted) certificates, and
 * the x509 scheme (the client certificate's subject DN, as Java prints it)
 * in ACLs. Certificates are generated per run with openssl (test/harness).
 */
import { execFileSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ACL, Id, NoAuthError, Perms, type ZooKeeper } from '../../../src';
import { ZooKeeperServer, type SslOptions } from '../../../src/server';
import { TlsConfigError, pkcs12Certificates, x509SubjectName } from '../../../src/server/net/tls-options';
import { generateTlsFixtures, type TlsFixtures } from '../../harness/tls-fixtures';
import { connectClient } from './tree-dump';

jest.setTimeout(60_000);

let fx: TlsFixtures;
let dir: string;
let pemKeyStore: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-server-tls-'));
  fx = generateTlsFixtures(dir);
  // Apache's PEM keystore: private key and certificate chain in one file.
  pemKeyStore = path.join(dir, 'server-keystore.pem');
  fs.writeFileSync(pemKeyStore, Buffer.concat([fx.serverKey, fx.serverCert, fx.caCert]));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const CLIENT_DN = 'CN=client-clientAuth';

async function startTls(ssl: SslOptions): Promise<ZooKeeperServer> {
  return ZooKeeperServer.start({ secureClientPort: 0, ssl });
}

function tlsClient(srv: ZooKeeperServer, withCert: 'trusted' | 'untrusted' | 'none'): Promise<ZooKeeper> {
  const tls =
    withCert === 'trusted'
      ? { ca: fx.caCert, cert: fx.clientCert, key: fx.clientKey }
      : withCert === 'untrusted'
        ? { ca: fx.caCert, cert: fx.untrustedClientCert, key: fx.untrustedClientKey }
        : { ca: fx.caCert };
  return connectClient(srv.secureConnectString!, { tls, connectTimeout: 2000 });
}

async function expectRefused(p: Promise<ZooKeeper>): Promise<void> {
  await expect(p).rejects.toThrow();
}

describe('secure client port', () => {
  it('PEM keystore + PEM truststore, clientAuth=need: a trusted client gets an x509 id; no cert or an untrusted one is refused', async () => {
    const srv = await startTls({ keyStoreLocation: pemKeyStore, trustStoreLocation: fx.files.caCert, clientAuth: 'need' });
    try {
      expect(srv.clientPort).toBe(-1);
      const zk = await tlsClient(srv, 'trusted');
      const who = await zk.whoAmI();
      expect(who.map((w) => `${w.authScheme}:${w.user}`)).toContain(`x509:${CLIENT_DN}`);
      await zk.create('/tls', 'over tls');
      expect((await zk.getData('/tls')).data!.toString()).toBe('over tls');
      await zk.close();
      await expectRefused(tlsClient(srv, 'none'));
      await expectRefused(tlsClient(srv, 'untrusted'));
    } finally {
      await srv.close();
    }
  });

  it('PKCS12 keystore + PKCS12 truststore, clientAuth=want: cert-less clients connect, x509 ACLs tell them apart', async () => {
    const srv = await startTls({
      keyStoreLocation: fx.files.serverKeyStore,
      keyStorePassword: fx.storePassword,
      trustStoreLocation: fx.files.trustStore,
      trustStorePassword: fx.storePassword,
      clientAuth: 'want',
    });
    try {
      const withCert = await tlsClient(srv, 'trusted');
      const anonymous = await tlsClient(srv, 'none');
      expect((await anonymous.whoAmI()).some((w) => w.authScheme === 'x509')).toBe(false);
      // An ACL naming the client certificate's DN: only that client may read or change the node.
      await withCert.create('/cert-only', 'secret', { acl: [new ACL({ perms: Perms.ALL, id: new Id({ scheme: 'x509', id: CLIENT_DN }) })] });
      expect((await withCert.getData('/cert-only')).data!.toString()).toBe('secret');
      await expect(anonymous.getData('/cert-only')).rejects.toBeInstanceOf(NoAuthError);
      const { acl } = await withCert.getACL('/cert-only');
      expect(acl.map((a) => `${a.id.scheme}:${a.id.id}`)).toEqual([`x509:${CLIENT_DN}`]);
      await withCert.close();
      await anonymous.close();
      // 'want' still refuses a certificate that was presented but does not verify.
      await expectRefused(tlsClient(srv, 'untrusted'));
    } finally {
      await srv.close();
    }
  });

  it('clientAuth=none: no client certificate is asked for; the plain port can run alongside', async () => {
    const srv = await ZooKeeperServer.start({
      clientPort: 0,
      secureClientPort: 0,
      ssl: { keyStoreLocation: fx.files.serverKeyStore, keyStorePassword: fx.storePassword, clientAuth: 'none' },
    });
    try {
      const zk = await tlsClient(srv, 'none');
      await zk.create('/n', '');
      await zk.close();
      const plain = await connectClient(srv.connectString);
      expect(await plain.exists('/n')).not.toBeNull();
      await plain.close();
    } finally {
      await srv.close();
    }
  });

  it('ssl.protocol limits the protocol versions spoken', async () => {
    const srv = await startTls({ keyStoreLocation: pemKeyStore, clientAuth: 'none', protocol: 'TLSv1.2' });
    try {
      await expectRefused(connectClient(srv.secureConnectString!, { tls: { ca: fx.caCert, minVersion: 'TLSv1.3' }, connectTimeout: 1500 }));
      const zk = await connectClient(srv.secureConnectString!, { tls: { ca: fx.caCert, maxVersion: 'TLSv1.2' } });
      await zk.close();
    } finally {
      await srv.close();
    }
  });

  it('a PKCS12 truststore needs openssl: a clear error when it is missing', () => {
    const missing = path.join(dir, 'no-such-bin', 'openssl');
    expect(() => pkcs12Certificates(fx.files.trustStore, fx.storePassword, missing)).toThrow(TlsConfigError);
    expect(() => pkcs12Certificates(fx.files.trustStore, fx.storePassword, missing)).toThrow(/needs the openssl command/);
    expect(pkcs12Certificates(fx.files.trustStore, fx.storePassword).toString()).toContain('BEGIN CERTIFICATE');
  });
});

describe('x509 ids', () => {
  it('are the subject DN exactly as Java 17 X500Principal.getName() prints it', () => {
    const keyFile = path.join(dir, 'dn-key.pem');
    const certFile = path.join(dir, 'dn-cert.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-keyout', keyFile, '-out', certFile,
      '-subj', '/C=US/ST=CA/O=Acme, Inc./OU=dev/OU=ops/CN=client #1/emailAddress=a@b.c'], { stdio: 'ignore' });
    const raw = new X509Certificate(fs.readFileSync(certFile)).raw;
    // Recorded from `java Dn.java` (X509Certificate.getSubjectX500Principal().getName()) on this certificate's subject.
    expect(x509SubjectName(raw)).toBe('1.2.840.113549.1.9.1=#16056140622e63,CN=client \\#1,OU=ops,OU=dev,O=Acme\\, Inc.,ST=CA,C=US');
    expect(x509SubjectName(new X509Certificate(fx.clientCert).raw)).toBe(CLIENT_DN);
  });
});
