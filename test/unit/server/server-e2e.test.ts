/**
 * End to end over loopback: our server against raw frames and against the
 * independent node-zookeeper-client package.
 */
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import * as zk from 'node-zookeeper-client';
import { CreateRequest, CreateTTLRequest, Create2Response, ExistsRequest, GetDataRequest, GetDataResponse, GetSASLRequest, Ids, OpCode, SetDataRequest, SetSASLResponse } from '../../../src/proto';
import { JuteWriter } from '../../../src/jute';
import { ZooKeeperServer } from '../../../src/server';
import { MemoryTxnStore } from '../../../src/server/persist/memory-store';
import { digestResponse, parseDirectives } from '../../../src/server/session/sasl-digest-md5';
import { RawClient, decode } from './raw-client';

jest.setTimeout(30_000);

function nzkConnect(connectString: string): Promise<zk.Client> {
  const c = zk.createClient(connectString, { sessionTimeout: 10000, retries: 0 });
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('connect timeout')), 5000);
    c.once('connected', () => {
      clearTimeout(t);
      resolve(c);
    });
    c.connect();
  });
}

const p = <T>(fn: (cb: (err: Error | null, v: T) => void) => void): Promise<T> =>
  new Promise((res, rej) => fn((err, v) => (err ? rej(err) : res(v))));

describe('our server with node-zookeeper-client', () => {
  let srv: ZooKeeperServer;
  beforeAll(async () => {
    srv = await ZooKeeperServer.start({ clientPort: 0 });
  });
  afterAll(async () => {
    await srv.close();
  });

  it('does CRUD, sequential and ephemeral nodes, a transaction, and a data watch', async () => {
    const c = await nzkConnect(srv.connectString);
    try {
      await p<string>((cb) => c.create('/nzk', Buffer.from('v1'), zk.CreateMode.PERSISTENT, cb));
      const data = await p<Buffer>((cb) => c.getData('/nzk', cb));
      expect(data.toString()).toBe('v1');
      const seq = await p<string>((cb) => c.create('/nzk/q-', Buffer.alloc(0), zk.CreateMode.EPHEMERAL_SEQUENTIAL, cb));
      expect(seq).toBe('/nzk/q-0000000000');
      const fired = new Promise<zk.Event>((res) => c.getData('/nzk', (e) => res(e), () => undefined));
      await p<unknown>((cb) => c.setData('/nzk', Buffer.from('v2'), -1, cb));
      expect((await fired).getType()).toBe(zk.Event.NODE_DATA_CHANGED);
      const results = await p<unknown[]>((cb) => c.transaction().create('/nzk/t').setData('/nzk', Buffer.from('v3'), -1).commit(cb));
      expect(results).toHaveLength(2);
      const children = await p<string[]>((cb) => c.getChildren('/nzk', cb));
      expect(children.sort()).toEqual(['q-0000000000', 't']);
      await expect(p<unknown>((cb) => c.transaction().create('/nzk/t').commit(cb))).rejects.toBeDefined();
    } finally {
      c.close();
    }
  });

  it('deletes ephemerals when the session closes', async () => {
    const a = await nzkConnect(srv.connectString);
    await p<string>((cb) => a.create('/eph', Buffer.alloc(0), zk.CreateMode.EPHEMERAL, cb));
    a.close();
    const b = await nzkConnect(srv.connectString);
    try {
      for (let i = 0; i < 50; i++) {
        const stat = await p<unknown>((cb) => b.exists('/eph', cb));
        if (!stat) return;
        await new Promise((r) => setTimeout(r, 20));
      }
      throw new Error('ephemeral survived its session');
    } finally {
      b.close();
    }
  });
});

