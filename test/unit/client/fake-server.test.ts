import { ZooKeeper, KeeperState, EventType, OpCode, ConnectionLossError, SessionExpiredError, KeeperError, Stat } from '../../../src';
import { GetDataRequest, SetWatches, WatcherEvent } from '../../../src/proto/generated';
import { FakeServer, FakeConnection, deadPort, replyFrame } from './support/fake-server';

const stat = new Stat({ version: 1, dataLength: 1 });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function getDataReply(c: FakeConnection, xid: number, zxid: bigint, data: string): void {
  c.reply(xid, zxid, 0, (w) => {
    w.writeBuffer(Buffer.from(data));
    stat.serialize(w);
  });
}

describe('client against a scripted server', () => {
  let server: FakeServer;
  const handles: ZooKeeper[] = [];
  const open = (opts: ConstructorParameters<typeof ZooKeeper>[1] = {}) => {
    const zk = new ZooKeeper(server.connectString, { sessionTimeout: 10_000, ...opts });
    handles.push(zk);
    return zk;
  };

  beforeEach(async () => {
    server = await FakeServer.start();
  });
  afterEach(async () => {
    // Stop the server first: close() then has no connection to send closeSession on and returns at once.
    await server.stop();
    for (const zk of handles.splice(0)) await zk.close().catch(() => {});
  });

  it('handshakes with a new session, then answers requests', async () => {
    const zk = open();
    const c = await server.connection();
    const hello = await c.next();
    expect(hello.connect).toMatchObject({ lastZxidSeen: 0n, timeOut: 10_000, sessionId: 0n, readOnly: false });
    expect(hello.connect!.passwd).toEqual(Buffer.alloc(16));
    c.accept(0xabcn, 6000);
    await zk.connected();
    expect(zk.sessionId).toBe(0xabcn);
    expect(zk.negotiatedTimeout).toBe(6000);
    expect(zk.state).toBe(KeeperState.SyncConnected);
    const p = zk.getData('/x');
    const f = await c.next();
    expect(f.type).toBe(OpCode.getData);
    expect(GetDataRequest.decode(f.body).path).toBe('/x');
    getDataReply(c, f.xid, 5n, 'v');
    const { data } = await p;
    expect(data!.toString()).toBe('v');
    expect(zk.lastZxid).toBe(5n);
  });

  it.each([
    ['a malformed frame (negative length)', Buffer.from([0xff, 0xff, 0xff, 0xf0])],
    ['an oversized frame', Buffer.from([0x7f, 0, 0, 0])],
    ['a reply for an unknown xid', Buffer.from([0, 0, 0, 16, 0, 0, 0x30, 0x39, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0])],
    ['a truncated reply body', Buffer.from([0, 0, 0, 20, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 9])],
  ])('drops the connection on %s: pending calls get ConnectionLoss, then it re-attaches the session', async (_what, bytes) => {
    const states: KeeperState[] = [];
    const zk = open();
    zk.on('state', (s) => void states.push(s));
    const c1 = await server.connection();
    await c1.next();
    c1.accept(0x77n, 6000, Buffer.alloc(16, 9));
    await zk.connected();
    // Make lastZxid 3 first.
    const warm = zk.getData('/w');
    getDataReply(c1, (await c1.next()).xid, 3n, 'w');
    await warm;
    const p = zk.getData('/x');
    await c1.next();
    c1.write(bytes);
    const err = await p.catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionLossError);
    expect(err.retriable).toBe(true);
    const c2 = await server.connection();
    const hello = await c2.next();
    expect(hello.connect).toMatchObject({ sessionId: 0x77n, lastZxidSeen: 3n });
    expect(hello.connect!.passwd).toEqual(Buffer.alloc(16, 9));
    c2.accept(0x77n, 6000, Buffer.alloc(16, 9));
    await zk.connected();
    await sleep(20);
    expect(states).toEqual([KeeperState.SyncConnected, KeeperState.Disconnected, KeeperState.SyncConnected]);
  });

  it('re-registers watches after a reconnect with SetWatches and relativeZxid = last zxid, and delivers missed events', async () => {
    const zk = open();
    const c1 = await server.connection();
    await c1.next();
    c1.accept();
    await zk.connected();
    const events: unknown[] = [];
    const p = zk.getData('/x', (e) => void events.push(e));
    getDataReply(c1, (await c1.next()).xid, 9n, 'v');
    await p;
    const e = zk.exists('/y', (ev) => void events.push(ev));
    c1.reply((await c1.next()).xid, 10n, -101);
    expect(await e).toBeNull();
    c1.destroy();
    const c2 = await server.connection();
    expect((await c2.next()).connect!.lastZxidSeen).toBe(10n);
    c2.accept();
    const sw = await c2.next();
    expect(sw.xid).toBe(-8);
    expect(sw.type).toBe(OpCode.setWatches);
    const rec = SetWatches.decode(sw.body);
    expect(rec.relativeZxid).toBe(10n);
    expect(rec.dataWatches).toEqual(['/x']);
    expect(rec.existWatches).toEqual(['/y']);
    expect(rec.childWatches).toEqual([]);
    c2.reply(-8, -1n, 0);
    c2.reply(-1, -1n, 0, (w) => new WatcherEvent({ type: EventType.NodeCreated, state: 3, path: '/y' }).serialize(w));
    await sleep(50);
    // State changes reach every watcher too (Java semantics); the node events are what we check here.
    expect(events.filter((e) => (e as { path: string | null }).path !== null)).toEqual([
      { type: EventType.NodeCreated, state: KeeperState.SyncConnected, path: '/y' },
    ]);
  });

  it('delivers an event before the data reply that follows it', async () => {
    const zk = open();
    const c = await server.connection();
    await c.next();
    c.accept();
    await zk.connected();
    const log: string[] = [];
    const first = zk.getData('/x', () => void log.push('watcher'));
    getDataReply(c, (await c.next()).xid, 2n, 'old');
    await first;
    const second = zk.getData('/x').then((r) => log.push(`data ${r.data}`));
    const f = await c.next();
    // One chunk: the notification, then the reply with the new data.
    const ev = Buffer.concat([
      (() => {
        const { JuteWriter } = require('../../../src/jute');
        const w = new JuteWriter();
        w.beginFrame().writeInt(-1).writeLong(-1n).writeInt(0);
        new WatcherEvent({ type: EventType.NodeDataChanged, state: 3, path: '/x' }).serialize(w);
        w.endFrame();
        return w.toBuffer();
      })(),
    ]);
    c.write(ev);
    getDataReply(c, f.xid, 3n, 'new');
    await second;
    expect(log).toEqual(['watcher', 'data new']);
  });

  it('keeps order and loses nothing under deep pipelining, where batched requests go out on a timer tick', async () => {
    const zk = open();
    const c = await server.connection();
    await c.next();
    c.accept();
    await zk.connected();
    const TOTAL = 1500;
    const WINDOW = 600; // above the 256 in flight where writes are coalesced
    const results: string[] = [];
    let issued = 0;
    const issue = (): Promise<void> | undefined => {
      if (issued >= TOTAL) return undefined;
      const i = issued++;
      return zk.getData(`/n${i}`).then((r) => {
        results.push(`${i}=${r.data}`);
        return issue();
      });
    };
    const all = Array.from({ length: WINDOW }, () => issue());
    // Answer in small groups, as a server does, each group as one chunk.
    let answered = 0;
    const seen: number[] = [];
    while (answered < TOTAL) {
      const group: Buffer[] = [];
      for (let k = 0; k < 7 && answered < TOTAL; k++, answered++) {
        const f = await c.next();
        expect(f.type).toBe(OpCode.getData);
        const path = GetDataRequest.decode(f.body).path;
        seen.push(Number(path.slice(2)));
        group.push(replyFrame(f.xid, BigInt(answered + 1), 0, (w) => {
          w.writeBuffer(Buffer.from(path.slice(2)));
          stat.serialize(w);
        }));
      }
      c.write(Buffer.concat(group));
    }
    await Promise.all(all);
    expect(seen).toEqual(Array.from({ length: TOTAL }, (_, i) => i));
    expect(results).toHaveLength(TOTAL);
    for (const r of results) expect(r).toMatch(/^(\d+)=\1$/);
    expect(zk.lastZxid).toBe(BigInt(TOTAL));
  });

  it('pings when idle and drops a server that stops answering (read timeout)', async () => {
    const zk = open();
    const c1 = await server.connection();
    await c1.next();
    c1.accept(0x5n, 600); // readTimeout 400 ms, ping after 200 ms idle
    await zk.connected();
    const ping = await c1.next({ pings: true });
    expect([ping.xid, ping.type]).toEqual([-2, OpCode.ping]);
    const t0 = Date.now();
    // Never answer: the client must give up on this server within ~readTimeout.
    const c2 = await server.connection();
    expect(Date.now() - t0).toBeLessThan(1500);
    await c1.closed;
    expect((await c2.next()).connect!.sessionId).toBe(0x5n);
  });

  it('turns a refused re-attach into Expired: pending calls and later calls fail with SessionExpired', async () => {
    const states: KeeperState[] = [];
    const zk = open();
    zk.on('state', (s) => void states.push(s));
    const c1 = await server.connection();
    await c1.next();
    c1.accept(0x9n);
    await zk.connected();
    const p = zk.getData('/x');
    await c1.next();
    c1.destroy();
    expect(await p.catch((e) => e)).toBeInstanceOf(ConnectionLossError);
    const c2 = await server.connection();
    await c2.next();
    c2.accept(0n, 0); // timeOut 0: the session is gone
    const late = await zk.getData('/x').catch((e) => e);
    expect(late).toBeInstanceOf(SessionExpiredError);
    await expect(zk.connected()).rejects.toBeInstanceOf(SessionExpiredError);
    await sleep(20);
    expect(states).toEqual([KeeperState.SyncConnected, KeeperState.Disconnected, KeeperState.Expired]);
    expect(zk.state).toBe(KeeperState.Expired);
  });

  it('sends closeSession on close, then ends the socket', async () => {
    const zk = open();
    const c = await server.connection();
    await c.next();
    c.accept();
    await zk.connected();
    const closing = zk.close();
    const f = await c.next();
    expect(f.type).toBe(OpCode.closeSession);
    c.reply(f.xid, 4n, 0);
    await closing;
    await c.closed;
    expect(zk.state).toBe(KeeperState.Closed);
    await expect(zk.getData('/x')).rejects.toBeInstanceOf(KeeperError);
  });
});

