/**
 * requestTimeout, Java's zookeeper.request.timeout: a call without a reply
 * in time fails with RequestTimeout (-122) and, as Java's submitRequest does
 * (cleanAndNotifyState), the connection is dropped and re-established.
 */
import { ZooKeeper, KeeperState, OpCode, ConnectionLossError, RequestTimeoutError, BadArgumentsError, Stat } from '../../../src';
import { GetDataRequest } from '../../../src/proto/generated';
import { FakeServer, FakeConnection } from './support/fake-server';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(5);
  }
}

function getDataReply(c: FakeConnection, xid: number, zxid: bigint, data: string): void {
  c.reply(xid, zxid, 0, (w) => {
    w.writeBuffer(Buffer.from(data));
    new Stat({ version: 1, dataLength: data.length }).serialize(w);
  });
}

describe('requestTimeout', () => {
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
    await server.stop();
    for (const zk of handles.splice(0)) await zk.close().catch(() => {});
  });

  it('fails an unanswered call with RequestTimeout, the others sent on that connection with ConnectionLoss, then reconnects the session', async () => {
    const zk = open({ requestTimeout: 300 });
    const states: KeeperState[] = [];
    zk.on('state', (s) => void states.push(s));
    const c1 = await server.connection();
    await c1.next();
    c1.accept(0x21n, 6000, Buffer.alloc(16, 2));
    await zk.connected();

    const t0 = Date.now();
    const first = zk.getData('/slow').catch((e) => e);
    await c1.next();
    await sleep(100);
    const second = zk.getData('/later').catch((e) => e);
    await c1.next();

    const err = await first;
    const elapsed = Date.now() - t0;
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect(err.code).toBe(-122);
    expect(err.retriable).toBe(true);
    expect(err.path).toBe('/slow');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(1500);
    const err2 = await second;
    expect(err2).toBeInstanceOf(ConnectionLossError);
    expect(err2.message).toMatch(/request timeout/);
    await c1.closed;

    const c2 = await server.connection();
    expect((await c2.next()).connect!.sessionId).toBe(0x21n);
    c2.accept(0x21n, 6000, Buffer.alloc(16, 2));
    await until('reconnected', () => zk.state === KeeperState.SyncConnected && states.length === 3);
    expect(states).toEqual([KeeperState.SyncConnected, KeeperState.Disconnected, KeeperState.SyncConnected]);
    const p = zk.getData('/x');
    const f = await c2.next();
    expect(GetDataRequest.decode(f.body).path).toBe('/x');
    getDataReply(c2, f.xid, 3n, 'ok');
    expect((await p).data!.toString()).toBe('ok');
  });

  it('leaves a connection alone while every reply comes in time', async () => {
    const zk = open({ requestTimeout: 250 });
    const states: KeeperState[] = [];
    zk.on('state', (s) => void states.push(s));
    const c = await server.connection();
    await c.next();
    c.accept();
    await zk.connected();
    // 8 calls, each answered 100 ms after it was sent: 800 ms in all, three timeouts' worth.
    for (let i = 0; i < 8; i++) {
      const p = zk.getData(`/n${i}`);
      const f = await c.next();
      await sleep(100);
      getDataReply(c, f.xid, BigInt(i + 1), `v${i}`);
      expect((await p).data!.toString()).toBe(`v${i}`);
    }
    // Pipelined: many in flight, all answered within the timeout.
    const calls = Array.from({ length: 50 }, (_, i) => zk.getData(`/p${i}`));
    for (let i = 0; i < 50; i++) getDataReply(c, (await c.next()).xid, 100n + BigInt(i), 'p');
    await Promise.all(calls);
    await sleep(300);
    expect(states).toEqual([KeeperState.SyncConnected]);
    expect(server.all).toHaveLength(1);
  });

  it('fails a call still waiting for a connection with RequestTimeout, without touching the connection attempt', async () => {
    const zk = open({ requestTimeout: 200, connectTimeout: 10_000 });
    const c = await server.connection();
    await c.next(); // never answer the handshake
    const t0 = Date.now();
    const err = await zk.getData('/x').catch((e) => e);
    expect(err).toBeInstanceOf(RequestTimeoutError);
    expect(err.message).toMatch(/not sent/);
    expect(Date.now() - t0).toBeLessThan(1500);
    // The handshake can still complete and serve later calls.
    c.accept(0x31n);
    await zk.connected();
    const p = zk.getData('/y');
    const f = await c.next();
    expect(f.type).toBe(OpCode.getData);
    getDataReply(c, f.xid, 1n, 'y');
    expect((await p).data!.toString()).toBe('y');
  });

  it('is off by default: a slow reply is simply waited for', async () => {
    const zk = open();
    const c = await server.connection();
    await c.next();
    c.accept();
    await zk.connected();
    const p = zk.getData('/slow');
    const f = await c.next();
    await sleep(600);
    getDataReply(c, f.xid, 1n, 's');
    expect((await p).data!.toString()).toBe('s');
  });

  it('rejects a negative or non-finite requestTimeout', () => {
    expect(() => new ZooKeeper('127.0.0.1:1', { requestTimeout: -1 })).toThrow(BadArgumentsError);
    expect(() => new ZooKeeper('127.0.0.1:1', { requestTimeout: Number.NaN })).toThrow(/requestTimeout/);
  });
});