describe('pipeline ordering and limits', () => {
  it('answers a pipelined burst in order and a read sees the write before it', async () => {
    const store = new MemoryTxnStore();
    const srv = await ZooKeeperServer.start({ clientPort: 0, store });
    try {
      const c = await RawClient.connect(srv.clientPort);
      const xids: number[] = [];
      xids.push(c.send(OpCode.create, new CreateRequest({ path: '/o', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 0 })));
      for (let i = 0; i < 200; i++) {
        xids.push(c.send(OpCode.setData, new SetDataRequest({ path: '/o', data: Buffer.from(String(i)), version: -1 })));
        xids.push(c.send(OpCode.getData, new GetDataRequest({ path: '/o', watch: false })));
      }
      await c.waitFor(() => c.peek().length === xids.length);
      const frames = c.drain();
      expect(frames.map((f) => f.header.xid)).toEqual(xids);
      for (let i = 0; i < 200; i++) {
        const read = frames[2 + 2 * i];
        expect(decode(GetDataResponse, read.body).data!.toString()).toBe(String(i));
        expect(read.header.zxid).toBe(frames[1 + 2 * i].header.zxid);
      }
      // Group commit: the store saw all 201 writes (plus createSession and snapshot.0) in order.
      const zxids = store.entries.map((e) => e.header.zxid);
      expect(zxids).toEqual([...zxids].sort((a, b) => (a < b ? -1 : 1)));
      c.close();
    } finally {
      await srv.close();
    }
  });

  it('sends the watch event before the reply of the write that fired it', async () => {
    const srv = await ZooKeeperServer.start({ clientPort: 0 });
    try {
      const c = await RawClient.connect(srv.clientPort);
      await c.call(OpCode.exists, new ExistsRequest({ path: '/w', watch: true }));
      const x = c.send(OpCode.create, new CreateRequest({ path: '/w', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 0 }));
      await c.waitFor(() => c.peek().length === 2);
      expect(c.drain().map((f) => f.header.xid)).toEqual([-1, x]);
      c.close();
    } finally {
      await srv.close();
    }
  });

  it('closes a connection whose frame exceeds jute.maxbuffer, and only that one', async () => {
    const srv = await ZooKeeperServer.start({ clientPort: 0, jute: { maxbuffer: 1024 } });
    try {
      const good = await RawClient.connect(srv.clientPort);
      const bad = await RawClient.connect(srv.clientPort);
      bad.send(OpCode.create, new CreateRequest({ path: '/big', data: Buffer.alloc(2000), acl: Ids.OPEN_ACL_UNSAFE, flags: 0 }));
      await bad.waitFor(() => bad.closed);
      const f = await good.call(OpCode.exists, new ExistsRequest({ path: '/big', watch: false }));
      expect(f.header.err).toBe(-101);
      good.close();
    } finally {
      await srv.close();
    }
  });

  it('survives garbage and truncated handshakes', async () => {
    const srv = await ZooKeeperServer.start({ clientPort: 0 });
    try {
      const junk = [Buffer.from([0xff, 0xff, 0xff, 0xff]), Buffer.from([0, 0, 0, 3, 1, 2, 3]), Buffer.from('GET / HTTP/1.1\r\n\r\n'), Buffer.from([0, 0, 0, 40, 0, 0, 0, 0])];
      for (let i = 0; i < 30; i++) junk.push(Buffer.from(Array.from({ length: 1 + (i * 7) % 60 }, (_, j) => (i * 31 + j * 17) & 0xff)));
      for (const bytes of junk) {
        const c = await RawClient.open(srv.clientPort);
        c.writeRaw(bytes);
        c.socket.end();
        await c.waitFor(() => c.closed, 3000).catch(() => c.close());
        c.close();
      }
      // A request frame with a valid header and a garbage body gets an error, the session stays.
      const ok = await RawClient.connect(srv.clientPort);
      const w = new JuteWriter().writeInt(7).writeInt(OpCode.getData).writeInt(1000);
      const f = await (async () => {
        ok.writeRaw(new JuteWriter().beginFrame().writeRaw(w.toBuffer()).endFrame().toBuffer());
        return ok.reply(7);
      })();
      expect(f.header.err).toBe(-5);
      const after = await ok.call(OpCode.exists, new ExistsRequest({ path: '/', watch: false }));
      expect(after.header.err).toBe(0);
      ok.close();
    } finally {
      await srv.close();
    }
  });

  it('refuses connections beyond maxClientCnxns per IP', async () => {
    const srv = await ZooKeeperServer.start({ clientPort: 0, maxClientCnxns: 2 });
    try {
      const a = await RawClient.connect(srv.clientPort);
      const b = await RawClient.connect(srv.clientPort);
      const c = await RawClient.open(srv.clientPort);
      await c.waitFor(() => c.closed);
      expect(a.closed || b.closed).toBe(false);
      a.close();
      b.close();
    } finally {
      await srv.close();
    }
  });

  it('stops reading a socket with too many outstanding requests (back-pressure)', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    class SlowStore extends MemoryTxnStore {
      override async append(entries: Parameters<MemoryTxnStore['append']>[0]): Promise<void> {
        if (entries[0].header.type !== OpCode.createSession) await gate;
        return super.append(entries);
      }
    }
    const srv = await ZooKeeperServer.start({ clientPort: 0, store: new SlowStore(), globalOutstandingLimit: 10 });
    try {
      const c = await RawClient.connect(srv.clientPort);
      for (let i = 0; i < 200; i++) c.send(OpCode.create, new CreateRequest({ path: `/bp${i}`, data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 0 }));
      await new Promise((r) => setTimeout(r, 300));
      const ctx = srv.fourLetterContext();
      const conn = ctx.connections().find((x) => x.sessionId === c.connectResponse!.sessionId)!;
      expect(conn.interestOps).toBe(0);
      expect(conn.outstandingRequests).toBeLessThanOrEqual(10);
      release();
      await c.waitFor(() => c.peek().length === 200, 10000);
      expect(c.drain().every((f) => f.header.err === 0)).toBe(true);
      c.close();
    } finally {
      release();
      await srv.close();
    }
  });
});

