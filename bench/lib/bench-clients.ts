/**
 * The two client libraries under test behind one callback-shaped adapter,
 * so the load loop is identical for both and adds no promise of its own:
 * node-zookeeper-client gets its native callbacks, our client its native
 * promises (one `.then` per call, which is how an application awaits it).
 */
import * as net from 'net';
import * as path from 'path';

/**
 * ours = zookeeper-ts, nzc = node-zookeeper-client, raw = the socket floor
 * (below), base = zookeeper-ts from another checkout (BENCH_BASELINE_SRC),
 * to measure a change before and after in the same run.
 */
export type ClientImpl = 'ours' | 'nzc' | 'raw' | 'base';

export const CLIENT_LABELS: Record<ClientImpl, string> = {
  ours: 'zookeeper-ts',
  nzc: 'node-zookeeper-client',
  raw: 'raw socket floor',
  base: 'zookeeper-ts baseline',
};

/** The `src` directory of another checkout whose client is the 'base' side, or undefined. */
export function baselineSource(): string | undefined {
  const dir = process.env.BENCH_BASELINE_SRC;
  return dir ? path.resolve(dir) : undefined;
}

/** Completion callback: null on success, the client's error otherwise. */
export type Done = (err: Error | null) => void;

export interface BenchClient {
  getData(path: string, done: Done): void;
  setData(path: string, data: Buffer, done: Done): void;
  /** Persistent node, open ACL. */
  create(path: string, data: Buffer, done: Done): void;
  /** Any version. */
  remove(path: string, done: Done): void;
  close(): Promise<void>;
}

const NODE_EXISTS = -110;

/** Creates `path` unless it exists already. */
export function ensureNode(client: BenchClient, nodePath: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => {
    client.create(nodePath, data, (err) => {
      if (err && (err as { code?: unknown }).code !== NODE_EXISTS) reject(err);
      else resolve();
    });
  });
}

/** Sets `path`'s data, for workloads that need a known payload size. */
export function setNode(client: BenchClient, nodePath: string, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => client.setData(nodePath, data, (err) => (err ? reject(err) : resolve())));
}

export async function connectClient(impl: ClientImpl, connectString: string, timeoutMs: number): Promise<BenchClient> {
  if (impl === 'ours') return connectOurs(connectString, timeoutMs);
  if (impl === 'base') {
    const dir = baselineSource();
    if (!dir) throw new Error('the baseline side needs BENCH_BASELINE_SRC=<another checkout>/src');
    return connectOurs(connectString, timeoutMs, dir);
  }
  if (impl === 'nzc') return connectNzc(connectString, timeoutMs);
  return connectRaw(connectString, timeoutMs);
}

// --- node-zookeeper-client -------------------------------------------------

/**
 * The slice of node-zookeeper-client 1.1 (no bundled types) the benchmark
 * calls. Declared here, not as an ambient `declare module`, so that it
 * cannot clash with declarations other parts of the repo may need.
 */
type NzcCallback = (err: Error | null) => void;
interface NzcClient {
  connect(): void;
  close(): void;
  once(event: 'connected' | 'disconnected', listener: () => void): void;
  create(path: string, data: Buffer, mode: number, cb: NzcCallback): void;
  remove(path: string, version: number, cb: NzcCallback): void;
  getData(path: string, cb: NzcCallback): void;
  setData(path: string, data: Buffer, version: number, cb: NzcCallback): void;
}
interface NzcModule {
  createClient(connectString: string, options: { sessionTimeout: number; retries: number }): NzcClient;
  CreateMode: { PERSISTENT: number };
}

async function connectNzc(connectString: string, timeoutMs: number): Promise<BenchClient> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const nzc = require('node-zookeeper-client') as NzcModule;
  const zk = nzc.createClient(connectString, { sessionTimeout: 30_000, retries: 0 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      zk.close();
      reject(new Error(`node-zookeeper-client: not connected to ${connectString} within ${timeoutMs} ms`));
    }, timeoutMs);
    zk.once('connected', () => {
      clearTimeout(timer);
      resolve();
    });
    zk.connect();
  });
  const persistent = nzc.CreateMode.PERSISTENT;
  return {
    getData: (p, done) => zk.getData(p, done),
    setData: (p, data, done) => zk.setData(p, data, -1, done),
    create: (p, data, done) => zk.create(p, data, persistent, done),
    remove: (p, done) => zk.remove(p, -1, done),
    close: () =>
      new Promise<void>((resolve) => {
        // close() queues closeSession; 'disconnected' follows once the socket ends.
        const timer = setTimeout(resolve, 2000);
        zk.once('disconnected', () => {
          clearTimeout(timer);
          resolve();
        });
        zk.close();
      }),
  };
}

// --- zookeeper-ts (src/index.ts) --------------------------------------------

/**
 * The surface of our client the benchmark calls (issue 2's API). Loaded at
 * run time so that the node-zookeeper-client side still runs, and says
 * precisely what failed, when our client is missing or broken.
 */
interface OurZooKeeper {
  connected(): Promise<unknown>;
  getData(path: string): Promise<unknown>;
  setData(path: string, data: Buffer, version: number): Promise<unknown>;
  create(path: string, data: Buffer): Promise<unknown>;
  delete(path: string, version: number): Promise<unknown>;
  close(): Promise<unknown>;
}

interface OurClientModule {
  ZooKeeper: new (connectString: string, options: { sessionTimeout: number }) => OurZooKeeper;
}

export const OUR_CLIENT_MODULE = path.resolve(__dirname, '..', '..', 'src', 'index.ts');

