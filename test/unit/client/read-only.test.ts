/**
 * Read-only mode like the Java client's (ClientCnxn.pingRwServer): on a
 * read-only server the handle asks the other hosts `isro` on separate
 * short-lived sockets (100 ms, doubling up to 60 s) and moves to the first
 * that answers `rw`. First against scripted servers (timing, rotation,
 * session choice), then against a real Apache ZooKeeper 3.8 ensemble.
 */
import * as fs from 'fs';
import * as path from 'path';
import {
  ZooKeeper,
  KeeperState,
  OpCode,
  ConnectionLossError,
  NotReadOnlyError,
  Stat,
} from '../../../src';
import { SetWatches } from '../../../src/proto/generated';
import { FakeServer, FakeConnection, deadPort } from './support/fake-server';
import { Cluster, startApache, apacheAvailable, freePorts, serverMode, waitFor } from '../../harness';

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

describe('read-only mode against scripted servers', () => {
  const servers: FakeServer[] = [];
  const handles: ZooKeeper[] = [];
  const start = async () => {
    const s = await FakeServer.start();
    servers.push(s);
    return s;
  };
  const open = (connect: string, opts: ConstructorParameters<typeof ZooKeeper>[1] = {}) => {
    const zk = new ZooKeeper(connect, { sessionTimeout: 10_000, canBeReadOnly: true, shuffleHosts: false, ...opts });
    handles.push(zk);
    return zk;
  };
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.stop();
    for (const zk of handles.splice(0)) await zk.close().catch(() => {});
  });

  it('probes the other host with isro at 100 ms, doubling, and moves to it with a new session once it answers rw', async () => {
    const ro = await start();
    const rw = await start();
    rw.fourLetterWords.isro = 'ro';
    const zk = open(`${ro.connectString},${rw.connectString}`);
    const states: KeeperState[] = [];
    zk.on('state', (s) => void states.push(s));

    const c1 = await ro.connection();
    const hello = await c1.next();
    expect(hello.connect!.readOnly).toBe(true);
    c1.accept(0x51n, 6000, Buffer.alloc(16, 5), true);
    await zk.connected();
    const connectedAt = Date.now();
    expect(zk.state).toBe(KeeperState.ConnectedReadOnly);
    expect(zk.sessionId).toBe(0x51n);

    // Three "ro" answers: the waits are Java's 100, 200, 400 ms.
    await until('three probes', () => rw.asked.length >= 3, 3000);
    expect(rw.askedWords()).toEqual(['isro', 'isro', 'isro']);
    const [a, b, c] = rw.asked.map((x) => x.at);
    expect(a - connectedAt).toBeGreaterThanOrEqual(80);
    // Upper bounds are loose: a loaded test machine delays timers, never fires them early.
    expect(a - connectedAt).toBeLessThan(1000);
    expect(b - a).toBeGreaterThanOrEqual(180);
    expect(b - a).toBeLessThan(1200);
    expect(c - b).toBeGreaterThanOrEqual(380);
    expect(c - b).toBeLessThan(1800);
    // Never the server we are on.
    expect(ro.asked).toEqual([]);

    // A read in flight on the read-only connection when the move happens.
    const inflight = zk.getData('/x').catch((e) => e);
    await c1.next();
    rw.fourLetterWords.isro = 'rw';
    const c2 = await rw.connection();
    // Java's ConnectionLoss for what was sent on the connection we left.
    expect(await inflight).toBeInstanceOf(ConnectionLossError);
    await c1.closed;
    const hello2 = await c2.next();
    // The read-only session was local to that server: ask for a new one, with the zxid we saw.
    expect(hello2.connect).toMatchObject({ sessionId: 0n, readOnly: true });
    expect(hello2.connect!.passwd).toEqual(Buffer.alloc(16));
    c2.accept(0x99n, 6000, Buffer.alloc(16, 9), false);
    await until('SyncConnected', () => zk.state === KeeperState.SyncConnected);
    expect(zk.sessionId).toBe(0x99n);
    await sleep(20);
    expect(states).toEqual([KeeperState.ConnectedReadOnly, KeeperState.Disconnected, KeeperState.SyncConnected]);

    // Requests flow on the new connection; no more probing on a r/w server.
    const p = zk.getData('/x');
    getDataReply(c2, (await c2.next()).xid, 7n, 'v');
    expect((await p).data!.toString()).toBe('v');
    const probes = rw.asked.length;
    await sleep(300);
    expect(rw.asked.length).toBe(probes);
  });

  it('keeps the session when a r/w server has seen it, and re-registers watches on the move', async () => {
    const rw = await start();
    const ro = await start();
    const zk = open(`${rw.connectString},${ro.connectString}`, { rwProbeInterval: { initial: 20, max: 40 } });
    const c1 = await rw.connection();
    await c1.next();
    c1.accept(0x5n, 6000, Buffer.alloc(16, 3), false);
    await zk.connected();
    expect(zk.state).toBe(KeeperState.SyncConnected);
    const w = zk.getData('/w', () => {});
    getDataReply(c1, (await c1.next()).xid, 4n, 'w');
    await w;
    await sleep(100);
    // Connected read/write: nobody is probed.
    expect(ro.asked).toEqual([]);
    expect(rw.asked).toEqual([]);

    rw.fourLetterWords.isro = 'null'; // what Apache says while not serving
    c1.destroy();
    const c2 = await ro.connection();
    const hello = await c2.next();
    expect(hello.connect).toMatchObject({ sessionId: 0x5n, lastZxidSeen: 4n });
    c2.accept(0x5n, 6000, Buffer.alloc(16, 3), true);
    await until('ConnectedReadOnly', () => zk.state === KeeperState.ConnectedReadOnly);
    await until('probes answered "null"', () => rw.asked.length >= 2);
    expect(zk.state).toBe(KeeperState.ConnectedReadOnly);

    rw.fourLetterWords.isro = 'rw';
    const c3 = await rw.connection();
    const back = await c3.next();
    expect(back.connect).toMatchObject({ sessionId: 0x5n, lastZxidSeen: 4n });
    expect(back.connect!.passwd).toEqual(Buffer.alloc(16, 3));
    c3.accept(0x5n, 6000, Buffer.alloc(16, 3), false);
    const sw = await c3.next();
    expect(sw.type).toBe(OpCode.setWatches);
    expect(SetWatches.decode(sw.body).dataWatches).toEqual(['/w']);
    await until('SyncConnected', () => zk.state === KeeperState.SyncConnected);
    expect(zk.sessionId).toBe(0x5n);
  });

  it('rotates the probe over the other hosts, past a dead one, never the current one, within the max interval', async () => {
    const ro = await start();
    const other = await start();
    other.fourLetterWords.isro = 'ro';
    const dead = await deadPort();
    const zk = open(`${ro.connectString},127.0.0.1:${dead},${other.connectString}`, { rwProbeInterval: { initial: 20, max: 60 } });
    const c1 = await ro.connection();
    await c1.next();
    c1.accept(0x7n, 6000, Buffer.alloc(16, 1), true);
    await zk.connected();
    await until('four probes of the live host', () => other.asked.length >= 4, 3000);
    // Alternating with the dead host: about 2 x the 60 ms cap between two probes of the same host (uncapped
    // doubling from 20 ms would be past 1.9 s by the fourth).
    const gaps = other.asked.slice(1).map((x, i) => x.at - other.asked[i].at);
    for (const g of gaps.slice(1)) expect(g).toBeLessThan(1000);
    expect(ro.asked).toEqual([]);
    expect(zk.state).toBe(KeeperState.ConnectedReadOnly);
  });

  it('stops probing when the read-only connection is lost and with a single host never probes', async () => {
    const ro = await start();
    const other = await start();
    other.fourLetterWords.isro = 'ro';
    const zk = open(`${ro.connectString},${other.connectString}`, { rwProbeInterval: { initial: 20, max: 20 } });
    const c1 = await ro.connection();
    await c1.next();
    c1.accept(0x8n, 6000, Buffer.alloc(16, 1), true);
    await zk.connected();
    await until('a probe', () => other.asked.length >= 1);
    c1.destroy();
    // The handle now dials `other` for a session; leave it hanging in the handshake.
    const c2 = await other.connection();
    await c2.next();
    const n = other.asked.length;
    await sleep(200);
    expect(other.asked.length).toBe(n);

    const single = await start();
    const zk2 = open(single.connectString, { rwProbeInterval: { initial: 20, max: 20 } });
    const s1 = await single.connection();
    await s1.next();
    s1.accept(0x9n, 6000, Buffer.alloc(16, 1), true);
    await zk2.connected();
    await sleep(200);
    expect(single.asked).toEqual([]);
    expect(zk2.state).toBe(KeeperState.ConnectedReadOnly);
  });

  it('without canBeReadOnly never probes', async () => {
    const a = await start();
    const b = await start();
    const zk = open(`${a.connectString},${b.connectString}`, { canBeReadOnly: false, rwProbeInterval: { initial: 20, max: 20 } });
    const c = await a.connection();
    expect((await c.next()).connect!.readOnly).toBe(false);
    // A server that (wrongly) says read-only anyway: Java only logs it; no probing either.
    c.accept(0x3n, 6000, Buffer.alloc(16, 1), true);
    await zk.connected();
    await sleep(200);
    expect(b.asked).toEqual([]);
  });

  it('rejects a bad probe interval', () => {
    expect(() => new ZooKeeper('127.0.0.1:1', { rwProbeInterval: { initial: 0 } })).toThrow(/rwProbeInterval.initial/);
  });
});

