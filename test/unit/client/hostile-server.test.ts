/**
 * The client against a hostile or broken server (issue 10, client half):
 * garbage, replies truncated at every byte, huge and negative lengths, bad
 * frames pipelined behind the handshake or arriving while replies are held
 * behind a slow watcher. Whatever arrives, nothing may throw out of the
 * client's socket handling: the calls on that connection fail with a typed
 * KeeperError (ConnectionLoss, retriable) and the client reconnects and
 * re-attaches its session.
 *
 * Seeded: a failing random case prints its seed (HOSTILE_SEED=<n> repeats it).
 */
import { ZooKeeper, KeeperState, KeeperError, ConnectionLossError, Stat, OpCode, EventType } from '../../../src';
import { JuteWriter } from '../../../src/jute';
import { FakeServer, FakeConnection, replyFrame } from './support/fake-server';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stat = new Stat({ czxid: 5n, mzxid: 6n, ctime: 1n, mtime: 2n, version: 1, dataLength: 3, pzxid: 5n });

/** xorshift32: a small seeded generator, so a failing run can be repeated. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 0x1_0000_0000;
  };
}

function getDataBody(w: JuteWriter): void {
  w.writeBuffer(Buffer.from('abc'));
  stat.serialize(w);
}

describe('client against a hostile server', () => {
  let server: FakeServer;
  const handles: ZooKeeper[] = [];
  const escaped: unknown[] = [];
  const onUncaught = (err: unknown) => void escaped.push(err);

  const open = (opts: ConstructorParameters<typeof ZooKeeper>[1] = {}) => {
    const zk = new ZooKeeper(server.connectString, { sessionTimeout: 30_000, connectTimeout: 60_000, ...opts });
    handles.push(zk);
    return zk;
  };

  /** Takes the client's next connection, answers its handshake (re-attaching session 0x42), waits for the handle. */
  async function accepted(zk: ZooKeeper): Promise<FakeConnection> {
    const c = await server.connection();
    const hello = await c.next();
    expect(hello.connect).toBeDefined();
    c.accept(0x42n, 30_000);
    await zk.connected();
    return c;
  }

  beforeEach(async () => {
    escaped.length = 0;
    process.on('uncaughtException', onUncaught);
    server = await FakeServer.start();
  });
  afterEach(async () => {
    process.removeListener('uncaughtException', onUncaught);
    await server.stop();
    for (const zk of handles.splice(0)) await zk.close().catch(() => {});
    expect(escaped).toEqual([]);
  });

  it('a getData reply truncated at every byte: ConnectionLoss each time, then the session is re-attached', async () => {
    const zk = open();
    let c = await accepted(zk);
    const full = replyFrame(0, 7n, 0, getDataBody); // xid patched below
    const bodyLen = full.length - 4;
    for (let cut = 0; cut < bodyLen; cut++) {
      const p = zk.getData('/x');
      const f = await c.next();
      const frame = Buffer.from(full.subarray(0, 4 + cut));
      frame.writeInt32BE(cut, 0);
      if (cut >= 4) frame.writeInt32BE(f.xid, 4);
      c.write(frame);
      const err = await p.catch((e) => e);
      expect(err).toBeInstanceOf(ConnectionLossError);
      expect(err.retriable).toBe(true);
      c = await server.connection();
      const hello = await c.next();
      expect(hello.connect!.sessionId).toBe(0x42n);
      c.accept(0x42n, 30_000);
      await zk.connected();
    }
    // And the whole reply still works.
    const p = zk.getData('/x');
    const f = await c.next();
    c.reply(f.xid, 7n, 0, getDataBody);
    expect((await p).data!.toString()).toBe('abc');
    expect(zk.state).toBe(KeeperState.SyncConnected);
  });

  it.each([
    ['a huge length', Buffer.from([0x7f, 0xff, 0xff, 0xff])],
    ['a negative length', Buffer.from([0x80, 0, 0, 0])],
    ['a length just over maxBufferSize + headroom', (() => { const b = Buffer.alloc(4); b.writeInt32BE(0xfffff + 1025); return b; })()],
    ['a frame too short for a reply header', Buffer.from([0, 0, 0, 3, 1, 2, 3])],
    ['a truncated notification', Buffer.from([0, 0, 0, 20, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3])],
    ['a notification whose path length runs past the frame', replyFrame(-1, 0n, 0, (w) => w.writeInt(3).writeInt(3).writeInt(1000))],
    ['an auth reply with a truncated header', Buffer.from([0, 0, 0, 8, 0xff, 0xff, 0xff, 0xfc, 0, 0, 0, 0])],
  ])('%s: pending calls get ConnectionLoss, then it reconnects', async (_what, bytes) => {
    const zk = open();
    const c = await accepted(zk);
    const p = zk.getData('/x');
    await c.next();
    c.write(bytes);
    expect(await p.catch((e) => e)).toBeInstanceOf(ConnectionLossError);
    const c2 = await accepted(zk);
    const q = zk.exists('/y');
    const f = await c2.next();
    c2.reply(f.xid, 9n, 0, (w) => stat.serialize(w));
    expect((await q)!.version).toBe(1);
  });

  it('an unknown event type or state in a notification is delivered as numbers, not thrown', async () => {
    const zk = open();
    const c = await accepted(zk);
    const seen: { type: number; state: number; path: string | null }[] = [];
    const p = zk.getData('/w', (e) => void seen.push({ type: e.type, state: e.state, path: e.path }));
    const f = await c.next();
    c.reply(f.xid, 3n, 0, getDataBody);
    await p;
    // Type 99 reaches no watcher; a data change with state 77 reaches the data watch.
    c.reply(-1, 0n, 0, (w) => w.writeInt(99).writeInt(3).writeString('/w'));
    c.reply(-1, 0n, 0, (w) => w.writeInt(EventType.NodeDataChanged).writeInt(77).writeString('/w'));
    const deadline = Date.now() + 10_000;
    while (seen.length === 0 && Date.now() < deadline) await sleep(10);
    expect(seen).toEqual([{ type: EventType.NodeDataChanged, state: 77, path: '/w' }]);
    expect(zk.state).toBe(KeeperState.SyncConnected);
  });

  it('garbage as the handshake answer: the attempt fails and the next one connects', async () => {
    const zk = open();
    const c1 = await server.connection();
    await c1.next();
    c1.write(Buffer.from([0, 0, 0, 6, 1, 2, 3, 4, 5, 6]));
    await c1.closed;
    const c2 = await server.connection();
    await c2.next();
    c2.accept(0x42n, 30_000);
    await zk.connected();
    expect(zk.sessionId).toBe(0x42n);
  });

  describe('issue 10 regressions (client side)', () => {
    it('issue-10 path 1: a bad frame arriving while replies are held behind a slow watcher', async () => {
      const zk = open();
      const c = await accepted(zk);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const order: string[] = [];
      // A watcher that keeps the event queue busy: replies behind its event wait (the client's reads of results are paused).
      const w = zk.getData('/slow', async () => {
        order.push('watcher start');
        await held;
        order.push('watcher end');
      });
      const f0 = await c.next();
      c.reply(f0.xid, 2n, 0, getDataBody);
      await w;
      const a = zk.getData('/a');
      const b = zk.getData('/b');
      const fa = await c.next();
      const fb = await c.next();
      // One chunk: the event, a good reply for /a, then garbage in place of /b's reply.
      const event = replyFrame(-1, 0n, 0, (wr) => wr.writeInt(EventType.NodeDataChanged).writeInt(3).writeString('/slow'));
      const good = replyFrame(fa.xid, 3n, 0, getDataBody);
      const bad = replyFrame(fb.xid, 4n, 0, (wr) => wr.writeInt(1 << 30));
      c.write(Buffer.concat([event, good, bad]));
      const aDone = a.then((r) => order.push(`a ${r.data}`));
      const bErr = b.catch((e) => {
        order.push('b failed');
        return e;
      });
      // Let the socket handler run with the queue held.
      while (!order.includes('watcher start')) await sleep(5);
      await sleep(50);
      expect(order).toEqual(['watcher start']);
      release();
      await aDone;
      const err = await bErr;
      expect(err).toBeInstanceOf(ConnectionLossError);
      expect(order).toEqual(['watcher start', 'watcher end', 'a abc', 'b failed']);
      // It reconnects and serves again.
      const c2 = await accepted(zk);
      const p = zk.exists('/z');
      const fz = await c2.next();
      c2.reply(fz.xid, 5n, 0, (wr) => stat.serialize(wr));
      expect(await p).not.toBeNull();
    });

    it.each([
      ['a frame too short for a reply header', Buffer.from([0, 0, 0, 5, 9, 9, 9, 9, 9]), true],
      ['a reply header for no request', replyFrame(777, 1n, 0), true],
      // A bad length in the same chunk: the stream cannot be trusted from there on, so the
      // attempt may fail before the handshake answer is used; either way it comes back.
      ['a huge length', Buffer.from('garbage!'), false],
    ])('issue-10 path 2: %s pipelined right behind the handshake answer', async (_what, bad, handshakeUsed) => {
      const zk = open();
      const states: KeeperState[] = [];
      zk.on('state', (s) => void states.push(s));
      const c1 = await server.connection();
      await c1.next();
      const w = new JuteWriter();
      w.beginFrame().writeInt(0).writeInt(30_000).writeLong(0x42n).writeBuffer(Buffer.alloc(16, 7)).writeBool(false).endFrame();
      c1.write(Buffer.concat([w.toBuffer(), bad]));
      await c1.closed;
      const c2 = await accepted(zk);
      expect(zk.sessionId).toBe(0x42n);
      const p = zk.getData('/after');
      const f = await c2.next();
      c2.reply(f.xid, 8n, 0, getDataBody);
      expect((await p).data!.toString()).toBe('abc');
      const deadline = Date.now() + 10_000;
      while (states[states.length - 1] !== KeeperState.SyncConnected && Date.now() < deadline) await sleep(5);
      if (handshakeUsed) expect(states).toEqual([KeeperState.SyncConnected, KeeperState.Disconnected, KeeperState.SyncConnected]);
      else expect(states[states.length - 1]).toBe(KeeperState.SyncConnected);
    });
  });

  it('seeded random garbage after pipelined requests: typed errors only, and it always comes back', async () => {
    const seed = Number(process.env.HOSTILE_SEED ?? Date.now() % 1_000_000);
    const random = rng(seed);
    const zk = open();
    let c = await accepted(zk);
    const rounds = 40;
    try {
      for (let round = 0; round < rounds; round++) {
        const calls = [zk.getData('/g'), zk.exists('/e'), zk.getChildren('/c'), zk.setData('/s', 'v')].map((p) => p.then(() => null, (e) => e));
        const frames = [];
        for (let i = 0; i < 4; i++) frames.push(await c.next());
        // Sometimes answer the first request properly, then send junk.
        const parts: Buffer[] = [];
        if (random() < 0.5) parts.push(replyFrame(frames[0].xid, 1n, 0, getDataBody));
        const kind = Math.floor(random() * 4);
        const n = 1 + Math.floor(random() * 64);
        const junk = Buffer.alloc(n);
        for (let i = 0; i < n; i++) junk[i] = Math.floor(random() * 256);
        if (kind === 0) parts.push(junk); // raw garbage
        else if (kind === 1) {
          // a plausible length, then garbage
          const head = Buffer.alloc(4);
          head.writeInt32BE(n);
          parts.push(head, junk);
        } else if (kind === 2) {
          // a valid header for the next request with a garbage body
          parts.push(replyFrame(frames[parts.length].xid, 2n, 0, (w) => w.writeRaw(junk)));
        } else {
          // a huge or negative length
          const head = Buffer.alloc(4);
          head.writeInt32BE(random() < 0.5 ? -1 - n : 0x7fffffff - n);
          parts.push(head);
        }
        const all = Buffer.concat(parts);
        // Split the bytes at a random point, as TCP may.
        const at = Math.floor(random() * all.length);
        c.write(all.subarray(0, at));
        if (at < all.length) {
          await sleep(1);
          c.write(all.subarray(at));
        }
        // Junk that happens to parse (a ping xid, a short partial frame) may leave the
        // connection up with calls unanswered: end it from this side after a moment.
        await Promise.race([c.closed, sleep(200)]);
        c.destroy();
        let timer: NodeJS.Timeout | undefined;
        const results = await Promise.race([
          Promise.all(calls),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('calls did not settle')), 20_000);
          }),
        ]).finally(() => clearTimeout(timer));
        for (const r of results) if (r !== null) expect(r).toBeInstanceOf(KeeperError);
        expect(results.some((r) => r instanceof ConnectionLossError)).toBe(true);
        c = await accepted(zk);
      }
    } catch (e) {
      throw new Error(`HOSTILE_SEED=${seed}: ${(e as Error).message}`);
    }
    expect(zk.state).toBe(KeeperState.SyncConnected);
    expect(escaped).toEqual([]);
  });
});

// Keep OpCode referenced for readers of the frames above.
void OpCode;
