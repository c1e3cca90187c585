/**
 * The client against real Apache ZooKeeper 3.8 (via test/harness): every
 * operation once, chroot in and out, watches across a reconnect, expiry,
 * SASL DIGEST-MD5, TLS. The integration suite (test/integration) covers the
 * same ground more deeply against both servers; this file is the client's
 * own proof that it speaks to the reference server.
 */
import {
  ZooKeeper,
  CreateMode,
  Op,
  Ids,
  Perms,
  KeeperError,
  EventType,
  KeeperState,
  AddWatchMode,
  WatcherType,
  NoNodeError,
  NodeExistsError,
  BadVersionError,
  NotEmptyError,
  NoAuthError,
  BadArgumentsError,
  NoWatcherError,
  ReconfigDisabledError,
  SessionExpiredError,
  AuthFailedError,
  ConnectionLossError,
  WatchedEvent,
  ACL,
  Id,
} from '../../../src';
import { sessionOf } from '../../../src/client/zookeeper';
import { Cluster, startApache, apacheAvailable, TcpProxy, digestOf } from '../../harness';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(10);
  }
}

const describeApache = apacheAvailable() ? describe : describe.skip;

describeApache('client against Apache ZooKeeper 3.8', () => {
  let cluster: Cluster;
  const handles: ZooKeeper[] = [];
  let n = 0;
  async function open(suffix = '', opts: ConstructorParameters<typeof ZooKeeper>[1] = {}): Promise<ZooKeeper> {
    const zk = new ZooKeeper(cluster.connectString + suffix, { sessionTimeout: 6000, ...opts });
    handles.push(zk);
    await zk.connected();
    return zk;
  }

  beforeAll(async () => {
    cluster = await startApache({
      extendedTypes: true,
      tls: true,
      sasl: { users: { bob: 'bobpw' } },
      superDigest: digestOf('super', 'superpw'),
    });
  }, 60_000);
  afterEach(async () => {
    for (const zk of handles.splice(0)) await zk.close().catch(() => {});
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('runs every operation', async () => {
    const root = `/ops${n++}`;
    const zk = await open();
    expect(zk.sessionId).not.toBe(0n);
    expect(await zk.create(root, 'r')).toBe(root);
    const c2 = await zk.create2(`${root}/e-`, 'x', { mode: CreateMode.EPHEMERAL_SEQUENTIAL });
    expect(c2.path).toMatch(new RegExp(`^${root}/e-\\d{10}$`));
    expect(c2.stat.ephemeralOwner).toBe(zk.sessionId);
    expect(await zk.create(`${root}/p-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL })).toMatch(/p-\d{10}$/);
    expect(await zk.create(`${root}/eph`, null, { mode: CreateMode.EPHEMERAL })).toBe(`${root}/eph`);
    expect(await zk.create(`${root}/ttl`, null, { mode: CreateMode.PERSISTENT_WITH_TTL, ttl: 60_000 })).toBe(`${root}/ttl`);
    expect(await zk.create(`${root}/ttls-`, null, { mode: CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL, ttl: 60_000 })).toMatch(/ttls-\d{10}$/);
    expect(await zk.create(`${root}/cont`, null, { mode: CreateMode.CONTAINER })).toBe(`${root}/cont`);
    await expect(zk.create(root)).rejects.toBeInstanceOf(NodeExistsError);
    await expect(zk.create(`${root}/eph/kid`)).rejects.toMatchObject({ code: -108 });

    expect(await zk.exists(`${root}/none`)).toBeNull();
    const st = (await zk.exists(root))!;
    expect(st.numChildren).toBe(6);
    const { data, stat } = await zk.getData(root);
    expect(data!.toString()).toBe('r');
    expect((await zk.setData(root, 'w', stat.version)).version).toBe(stat.version + 1);
    await expect(zk.setData(root, 'z', stat.version)).rejects.toBeInstanceOf(BadVersionError);
    expect((await zk.getChildren(root)).sort()).toHaveLength(6);
    const c = await zk.getChildren2(root);
    expect(c.stat.numChildren).toBe(6);
    expect(await zk.getAllChildrenNumber(root)).toBe(6);
    expect((await zk.getEphemerals(root)).sort()).toEqual([c2.path, `${root}/eph`].sort());

    const acl = await zk.getACL(root);
    expect(acl.acl).toEqual(Ids.OPEN_ACL_UNSAFE);
    const readOnly = [new ACL({ perms: Perms.READ, id: new Id({ scheme: 'world', id: 'anyone' }) })];
    expect((await zk.setACL(`${root}/cont`, readOnly, -1)).aversion).toBe(1);
    await expect(zk.setData(`${root}/cont`, 'no')).rejects.toBeInstanceOf(NoAuthError);
    expect(await zk.sync(root)).toBe(root);

    await expect(zk.delete(root)).rejects.toBeInstanceOf(NotEmptyError);
    await expect(zk.delete(`${root}/none`)).rejects.toMatchObject({ code: -101, path: `${root}/none` });

    const ok = await zk.multi([Op.check(root, 1), Op.setData(root, 'm'), Op.create(`${root}/m`, 'd'), Op.delete(`${root}/m`)]);
    expect(ok.map((r) => r.type)).toEqual(['check', 'setData', 'create', 'delete']);
    const failed = await zk.multi([Op.create(`${root}/m2`), Op.delete(`${root}/none`), Op.setData(root, 'q')]).catch((e) => e);
    expect(failed).toBeInstanceOf(NoNodeError);
    expect(failed.opIndex).toBe(1);
    expect(failed.results.map((r: { err: number }) => r.err)).toEqual([0, -101, -2]);
    expect(await zk.exists(`${root}/m2`)).toBeNull();

    const reads = await zk.multiRead([Op.getData(root), Op.getChildren(`${root}/cont`), Op.getData(`${root}/none`)]);
    expect(reads[0]).toMatchObject({ type: 'getData' });
    expect((reads[0] as { data: Buffer }).data.toString()).toBe('m');
    expect(reads[1]).toEqual({ type: 'getChildren', children: [] });
    expect(reads[2]).toMatchObject({ type: 'error', err: -101 });

    const who = await zk.whoAmI();
    expect(who).toEqual([expect.objectContaining({ authScheme: 'ip', user: '127.0.0.1' })]);
    await zk.addAuthInfo('digest', 'alice:pw');
    expect((await zk.whoAmI()).map((i) => `${i.authScheme}:${i.user}`)).toContain('digest:alice');
    await zk.create(`${root}/mine`, 'secret', { acl: Ids.CREATOR_ALL_ACL });
    const other = await open();
    await expect(other.getData(`${root}/mine`)).rejects.toBeInstanceOf(NoAuthError);

    const cfg = await zk.getConfig();
    expect(cfg.stat).toBeDefined();
    await expect(zk.reconfig({ leaving: '2' })).rejects.toBeInstanceOf(ReconfigDisabledError);

    await expect(zk.getData(`${root}/\ud83d\ude00`)).rejects.toBeInstanceOf(BadArgumentsError);
    await expect(zk.create('/bad/')).rejects.toBeInstanceOf(BadArgumentsError);
    // Non-BMP characters are refused (as Apache does), but other non-ASCII paths work.
    expect(await zk.create(`${root}/日本語-ü`, 'u')).toBe(`${root}/日本語-ü`);
    expect(await zk.getChildren(root)).toContain('日本語-ü');

    const big = Buffer.alloc(1000 * 1000, 7);
    await zk.setData(root, big);
    expect((await zk.getData(root)).data!.equals(big)).toBe(true);
  });

  it('delivers one-shot, persistent and removal events with Java semantics', async () => {
    const root = `/w${n++}`;
    const zk = await open();
    const writer = await open();
    await zk.create(root, 'a');
    const events: [string, WatchedEvent][] = [];
    const tag = (name: string) => (e: WatchedEvent) => void (e.path !== null && events.push([name, e]));
    const data = tag('data');
    const exist = tag('exist');
    const child = tag('child');
    const rec = tag('rec');
    await zk.getData(root, data);
    await zk.getData(root, data); // same function: one call per event
    expect(await zk.exists(`${root}/k`, exist)).toBeNull();
    await zk.getChildren(root, child);
    await writer.setData(root, 'b');
    await writer.create(`${root}/k`);
    await until(() => events.length >= 3);
    await sleep(50);
    expect(events.map(([n, e]) => `${n}:${e.type}:${e.path}`).sort()).toEqual(
      [`data:${EventType.NodeDataChanged}:${root}`, `exist:${EventType.NodeCreated}:${root}/k`, `child:${EventType.NodeChildrenChanged}:${root}`].sort(),
    );
    events.length = 0;

    await zk.addWatch(root, rec, AddWatchMode.PERSISTENT_RECURSIVE);
    await writer.setData(`${root}/k`, 'x');
    await writer.create(`${root}/k/deep`);
    await writer.delete(`${root}/k/deep`);
    await until(() => events.length >= 3);
    expect(events.map(([, e]) => `${e.type}:${e.path}`)).toEqual([
      `${EventType.NodeDataChanged}:${root}/k`,
      `${EventType.NodeCreated}:${root}/k/deep`,
      `${EventType.NodeDeleted}:${root}/k/deep`,
    ]);
    events.length = 0;

    await zk.getData(root, data);
    await zk.removeWatches(root, data, WatcherType.Data);
    await expect(zk.removeWatches(root, data, WatcherType.Data)).rejects.toBeInstanceOf(NoWatcherError);
    // Apache 3.8 knows WatcherType Children/Data/Any only (Persistent and PersistentRecursive arrive in 3.9).
    await zk.removeAllWatches(root, WatcherType.Any);
    await until(() => events.length >= 2);
    expect(events.map(([n, e]) => `${n}:${e.type}`)).toEqual([`data:${EventType.DataWatchRemoved}`, `rec:${EventType.PersistentWatchRemoved}`]);
    events.length = 0;
    await writer.setData(root, 'c');
    await sleep(100);
    expect(events).toEqual([]);

    // local removal works while disconnected
    await zk.getChildren(root, child);
    sessionOf(zk).connection.dropConnection();
    await zk.removeWatches(root, child, WatcherType.Children, true);
    await until(() => events.length >= 1);
    expect(events[0][1].type).toBe(EventType.ChildWatchRemoved);
  });

  it('maps every path through the chroot', async () => {
    const base = `/chroot${n++}`;
    const admin = await open();
    await admin.create(base);
    const zk = await open(base);
    expect(zk.chroot).toBe(base);
    expect(await zk.create('/a', 'x')).toBe('/a');
    expect((await zk.create2('/s-', null, { mode: CreateMode.PERSISTENT_SEQUENTIAL })).path).toMatch(/^\/s-\d{10}$/);
    const kids = (await zk.getChildren('/')).sort();
    expect(kids).toHaveLength(2);
    expect(kids[0]).toBe('a');
    expect(kids[1]).toMatch(/^s-\d{10}$/);
    expect(await admin.exists(`${base}/a`)).not.toBeNull();
    const results = await zk.multi([Op.create('/b'), Op.create('/b/c')]);
    expect(results.map((r) => (r as { path: string }).path)).toEqual(['/b', '/b/c']);
    expect(await zk.sync('/b')).toBe('/b');
    const seen: WatchedEvent[] = [];
    await zk.getData('/a', (e) => void seen.push(e));
    await zk.addWatch('/', (e) => void (e.path !== null && seen.push(e)), AddWatchMode.PERSISTENT_RECURSIVE);
    await admin.setData(`${base}/a`, 'y');
    await until(() => seen.length >= 2);
    expect(seen.map((e) => e.path)).toEqual(['/a', '/a']);
    await zk.create('/e', null, { mode: CreateMode.EPHEMERAL });
    expect(await zk.getEphemerals('/')).toEqual(['/e']);
    // getConfig is never chroot-prefixed
    await expect(zk.getConfig()).resolves.toBeDefined();
  });

  it('re-attaches after the network drops, re-registers watches and receives what it missed', async () => {
    const root = `/re${n++}`;
    const proxy = await TcpProxy.start(cluster.servers[0].clientPort);
    try {
      const writer = await open();
      await writer.create(root, 'a');
      const zk = new ZooKeeper(proxy.hostPort, { sessionTimeout: 8000 });
      handles.push(zk);
      await zk.connected();
      const states: KeeperState[] = [];
      zk.on('state', (s) => void states.push(s));
      const sid = zk.sessionId;
      const events: string[] = [];
      await zk.getData(root, (e) => void (e.path && events.push(`data ${e.type} ${e.path}`)));
      await zk.exists(`${root}/later`, (e) => void (e.path && events.push(`exist ${e.type} ${e.path}`)));
      await zk.addWatch(root, (e) => void (e.path && events.push(`persistent ${e.type} ${e.path}`)), AddWatchMode.PERSISTENT);
      const pending = zk.getData(root);
      proxy.refuse();
      proxy.cut();
      await expect(pending).rejects.toBeInstanceOf(ConnectionLossError);
      await until(() => states.includes(KeeperState.Disconnected));
      await writer.setData(root, 'changed');
      await writer.create(`${root}/later`);
      proxy.allow();
      await zk.connected();
      expect(zk.sessionId).toBe(sid);
      // Apache re-fires missed one-shot watches (and, with SetWatches2, the persistent one's data change);
      // a persistent watch's missed child changes are not replayed by the server.
      await until(() => events.length >= 3);
      await sleep(100);
      expect(events.sort()).toEqual(
        [
          `data ${EventType.NodeDataChanged} ${root}`,
          `persistent ${EventType.NodeDataChanged} ${root}`,
          `exist ${EventType.NodeCreated} ${root}/later`,
        ].sort(),
      );
      expect((await zk.getData(root)).data!.toString()).toBe('changed');
    } finally {
      await proxy.close();
    }
  });

  it('raises Expired when the session is closed elsewhere; ephemerals go and the handle is dead', async () => {
    const root = `/exp${n++}`;
    const proxy = await TcpProxy.start(cluster.servers[0].clientPort);
    try {
      const zk = new ZooKeeper(proxy.hostPort, { sessionTimeout: 8000 });
      handles.push(zk);
      await zk.connected();
      await zk.create(root);
      await zk.create(`${root}/e`, null, { mode: CreateMode.EPHEMERAL });
      const states: KeeperState[] = [];
      zk.on('state', (s) => void states.push(s));
      // Keep the handle away while a twin takes the session over and closes it
      // (a Netty server drops the old connection when the session moves, and a
      // handle that got back in would move it back).
      proxy.refuse();
      proxy.cut();
      const twin = new ZooKeeper(cluster.connectString, { sessionId: zk.sessionId, sessionPassword: zk.sessionPassword, sessionTimeout: 8000 });
      await twin.connected();
      expect(twin.sessionId).toBe(zk.sessionId);
      await twin.close();
      proxy.allow();
      await until(() => states.includes(KeeperState.Expired), 10_000);
      expect(states).toEqual([KeeperState.Disconnected, KeeperState.Expired]);
      await expect(zk.getData(root)).rejects.toBeInstanceOf(SessionExpiredError);
      await expect(zk.connected()).rejects.toBeInstanceOf(SessionExpiredError);
      const other = await open();
      expect(await other.exists(`${root}/e`)).toBeNull();
    } finally {
      await proxy.close();
    }
  });

  it('authenticates with SASL DIGEST-MD5, and fails the handle on a wrong password', async () => {
    const zk = await open('', { sasl: { mechanism: 'DIGEST-MD5', username: 'bob', password: 'bobpw' } });
    const states: KeeperState[] = [];
    expect((await zk.whoAmI()).map((i) => `${i.authScheme}:${i.user}`)).toContain('sasl:bob');
    void states;
    const bad = new ZooKeeper(cluster.connectString, { sessionTimeout: 6000, sasl: { mechanism: 'DIGEST-MD5', username: 'bob', password: 'nope' } });
    handles.push(bad);
    await expect(bad.connected()).rejects.toBeInstanceOf(AuthFailedError);
    expect(bad.state).toBe(KeeperState.AuthFailed);
    await expect(bad.getData('/')).rejects.toBeInstanceOf(AuthFailedError);
  });

  it('connects over TLS with a client certificate, and refuses an untrusted server', async () => {
    const t = cluster.tls!;
    const secure = new ZooKeeper(cluster.secureConnectString!, { sessionTimeout: 6000, tls: { ca: t.caCert, cert: t.clientCert, key: t.clientKey } });
    handles.push(secure);
    await secure.connected();
    expect(await secure.exists('/')).not.toBeNull();
    const untrusting = new ZooKeeper(cluster.secureConnectString!, {
      sessionTimeout: 6000,
      connectTimeout: 1500,
      tls: { ca: t.untrustedCaCert, cert: t.clientCert, key: t.clientKey },
    });
    handles.push(untrusting);
    const err = await untrusting.connected().catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionLossError);
    expect(String(err.cause?.message ?? err.message)).toMatch(/certificate|self.signed|verify/i);
  });

  it('fails the handle with AuthFailed on an unknown auth scheme, as the Java client does', async () => {
    const zk = await open();
    await expect(zk.addAuthInfo('nosuchscheme', 'x')).rejects.toBeInstanceOf(AuthFailedError);
    expect(zk.state).toBe(KeeperState.AuthFailed);
    void KeeperError;
  });
});