const describeApache = apacheAvailable() ? describe : describe.skip;

/** Rewrites the quorum and election ports of server.<id> lines in a member's zoo.cfg (client ports stay). */
function movePeerPorts(dir: string, ports: Record<number, [quorum: number, election: number]>): void {
  const file = path.join(dir, 'zoo.cfg');
  let text = fs.readFileSync(file, 'utf8');
  for (const [id, [quorum, election]] of Object.entries(ports)) {
    const re = new RegExp(`^server\\.${id}=([^:]+):\\d+:\\d+`, 'm');
    if (!re.test(text)) throw new Error(`no server.${id} line in ${file}`);
    text = text.replace(re, `server.${id}=$1:${quorum}:${election}`);
  }
  fs.writeFileSync(file, text);
}

describeApache('read-only mode against Apache ZooKeeper 3.8', () => {
  let cluster: Cluster | undefined;
  const handles: ZooKeeper[] = [];
  afterAll(async () => {
    for (const zk of handles.splice(0)) await zk.close().catch(() => {});
    await cluster?.stop();
  });

  it('connects read-only to the survivor of a lost quorum, then moves to a r/w server by itself once the quorum is back', async () => {
    cluster = await startApache({ servers: 3, readOnlyMode: true });
    const [s1, s2, s3] = cluster.servers;
    const setup = new ZooKeeper(cluster.connectString, { sessionTimeout: 6000 });
    handles.push(setup);
    await setup.connected();
    await setup.create('/ro', 'before');
    await setup.close();

    await Promise.all([s2.kill(), s3.kill()]);
    await waitFor('server 1 read-only', async () => (await serverMode('127.0.0.1', s1.clientPort).catch(() => undefined)) === 'read-only', 20_000);

    // Keep server 1 out of the new quorum, so that it stays read-only and the
    // only way for the client to reach a r/w server is its own isro probing:
    // 2 and 3 come back on new quorum/election ports (server 1 still dials the
    // old ones) and believe server 1 lives on ports nobody listens on.
    const [q1, e1, q2, e2, q3, e3] = await freePorts(6);
    const moved: Record<number, [number, number]> = { 1: [q1, e1], 2: [q2, e2], 3: [q3, e3] };
    movePeerPorts(s2.dir, moved);
    movePeerPorts(s3.dir, moved);

    const states: KeeperState[] = [];
    const zk = new ZooKeeper(cluster.connectString, {
      sessionTimeout: 6000,
      canBeReadOnly: true,
      // Java's 60 s cap would make this test wait up to a minute; the mechanism is the same.
      rwProbeInterval: { initial: 100, max: 1000 },
    });
    handles.push(zk);
    zk.on('state', (s) => void states.push(s));
    await zk.connected();
    expect(zk.state).toBe(KeeperState.ConnectedReadOnly);
    expect(zk.currentHost!.port).toBe(s1.clientPort);
    const roSession = zk.sessionId;
    expect((await zk.getData('/ro')).data!.toString()).toBe('before');
    await expect(zk.setData('/ro', 'during')).rejects.toBeInstanceOf(NotReadOnlyError);

    await Promise.all([s2.start(), s3.start()]);
    await until('SyncConnected', () => zk.state === KeeperState.SyncConnected, 20_000);
    expect([s2.clientPort, s3.clientPort]).toContain(zk.currentHost!.port);
    expect(zk.sessionId).not.toBe(roSession);
    // Server 1 never left read-only mode: the move was the client's own doing.
    expect(await serverMode('127.0.0.1', s1.clientPort)).toBe('read-only');
    const stat = await zk.setData('/ro', 'after');
    expect(stat.version).toBe(1);
    expect((await zk.getData('/ro')).data!.toString()).toBe('after');
    expect(states).toEqual([KeeperState.ConnectedReadOnly, KeeperState.Disconnected, KeeperState.SyncConnected]);
  }, 90_000);
});