describe('sessions, containers, TTL, SASL, recovery', () => {
  it('expires a silent session and deletes its ephemerals', async () => {
    const srv = await ZooKeeperServer.start({ clientPort: 0, tickTime: 100 });
    try {
      const a = await RawClient.connect(srv.clientPort, { timeOut: 200 });
      expect(a.connectResponse!.timeOut).toBe(200);
      await a.call(OpCode.create, new CreateRequest({ path: '/gone', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 1 }));
      await a.waitFor(() => a.closed, 3000);
      const b = await RawClient.connect(srv.clientPort);
      expect((await b.call(OpCode.exists, new ExistsRequest({ path: '/gone', watch: false }))).header.err).toBe(-101);
      const again = await RawClient.connect(srv.clientPort, { sessionId: a.connectResponse!.sessionId, passwd: a.connectResponse!.passwd! });
      expect(again.connectResponse!.timeOut).toBe(0);
      b.close();
      again.close();
    } finally {
      await srv.close();
    }
  });

  it('reaps empty used containers and expired TTL nodes', async () => {
    const srv = await ZooKeeperServer.start({ clientPort: 0, extendedTypesEnabled: true, containerCheckIntervalMs: 3_600_000 });
    try {
      const c = await RawClient.connect(srv.clientPort);
      await c.call(OpCode.createContainer, new CreateRequest({ path: '/box', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 4 }));
      await c.call(OpCode.createContainer, new CreateRequest({ path: '/unused', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 4 }));
      await c.call(OpCode.create, new CreateRequest({ path: '/box/x', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 0 }));
      await c.call(OpCode.delete, Buffer.concat([new JuteWriter().writeString('/box/x').writeInt(-1).toBuffer()]));
      const ttl = await c.call(OpCode.createTTL, new CreateTTLRequest({ path: '/ttl', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 5, ttl: 50n }));
      expect(decode(Create2Response, ttl.body).stat.ephemeralOwner).toBe(0n);
      const bad = await c.call(OpCode.createTTL, new CreateTTLRequest({ path: '/ttl0', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 5, ttl: 0n }));
      expect(bad.header.err).toBe(-8);
      expect(srv.reapContainers(Date.now()).sort()).toEqual(['/box']);
      await new Promise((r) => setTimeout(r, 100));
      expect(srv.reapContainers(Date.now() + 1000).sort()).toEqual(['/ttl']);
      await new Promise((r) => setTimeout(r, 100));
      for (const pth of ['/box', '/ttl']) expect((await c.call(OpCode.exists, new ExistsRequest({ path: pth, watch: false }))).header.err).toBe(-101);
      expect((await c.call(OpCode.exists, new ExistsRequest({ path: '/unused', watch: false }))).header.err).toBe(0);
      c.close();
    } finally {
      await srv.close();
    }
  });

  it('reads one injected clock for txn times and the TTL reaper', async () => {
    let clock = Date.UTC(2031, 0, 1); // far from the real time, so a Date.now() anywhere would show
    const srv = await ZooKeeperServer.start({ clientPort: 0, extendedTypesEnabled: true, containerCheckIntervalMs: 3_600_000, now: () => clock });
    try {
      const c = await RawClient.connect(srv.clientPort);
      const ttl = await c.call(OpCode.createTTL, new CreateTTLRequest({ path: '/clocked', data: null, acl: Ids.OPEN_ACL_UNSAFE, flags: 5, ttl: 1000n }));
      const stat = decode(Create2Response, ttl.body).stat;
      expect([stat.ctime, stat.mtime]).toEqual([BigInt(clock), BigInt(clock)]);
      expect(srv.reapContainers()).toEqual([]);
      clock += 1001;
      expect(srv.reapContainers()).toEqual(['/clocked']);
      c.close();
    } finally {
      await srv.close();
    }
  });

  it('authenticates with SASL DIGEST-MD5 over the wire and enforces sasl ACLs', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zk-sasl-'));
    const jaas = path.join(dir, 'jaas.conf');
    fs.writeFileSync(jaas, 'Server { org.apache.zookeeper.server.auth.DigestLoginModule required user_bob="secret"; };');
    const srv = await ZooKeeperServer.start({ clientPort: 0, jaasConfigFile: jaas });
    try {
      const c = await RawClient.connect(srv.clientPort);
      const ch = await c.call(OpCode.sasl, new GetSASLRequest({ token: Buffer.alloc(0) }));
      const challenge = decode(SetSASLResponse, ch.body).token!.toString();
      const nonce = parseDirectives(challenge).get('nonce')!;
      const response = digestResponse({ username: 'bob', realm: 'zk-sasl-md5', password: 'secret', nonce, cnonce: 'cn', nc: '00000001', qop: 'auth', digestUri: 'zookeeper/zk-sasl-md5', utf8: true, forServer: false });
      const fin = await c.call(OpCode.sasl, new GetSASLRequest({ token: Buffer.from(`charset=utf-8,username="bob",realm="zk-sasl-md5",nonce="${nonce}",nc=00000001,cnonce="cn",digest-uri="zookeeper/zk-sasl-md5",response=${response},qop=auth`) }));
      expect(fin.header.err).toBe(0);
      const acl = [{ perms: 31, id: { scheme: 'sasl', id: 'bob' } }];
      const { ACL, Id } = await import('../../../src/proto');
      const created = await c.call(OpCode.create, new CreateRequest({ path: '/s', data: null, acl: acl.map((a) => new ACL({ perms: a.perms, id: new Id(a.id) })), flags: 0 }));
      expect(created.header.err).toBe(0);
      const other = await RawClient.connect(srv.clientPort);
      expect((await other.call(OpCode.getData, new GetDataRequest({ path: '/s', watch: false }))).header.err).toBe(-102);
      expect((await c.call(OpCode.getData, new GetDataRequest({ path: '/s', watch: false }))).header.err).toBe(0);
      c.close();
      other.close();
    } finally {
      await srv.close();
    }
  });

  it('recovers the tree and sessions from its store on restart', async () => {
    const store = new MemoryTxnStore();
    const reopen = (): MemoryTxnStore => Object.assign(Object.create(MemoryTxnStore.prototype), store, { closed: false });
    const srv = await ZooKeeperServer.start({ clientPort: 0, store, snapCount: 4 });
    const c = await RawClient.connect(srv.clientPort);
    for (let i = 0; i < 10; i++) await c.call(OpCode.create, new CreateRequest({ path: `/r${i}`, data: Buffer.from(String(i)), acl: Ids.OPEN_ACL_UNSAFE, flags: i === 9 ? 1 : 0 }));
    const sessionId = c.connectResponse!.sessionId;
    const passwd = c.connectResponse!.passwd!;
    c.close();
    await srv.close();
    const srv2 = await ZooKeeperServer.start({ clientPort: 0, store: reopen() });
    try {
      const d = await RawClient.connect(srv2.clientPort, { sessionId, passwd, lastZxidSeen: 11n });
      expect(d.connectResponse!.sessionId).toBe(sessionId);
      for (let i = 0; i < 10; i++) {
        const f = await d.call(OpCode.getData, new GetDataRequest({ path: `/r${i}`, watch: false }));
        expect(decode(GetDataResponse, f.body).data!.toString()).toBe(String(i));
      }
      d.close();
    } finally {
      await srv2.close();
    }
  });
});

describe('four-letter words', () => {
  it('answers ruok and srvr on the client port and closes', async () => {
    const srv = await ZooKeeperServer.start({ clientPort: 0, fourLetterWordWhitelist: '*' });
    try {
      const ask = (w: string): Promise<string> =>
        new Promise((res, rej) => {
          const s = net.connect(srv.clientPort, '127.0.0.1', () => s.write(w));
          let out = '';
          s.on('data', (d) => (out += d));
          s.on('close', () => res(out));
          s.on('error', rej);
        });
      expect(await ask('ruok')).toBe('imok');
      expect(await ask('srvr')).toContain('Mode: standalone');
    } finally {
      await srv.close();
    }
  });
});