async function connectOurs(connectString: string, timeoutMs: number, srcDir = path.resolve(__dirname, '..', '..', 'src')): Promise<BenchClient> {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require(srcDir) as Partial<OurClientModule>;
  if (typeof mod.ZooKeeper !== 'function') throw new Error(`${srcDir} does not export a ZooKeeper class`);
  const zk = new mod.ZooKeeper(connectString, { sessionTimeout: 30_000 });
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      zk.connected(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`zookeeper-ts: connected() did not settle within ${timeoutMs} ms (${connectString})`)),
          timeoutMs,
        );
      }),
    ]);
  } catch (err) {
    zk.close().catch(() => undefined);
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const ok = (done: Done) => () => done(null);
  return {
    getData: (p, done) => void zk.getData(p).then(ok(done), done),
    setData: (p, data, done) => void zk.setData(p, data, -1).then(ok(done), done),
    create: (p, data, done) => void zk.create(p, data).then(ok(done), done),
    remove: (p, done) => void zk.delete(p, -1).then(ok(done), done),
    close: async () => {
      await zk.close();
    },
  };
}

// --- raw socket floor ---------------------------------------------------------

/**
 * The floor under any client: hand-encoded request frames on a plain socket,
 * the frames of one tick sent in one write, and replies parsed only as far
 * as the reply header (xid, err). No path validation, no records, no
 * promises, no watches. What it costs per op is what the kernel (loopback
 * TCP) and Node's socket layer cost; a real client's CPU above this floor
 * is the library's own work.
 */
async function connectRaw(connectString: string, timeoutMs: number): Promise<BenchClient> {
  const [host, portText] = connectString.split(',')[0].split(':');
  const sock = net.connect({ host, port: Number(portText) });
  sock.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`raw: no handshake from ${connectString} within ${timeoutMs} ms`)), timeoutMs);
    sock.once('error', reject);
    sock.once('connect', () => {
      // ConnectRequest: protocolVersion, lastZxidSeen, timeOut, sessionId, passwd (16 zero bytes), readOnly.
      const body = Buffer.alloc(45);
      body.writeInt32BE(30_000, 12);
      body.writeInt32BE(16, 24);
      sock.write(frame(body));
    });
    sock.once('data', () => {
      // The ConnectResponse: any reply means the session is up (the benchmark only needs that).
      clearTimeout(timer);
      sock.removeListener('error', reject);
      resolve();
    });
  });

  const pending: Done[] = [];
  let xid = 0;
  let buffered: Buffer = Buffer.alloc(0);
  sock.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    let off = 0;
    while (buffered.length - off >= 4) {
      const len = buffered.readInt32BE(off);
      if (buffered.length - off - 4 < len) break;
      const replyXid = buffered.readInt32BE(off + 4);
      const err = buffered.readInt32BE(off + 16);
      off += 4 + len;
      if (replyXid < 0) continue; // ping reply or watch event
      const done = pending.shift();
      if (done) done(err === 0 ? null : Object.assign(new Error(`raw: error ${err}`), { code: err }));
    }
    buffered = off === buffered.length ? Buffer.alloc(0) : buffered.subarray(off);
  });
  const failAll = (why: string) => {
    for (const done of pending.splice(0)) done(new Error(why));
  };
  sock.on('error', (e) => failAll(`raw: ${e.message}`));
  sock.on('close', () => failAll('raw: connection closed'));
  // The session must outlive idle gaps between runs: ping well inside the 30 s timeout.
  const PING = frame(Buffer.from([0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 11]));
  const pinger = setInterval(() => sock.write(PING), 5000);
  pinger.unref();

  // Frames issued in one tick leave in one socket write, as any good client does; with one
  // request in flight that is one write per op, which nothing can avoid.
  let outgoing: Buffer[] = [];
  const flush = () => {
    const out = outgoing;
    outgoing = [];
    sock.write(out.length === 1 ? out[0] : Buffer.concat(out));
  };
  const send = (type: number, parts: Buffer[], done: Done) => {
    const header = Buffer.allocUnsafe(8);
    header.writeInt32BE(++xid, 0);
    header.writeInt32BE(type, 4);
    pending.push(done);
    if (outgoing.length === 0) queueMicrotask(flush);
    outgoing.push(frame(Buffer.concat([header, ...parts])));
  };
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const out = Buffer.allocUnsafe(4 + b.length);
    out.writeInt32BE(b.length, 0);
    b.copy(out, 4);
    return out;
  };
  const int = (n: number) => {
    const b = Buffer.allocUnsafe(4);
    b.writeInt32BE(n, 0);
    return b;
  };
  const buf = (data: Buffer) => Buffer.concat([int(data.length), data]);
  const NO_WATCH = Buffer.from([0]);
  // vector<ACL> with world:anyone, all permissions.
  const OPEN_ACL = Buffer.concat([int(1), int(31), str('world'), str('anyone')]);
  return {
    getData: (p, done) => send(4, [str(p), NO_WATCH], done),
    setData: (p, data, done) => send(5, [str(p), buf(data), int(-1)], done),
    create: (p, data, done) => send(1, [str(p), buf(data), OPEN_ACL, int(0)], done),
    remove: (p, done) => send(2, [str(p), int(-1)], done),
    close: async () => {
      clearInterval(pinger);
      sock.end();
      sock.destroy();
    },
  };
}

function frame(body: Buffer): Buffer {
  const out = Buffer.allocUnsafe(4 + body.length);
  out.writeInt32BE(body.length, 0);
  body.copy(out, 4);
  return out;
}
