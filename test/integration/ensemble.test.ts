/**
 * A 3-node ensemble: when the server a client is connected to dies, the
 * client moves to another with the same session and its watches still
 * fire; with read-only mode enabled and 2 of 3 servers gone, a
 * canBeReadOnly client keeps reading and is refused writes.
 */
import { Cluster, ServerHandle, TcpProxy, startTarget, targetsWith } from '../harness';
import { CreateMode, ErrorCode, EventType, KeeperState, ZooKeeper } from '../../src';
import { Clients, describeEachTarget, hex, EventLog, StateLog, keeperError, uniquePath } from './client-fixtures';

/** The server whose client port the handle's current connection goes to. */
function connectedServer(cluster: Cluster, zk: ZooKeeper): ServerHandle {
  const port = zk.currentHost?.port;
  const s = cluster.servers.find((x) => x.clientPort === port);
  if (!s) throw new Error(`client is connected to port ${port}, which is none of ${cluster.connectString}`);
  return s;
}

describeEachTarget(targetsWith('ensemble'), '3-node ensemble on %s', (kind) => {
  let cluster: Cluster;
  const clients = new Clients();

  beforeAll(async () => {
    cluster = await startTarget(kind, { servers: 3, tickTime: 500 });
  }, 90_000);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  test('getConfig shows the ensemble membership', async () => {
    const zk = await clients.connect(cluster.connectString);
    const text = (await zk.getConfig()).data!.toString();
    for (const s of cluster.servers) {
      expect(text).toMatch(new RegExp(`^server\\.${s.id}=127\\.0\\.0\\.1:\\d+:\\d+:participant;127\\.0\\.0\\.1:${s.clientPort}$`, 'm'));
    }
    // A chrooted client reads the same node: /zookeeper/config is never prefixed.
    const rooted = await clients.connect(`${cluster.connectString}/some/chroot`);
    expect((await rooted.getConfig()).data!.toString()).toBe(text);
  });

  test('a partitioned server (sockets open, no bytes) is left for another, same session', async () => {
    // One proxy per server: pausing the connected one's proxy is a partition
    // the client only notices through its read timeout.
    const proxies = await Promise.all(cluster.servers.map((s) => TcpProxy.start(s.clientPort)));
    try {
      const zk = await clients.connect(proxies.map((p) => p.hostPort).join(','), { sessionTimeout: 3000 });
      const states = new StateLog(zk);
      const id = zk.sessionId;
      const p = uniquePath('partition');
      await zk.create(p, Buffer.from('0'));
      const log = new EventLog();
      await zk.getData(p, log.watcher);
      const current = proxies.find((x) => x.port === zk.currentHost?.port)!;
      const mark = states.mark();
      current.pause();
      await states.waitFor(KeeperState.Disconnected, 5000, mark);
      await states.waitFor(KeeperState.SyncConnected, 15_000, mark);
      expect(zk.currentHost?.port).not.toBe(current.port);
      expect(hex(zk.sessionId)).toBe(hex(id));
      const writer = await clients.connect(cluster.connectString);
      await writer.setData(p, Buffer.from('1'), -1);
      await log.nextOf(EventType.NodeDataChanged, p, 10_000);
      current.resume();
    } finally {
      await Promise.all(proxies.map((x) => x.close()));
    }
  }, 60_000);

  test('failover: same session on another server, watches and ephemerals survive', async () => {
    const zk = await clients.connect(cluster.connectString, { sessionTimeout: 6000 });
    const observer = await clients.connect(cluster.connectString);
    const states = new StateLog(zk);
    const id = zk.sessionId;
    const p = uniquePath('failover');
    await zk.create(p, Buffer.from('0'));
    await zk.create(`${p}-eph`, null, { mode: CreateMode.EPHEMERAL });
    const log = new EventLog();
    await zk.getData(p, log.watcher);
    const kids = new EventLog();
    await zk.getChildren(p, kids.watcher);

    const victim = connectedServer(cluster, zk);
    const mark = states.mark();
    await victim.kill();
    await states.waitFor(KeeperState.Disconnected, 5000, mark);
    await states.waitFor(KeeperState.SyncConnected, 20_000, mark);
    expect(hex(zk.sessionId)).toBe(hex(id));
    expect(connectedServer(cluster, zk)).not.toBe(victim);

    // The observer may have been on the victim too; it reconnects by itself.
    await observer.setData(p, Buffer.from('1'), -1);
    await observer.create(`${p}/kid`, null);
    await log.nextOf(EventType.NodeDataChanged, p, 10_000);
    await kids.nextOf(EventType.NodeChildrenChanged, p, 10_000);
    expect(hex((await observer.exists(`${p}-eph`))!.ephemeralOwner)).toBe(hex(id));
    expect((await zk.getData(p)).data!.toString()).toBe('1');

    await victim.start();
    await cluster.waitHealthy();
  }, 60_000);

});

describeEachTarget(targetsWith('ensemble', 'readOnly'), 'read-only mode on %s', (kind) => {
  let cluster: Cluster;
  const clients = new Clients();

  beforeAll(async () => {
    cluster = await startTarget(kind, { servers: 3, readOnlyMode: true, tickTime: 500 });
  }, 90_000);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  test('read-only mode: with 2 of 3 down, a canBeReadOnly client reads and cannot write', async () => {
    const writer = await clients.connect(cluster.connectString);
    const p = uniquePath('ro');
    await writer.create(p, Buffer.from('before'));
    await writer.sync(p);
    await writer.close();

    const survivor = cluster.servers[0];
    await Promise.all(cluster.servers.slice(1).map((s) => s.kill()));
    // A server without quorum turns read-only after a short while.
    const deadline = Date.now() + 30_000;
    while ((await survivor.mode()) !== 'read-only' && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
    expect(await survivor.mode()).toBe('read-only');

    const ro = clients.create(survivor.hostPort, { canBeReadOnly: true, sessionTimeout: 6000 });
    const states = new StateLog(ro);
    await ro.connected();
    await states.waitFor(KeeperState.ConnectedReadOnly, 10_000);
    expect((await ro.getData(p)).data!.toString()).toBe('before');
    expect(await ro.getChildren('/')).toContain(p.slice(1));
    expect((await keeperError(ro.setData(p, Buffer.from('x'), -1))).code).toBe(ErrorCode.NOTREADONLY);
    expect((await keeperError(ro.create(`${p}/c`, null))).code).toBe(ErrorCode.NOTREADONLY);

    // A client that does not accept read-only servers does not connect.
    const rw = clients.create(survivor.hostPort, { sessionTimeout: 4000, connectTimeout: 3000 });
    await expect(rw.connected()).rejects.toThrow();

    // Quorum back: the r/o client moves to a read-write session.
    await Promise.all(cluster.servers.slice(1).map((s) => s.start({ waitFor: 'process' })));
    await cluster.waitHealthy(60_000);
    await states.waitFor(KeeperState.SyncConnected, 30_000);
    await ro.setData(p, Buffer.from('after'), -1);
  }, 120_000);
});
