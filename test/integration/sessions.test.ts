/**
 * Sessions: negotiated timeouts, connection loss and re-attach with the
 * same session, expiry (ephemerals gone, Expired raised, handle dead,
 * pending requests failed), close, and a client that cannot reach any
 * server.
 */
import { Cluster, TcpProxy, freePorts, startTarget, targets } from '../harness';
import { expireSession } from '../harness/session-tools';
import { CreateMode, ErrorCode, EventType, Ids, KeeperState, ZooKeeper } from '../../src';
import { Clients, hex, START_TIMEOUT, EventLog, StateLog, keeperError, sleep, uniquePath } from './client-fixtures';

// tickTime 500: the server clamps session timeouts to [1000, 10000] ms.
const TICK = 500;
// Small enough that one SetWatches packet with all of the 'many watches'
// test's paths (~150 KB) would be refused: only 128 KB batches get through.
const JUTE_MAX_BUFFER = 140_000;
const SESSION_TIMEOUT = 4000;

describe.each(targets())('sessions on %s', (kind) => {
  let cluster: Cluster;
  const clients = new Clients();
  let observer: ZooKeeper;

  beforeAll(async () => {
    cluster = await startTarget(kind, { tickTime: TICK, juteMaxBuffer: JUTE_MAX_BUFFER });
    observer = await clients.connect(cluster.connectString);
  }, START_TIMEOUT);
  afterAll(async () => {
    await clients.closeAll();
    await cluster?.stop();
  });

  test('the session timeout is negotiated within [2, 20] x tickTime', async () => {
    const a = await clients.connect(cluster.connectString, { sessionTimeout: SESSION_TIMEOUT });
    expect(a.negotiatedTimeout).toBe(SESSION_TIMEOUT);
    const hi = await clients.connect(cluster.connectString, { sessionTimeout: 60_000 });
    expect(hi.negotiatedTimeout).toBe(20 * TICK);
    const lo = await clients.connect(cluster.connectString, { sessionTimeout: 100 });
    expect(lo.negotiatedTimeout).toBe(2 * TICK);
    expect(new Set([a.sessionId, hi.sessionId, lo.sessionId]).size).toBe(3);
    expect(a.sessionPassword).toHaveLength(16);
    await Promise.all([a.close(), hi.close(), lo.close()]);
  });

  test('a dropped connection re-attaches the same session; watches survive; pending calls fail ConnectionLoss', async () => {
    const proxy = await TcpProxy.start(cluster.servers[0].clientPort);
    try {
      const zk = await clients.connect(proxy.hostPort, { sessionTimeout: SESSION_TIMEOUT });
      const states = new StateLog(zk);
      const id = zk.sessionId;
      const p = uniquePath('drop');
      await zk.create(p, Buffer.from('e'), { mode: CreateMode.EPHEMERAL });
      const log = new EventLog();
      await zk.getData(p, log.watcher);

      proxy.pause();
      const pending = keeperError(zk.getData(p));
      await sleep(50);
      const mark = states.mark();
      proxy.cut();
      proxy.resume();
      expect((await pending).code).toBe(ErrorCode.CONNECTIONLOSS);
      await states.waitFor(KeeperState.Disconnected, 5000, mark);
      await states.waitFor(KeeperState.SyncConnected, 10_000, mark);
      expect(hex(zk.sessionId)).toBe(hex(id));
      expect(await observer.exists(p)).not.toBeNull(); // the ephemeral survived

      // The watch was re-registered on the new connection.
      await observer.setData(p, Buffer.from('changed'), -1);
      await log.nextOf(EventType.NodeDataChanged, p);
      // And a watcher saw the disconnect as a state event.
      expect(log.events.some((e) => e.type === EventType.None && e.state === KeeperState.Disconnected)).toBe(true);
      await zk.close();
    } finally {
      await proxy.close();
    }
  });

  test('a change made while disconnected is delivered after re-attach (SetWatches catch-up)', async () => {
    const proxy = await TcpProxy.start(cluster.servers[0].clientPort);
    try {
      const zk = await clients.connect(proxy.hostPort, { sessionTimeout: SESSION_TIMEOUT });
      const states = new StateLog(zk);
      const p = uniquePath('catchup');
      await observer.create(p, Buffer.from('0'));
      const log = new EventLog();
      await zk.getData(p, log.watcher);
      const child = new EventLog();
      await zk.exists(`${p}-other`, child.watcher);
      proxy.refuse();
      const mark = states.mark();
      proxy.cut();
      await states.waitFor(KeeperState.Disconnected, 5000, mark);
      await observer.setData(p, Buffer.from('1'), -1);
      await observer.create(`${p}-other`, null);
      proxy.allow();
      await states.waitFor(KeeperState.SyncConnected, 10_000, mark);
      await log.nextOf(EventType.NodeDataChanged, p);
      await child.nextOf(EventType.NodeCreated, `${p}-other`);
      await zk.close();
    } finally {
      await proxy.close();
    }
  });

  test('an idle client keeps its session alive with pings', async () => {
    // 3 s: read timeout 2 s, so a missing ping shows within the wait below
    // without a GC pause on a busy machine tripping it.
    const zk = await clients.connect(cluster.connectString, { sessionTimeout: 3000 });
    const states = new StateLog(zk);
    const id = zk.sessionId;
    const p = uniquePath('idle');
    await zk.create(p, null, { mode: CreateMode.EPHEMERAL });
    expect(zk.negotiatedTimeout).toBe(3000);
    await sleep(zk.negotiatedTimeout * 2); // two session timeouts without a request
    expect(states.states).toEqual([]); // no Disconnected, no Expired
    expect(await observer.exists(p)).not.toBeNull();
    expect(hex(zk.sessionId)).toBe(hex(id));
    await zk.close();
  });

  test('digest auth is re-sent after a reconnect', async () => {
    const proxy = await TcpProxy.start(cluster.servers[0].clientPort);
    try {
      const zk = await clients.connect(proxy.hostPort, { sessionTimeout: SESSION_TIMEOUT });
      const states = new StateLog(zk);
      await zk.addAuthInfo('digest', Buffer.from('dora:pw'));
      const p = uniquePath('reauth');
      await zk.create(p, Buffer.from('mine'), { acl: Ids.CREATOR_ALL_ACL });
      const mark = states.mark();
      proxy.cut();
      await states.waitFor(KeeperState.SyncConnected, 10_000, mark);
      expect((await zk.getData(p)).data!.toString()).toBe('mine');
      expect((await keeperError(observer.getData(p))).code).toBe(ErrorCode.NOAUTH);
      await zk.close();
    } finally {
      await proxy.close();
    }
  });

  test('more watches than one 128 KB SetWatches packet holds are all re-registered', async () => {
    const proxy = await TcpProxy.start(cluster.servers[0].clientPort);
    try {
      const zk = await clients.connect(proxy.hostPort, { sessionTimeout: SESSION_TIMEOUT });
      const states = new StateLog(zk);
      const base = uniquePath('many');
      await observer.create(base, null);
      // 1400 paths of ~110 bytes: about 150 KB of paths, more than the
      // server's jute.maxbuffer, so they only get through in 128 KB batches.
      const names = Array.from({ length: 1400 }, (_, i) => `${base}/${'n'.repeat(90)}-${String(i).padStart(5, '0')}`);
      await Promise.all(names.map((n) => observer.create(n, null)));
      const log = new EventLog();
      await Promise.all(names.map((n) => zk.getData(n, log.watcher)));
      proxy.refuse();
      const mark = states.mark();
      proxy.cut();
      await states.waitFor(KeeperState.Disconnected, 5000, mark);
      await Promise.all(names.map((n) => observer.setData(n, Buffer.from('x'), -1)));
      proxy.allow();
      await states.waitFor(KeeperState.SyncConnected, 10_000, mark);
      await log.next(() => log.nodeEvents.length >= names.length, 20_000);
      expect(new Set(log.nodeEvents.map((e) => e.path))).toEqual(new Set(names));
      expect(log.nodeEvents.every((e) => e.type === EventType.NodeDataChanged)).toBe(true);
      await zk.close();
    } finally {
      await proxy.close();
    }
  }, 60_000);

  test('expiry: ephemerals gone, Expired raised, pending calls fail, the handle stays dead', async () => {
    const zk = await clients.connect(cluster.connectString, { sessionTimeout: SESSION_TIMEOUT });
    const states = new StateLog(zk);
    const log = new EventLog();
    const p = uniquePath('expire');
    await zk.create(p, null, { mode: CreateMode.EPHEMERAL });
    await zk.exists(p, log.watcher);
    await expireSession(cluster.connectString, zk.sessionId, zk.sessionPassword);
    await states.waitFor(KeeperState.Expired, 15_000);
    const expiredAt = states.states.indexOf(KeeperState.Expired);
    expect(log.events.some((e) => e.type === EventType.None && e.state === KeeperState.Expired)).toBe(true);
    expect(await observer.exists(p)).toBeNull();
    const after = await keeperError(zk.getData('/'));
    expect(after.code).toBe(ErrorCode.SESSIONEXPIRED);
    expect(after.retriable).toBe(false);
    await expect(zk.connected()).rejects.toThrow();
    await sleep(300);
    // Never came back: nothing but (at most) Closed after Expired.
    expect(states.states.slice(expiredAt + 1).filter((s) => s !== KeeperState.Closed)).toEqual([]);
    await zk.close(); // closing a dead handle is fine
  });

  test('a partitioned client learns it expired once it can reach the server again', async () => {
    const proxy = await TcpProxy.start(cluster.servers[0].clientPort);
    try {
      const zk = await clients.connect(proxy.hostPort, { sessionTimeout: SESSION_TIMEOUT });
      const states = new StateLog(zk);
      const p = uniquePath('partition');
      await zk.create(p, null, { mode: CreateMode.EPHEMERAL });
      proxy.pause();
      const pending = keeperError(zk.getData(p));
      // The client notices through its read timeout (2/3 of the session timeout).
      await states.waitFor(KeeperState.Disconnected, SESSION_TIMEOUT);
      expect((await pending).code).toBe(ErrorCode.CONNECTIONLOSS);
      // The server expires the session meanwhile.
      await (async () => {
        for (let i = 0; i < 60 && (await observer.exists(p)) !== null; i++) await sleep(200);
      })();
      expect(await observer.exists(p)).toBeNull();
      proxy.cut();
      proxy.resume();
      await states.waitFor(KeeperState.Expired, 15_000);
      expect((await keeperError(zk.exists('/'))).code).toBe(ErrorCode.SESSIONEXPIRED);
    } finally {
      await proxy.close();
    }
  });

  test('requests in flight when the session expires fail with SessionExpired', async () => {
    const proxy = await TcpProxy.start(cluster.servers[0].clientPort);
    try {
      const zk = await clients.connect(proxy.hostPort, { sessionTimeout: SESSION_TIMEOUT });
      const states = new StateLog(zk);
      proxy.refuse();
      proxy.cut();
      await states.waitFor(KeeperState.Disconnected, 5000);
      // Queued while disconnected, before anyone knows the session is gone.
      const queued = keeperError(zk.exists('/'));
      await expireSession(cluster.connectString, zk.sessionId, zk.sessionPassword);
      proxy.allow();
      await states.waitFor(KeeperState.Expired, 15_000);
      expect((await queued).code).toBe(ErrorCode.SESSIONEXPIRED);
    } finally {
      await proxy.close();
    }
  });

  test('close() ends the session at once: ephemerals gone, later calls rejected, Closed raised', async () => {
    const zk = await clients.connect(cluster.connectString, { sessionTimeout: SESSION_TIMEOUT });
    const states = new StateLog(zk);
    const p = uniquePath('close');
    await zk.create(p, null, { mode: CreateMode.EPHEMERAL });
    await zk.close();
    expect(await observer.exists(p)).toBeNull();
    await states.waitFor(KeeperState.Closed, 1000);
    const err = await keeperError(zk.exists('/'));
    expect([ErrorCode.SESSIONEXPIRED, ErrorCode.CONNECTIONLOSS]).toContain(err.code);
    await zk.close(); // idempotent
  });

  test('a client pointed at dead ports emits an error and connected() rejects', async () => {
    const dead = await freePorts(2);
    const zk = new ZooKeeper(dead.map((p) => `127.0.0.1:${p}`).join(','), { sessionTimeout: SESSION_TIMEOUT, connectTimeout: 2000 });
    const errors: unknown[] = [];
    zk.on('error', (e: unknown) => errors.push(e));
    const started = Date.now();
    await expect(zk.connected()).rejects.toThrow();
    expect(Date.now() - started).toBeLessThan(SESSION_TIMEOUT * 4);
    expect(errors.length).toBeGreaterThan(0);
    await zk.close();
  });
});