describe('a server that refuses the session', () => {
  it('reports why a read-only server refused a new session (NOTREADONLY instead of a ConnectResponse)', async () => {
    const server = await FakeServer.start();
    const zk = new ZooKeeper(server.connectString, { sessionTimeout: 4000, connectTimeout: 300, canBeReadOnly: true });
    try {
      const c = await server.connection();
      expect((await c.next()).connect!.readOnly).toBe(true);
      c.reply(0, 0n, -119);
      const err = await zk.connected().catch((e) => e);
      expect(err).toBeInstanceOf(ConnectionLossError);
      expect(err.cause).toMatchObject({ code: -119 });
      expect(err.message).toContain('localSessionsEnabled');
    } finally {
      await server.stop();
      await zk.close();
    }
  });

  it('reports ConnectedReadOnly from a read-only server', async () => {
    const server = await FakeServer.start();
    const zk = new ZooKeeper(server.connectString, { canBeReadOnly: true });
    try {
      const c = await server.connection();
      await c.next();
      c.accept(0x42n, 4000, Buffer.alloc(16, 1), true);
      await zk.connected();
      expect(zk.state).toBe(KeeperState.ConnectedReadOnly);
    } finally {
      await server.stop();
      await zk.close();
    }
  });
});

describe('unreachable ensemble', () => {
  it('reports an error event and rejects connected() after connectTimeout, then keeps trying', async () => {
    const port = await deadPort();
    const zk = new ZooKeeper(`127.0.0.1:${port}`, { sessionTimeout: 4000, connectTimeout: 400 });
    const errors: Error[] = [];
    zk.on('error', (e) => void errors.push(e));
    const t0 = Date.now();
    const err = await zk.connected().catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionLossError);
    expect(err.message).toMatch(/could not connect to ZooKeeper at 127\.0\.0\.1:\d+ within 400 ms/);
    expect(Date.now() - t0).toBeLessThan(2000);
    // A request issued while unreachable fails too, instead of hanging.
    await expect(zk.getData('/x')).rejects.toBeInstanceOf(ConnectionLossError);
    expect(errors.length).toBeGreaterThanOrEqual(1);
    await zk.close();
    expect(zk.state).toBe(KeeperState.Closed);
  });
});
