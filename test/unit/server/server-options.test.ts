/**
 * Server options beyond the basics: zookeeper.superUser for SASL,
 * readonlymode.enabled (accepted, ignored standalone), what the launcher's
 * toServerOptions carries over from zoo.cfg, and idle sessionless
 * connections being closed (zookeeper.nio.sessionlessCnxnTimeout).
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { ACL, Id, NoAuthError, Perms } from '../../../src';
import { ZooKeeperServer } from '../../../src/server';
import { parseZooCfg } from '../../../src/server/config';
import { toServerOptions } from '../../../src/cli/server-launch';
import { generateDigest } from '../../../src/server/tree/acl-check';
import { connectClient, eventually } from './tree-dump';

jest.setTimeout(30_000);

describe('server options', () => {
  it('superUser: the named SASL user may do anything, other SASL users may not', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-superuser-'));
    const jaas = path.join(dir, 'jaas.conf');
    fs.writeFileSync(jaas, 'Server {\n  org.apache.zookeeper.server.auth.DigestLoginModule required\n  user_admin="adminpw"\n  user_bob="bobpw";\n};\n');
    const srv = await ZooKeeperServer.start({ clientPort: 0, jaasConfigFile: jaas, superUser: 'admin' });
    try {
      const owner = await connectClient(srv.connectString, { authInfo: [{ scheme: 'digest', auth: 'carol:pw' }] });
      await owner.create('/private', 'carol', { acl: [new ACL({ perms: Perms.ALL, id: new Id({ scheme: 'digest', id: generateDigest('carol:pw') }) })] });
      const admin = await connectClient(srv.connectString, { sasl: { mechanism: 'DIGEST-MD5', username: 'admin', password: 'adminpw' } });
      const bob = await connectClient(srv.connectString, { sasl: { mechanism: 'DIGEST-MD5', username: 'bob', password: 'bobpw' } });
      expect((await admin.getData('/private')).data!.toString()).toBe('carol');
      await admin.setData('/private', 'admin was here');
      await expect(bob.getData('/private')).rejects.toBeInstanceOf(NoAuthError);
      for (const c of [owner, admin, bob]) await c.close();
    } finally {
      await srv.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('readOnlyModeEnabled is accepted and a standalone server stays read-write, like Apache', async () => {
    const srv = await ZooKeeperServer.start({ clientPort: 0, readOnlyModeEnabled: true, fourLetterWordWhitelist: '*' });
    try {
      const ctx = srv.fourLetterContext();
      expect(ctx.mode()).toBe('standalone');
      const zk = await connectClient(srv.connectString, { canBeReadOnly: true });
      await zk.create('/rw', '');
      await zk.close();
    } finally {
      await srv.close();
    }
  });

  it('toServerOptions carries ssl.protocol, ssl.hostnameVerification, superUsers, read-only mode and the listen backlog', () => {
    const cfg = parseZooCfg(
      [
        'tickTime=2000',
        'dataDir=/tmp/zk-options-test',
        'clientPort=2181',
        'secureClientPort=2281',
        'clientPortListenBacklog=77',
        'ssl.protocol=TLSv1.2',
        'ssl.hostnameVerification=false',
        'ssl.clientAuth=want',
      ].join('\n'),
      {
        systemProperties: {
          'zookeeper.superUser': 'admin',
          'zookeeper.X509AuthenticationProvider.superUser': 'CN=admin',
          'readonlymode.enabled': 'true',
          'zookeeper.nio.sessionlessCnxnTimeout': '5000',
        },
      },
    );
    const o = toServerOptions(cfg);
    expect(o.ssl).toMatchObject({ protocol: 'TLSv1.2', hostnameVerification: false, clientAuth: 'want' });
    expect(o.superUser).toBe('admin');
    expect(o.x509SuperUser).toBe('CN=admin');
    expect(o.readOnlyModeEnabled).toBe(true);
    expect(o.clientPortListenBacklog).toBe(77);
    expect(o.sessionlessCnxnTimeout).toBe(5000);
  });

  it('closes a connection that never starts a session after sessionlessCnxnTimeout', async () => {
    const srv = await ZooKeeperServer.start({ clientPort: 0, sessionlessCnxnTimeout: 300 });
    try {
      const s = net.connect(srv.clientPort, '127.0.0.1');
      let closedAt = 0;
      s.on('close', () => (closedAt = Date.now()));
      s.on('error', () => undefined);
      const opened = Date.now();
      await eventually(() => closedAt > 0, 3000, 'the idle connection to be closed');
      expect(closedAt - opened).toBeGreaterThanOrEqual(250);
      // A connection with a session is kept while the client pings.
      const zk = await connectClient(srv.connectString, { sessionTimeout: 4000 });
      await new Promise((r) => setTimeout(r, 800));
      await zk.create('/alive', '');
      await zk.close();
    } finally {
      await srv.close();
    }
  });
});
