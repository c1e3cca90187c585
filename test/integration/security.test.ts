/**
 * Authentication and transport security: SASL DIGEST-MD5 with users from a
 * JAAS file, the super digest, and TLS on the secure client port with a
 * client-certificate check.
 */
import { Cluster, digestOf, startTarget, targetsWith } from '../harness';
import { ACL, ErrorCode, Id, Ids, KeeperState } from '../../src';
import { Clients, describeEachTarget, START_TIMEOUT, StateLog, keeperError, uniquePath } from './client-fixtures';

describeEachTarget(targetsWith('sasl'), 'SASL and super digest on %s', (kind) => {
  let cluster: Cluster;
  const clients = new Clients();

  beforeAll(async () => {
    cluster = await startTarget(kind, {
      sasl: { users: { bob: 'bobs-secret', eve: 'eves-secret' } },
      superDigest: digestOf('super', 'superpw'),
    });
  }, START_TIMEOUT);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  test('DIGEST-MD5 login: whoAmI shows the sasl identity and sasl ACLs admit only that user', async () => {
    const bob = await clients.connect(cluster.connectString, { sasl: { mechanism: 'DIGEST-MD5', username: 'bob', password: 'bobs-secret' } });
    const who = await bob.whoAmI();
    expect(who).toEqual(expect.arrayContaining([expect.objectContaining({ authScheme: 'sasl', user: 'bob' })]));
    const p = uniquePath('sasl');
    await bob.create(p, Buffer.from('bob only'), { acl: [new ACL({ perms: 31, id: new Id({ scheme: 'sasl', id: 'bob' }) })] });
    expect((await bob.getData(p)).data!.toString()).toBe('bob only');

    const eve = await clients.connect(cluster.connectString, { sasl: { mechanism: 'DIGEST-MD5', username: 'eve', password: 'eves-secret' } });
    expect((await keeperError(eve.getData(p))).code).toBe(ErrorCode.NOAUTH);
    const anon = await clients.connect(cluster.connectString);
    expect((await keeperError(anon.getData(p))).code).toBe(ErrorCode.NOAUTH);
  });

  test('a wrong SASL password ends in AuthFailed', async () => {
    const zk = clients.create(cluster.connectString, { sasl: { mechanism: 'DIGEST-MD5', username: 'bob', password: 'wrong' } });
    const states = new StateLog(zk);
    const outcome = await zk.connected().then(() => 'connected', (e: unknown) => e);
    if (outcome === 'connected') {
      // The handshake succeeds before SASL runs; the failure must follow.
      await states.waitFor(KeeperState.AuthFailed, 10_000);
      expect((await keeperError(zk.getData('/'))).code).toBe(ErrorCode.AUTHFAILED);
    } else {
      expect((outcome as { code?: number }).code).toBe(ErrorCode.AUTHFAILED);
    }
    expect(states.states).toContain(KeeperState.AuthFailed);
  });

  test('the super user passes every ACL', async () => {
    const owner = await clients.connect(cluster.connectString);
    await owner.addAuthInfo('digest', Buffer.from('carol:pw'));
    const p = uniquePath('super');
    await owner.create(p, Buffer.from('carol'), { acl: Ids.CREATOR_ALL_ACL });
    const other = await clients.connect(cluster.connectString);
    expect((await keeperError(other.getData(p))).code).toBe(ErrorCode.NOAUTH);
    const root = await clients.connect(cluster.connectString);
    await root.addAuthInfo('digest', Buffer.from('super:superpw'));
    expect((await root.getData(p)).data!.toString()).toBe('carol');
    await root.delete(p);
  });

  test('addAuthInfo with a scheme the server does not know fails AuthFailed', async () => {
    const zk = await clients.connect(cluster.connectString);
    const err = await keeperError(zk.addAuthInfo('nosuchscheme', Buffer.from('x')));
    expect(err.code).toBe(ErrorCode.AUTHFAILED);
  });
});

describeEachTarget(targetsWith('tls'), 'TLS on %s', (kind) => {
  let cluster: Cluster;
  const clients = new Clients();

  beforeAll(async () => {
    cluster = await startTarget(kind, { tls: true });
  }, START_TIMEOUT);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  test('a client with a trusted CA and a client certificate connects and works', async () => {
    const t = cluster.tls!;
    const zk = await clients.connect(cluster.secureConnectString!, { tls: { ca: t.caCert, cert: t.clientCert, key: t.clientKey } });
    const p = uniquePath('tls');
    await zk.create(p, Buffer.from('secure'));
    expect((await zk.getData(p)).data!.toString()).toBe('secure');
    const who = await zk.whoAmI();
    expect(who.some((w) => w.authScheme === 'x509' || w.authScheme === 'ip')).toBe(true);
  });

  test('without a client certificate the server refuses (clientAuth=need)', async () => {
    const t = cluster.tls!;
    const zk = clients.create(cluster.secureConnectString!, { sessionTimeout: 4000, connectTimeout: 3000, tls: { ca: t.caCert } });
    await expect(zk.connected()).rejects.toThrow();
  });

  test('the client rejects a server certificate from an untrusted CA', async () => {
    const t = cluster.tls!;
    const zk = clients.create(cluster.secureConnectString!, { sessionTimeout: 4000, connectTimeout: 3000, tls: { ca: t.untrustedCaCert, cert: t.clientCert, key: t.clientKey } });
    const errors: unknown[] = [];
    zk.on('error', (e: unknown) => errors.push(e));
    await expect(zk.connected()).rejects.toThrow();
    expect(errors.map(String).join('\n')).toMatch(/certificate|self.signed|verify/i);
  });

  test('the plain port still serves plain clients', async () => {
    const zk = await clients.connect(cluster.connectString);
    expect(await zk.exists('/')).not.toBeNull();
  });
});
