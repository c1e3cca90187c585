/**
 * Crash safety: kill -9 our server in the middle of a stream of writes,
 * restart it on the same data dir, and every write it ACKNOWLEDGED must be
 * there with the right data. Writes in flight at the kill may or may not
 * have survived, but whatever survived must be whole (right data, multi
 * pairs together, versions matching the number of applied sets).
 *
 * The stream mixes what real clients do: pipelined creates (a window of 32
 * outstanding), sequential-node creates one at a time, setData on one
 * counter node, and two-create multis. fsync is on and snapCount small, so
 * group commit and snapshots are both exercised. Three kill/restart cycles
 * on the same data dir; the kill moment comes from a seeded PRNG
 * (ZK_CRASH_SEED=<n> reproduces a run). After each restart the server must
 * continue zxids and sequence numbers past everything it had, and accept
 * new writes.
 *
 * Clients: our SDK (src/index.ts).
 */
import { randomBytes } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { CreateMode, Op, Stat, ZooKeeper } from '../../src';
import { DurableServer, startDurableServer } from './durable-server';
import { seededRandom } from '../harness/seeded-random';

const SEED = process.env.ZK_CRASH_SEED ? Number(process.env.ZK_CRASH_SEED) : 90_210;
const CYCLES = 3;
const PIPELINE_WINDOW = 32;
const MULTI_WINDOW = 4;

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
    }),
  ]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The files of <dataDir>/version-2 with their sizes, for failure messages. */
function listDataDir(dataDir: string): string {
  const dir = path.join(dataDir, 'version-2');
  try {
    return fs
      .readdirSync(dir)
      .sort()
      .map((n) => `${n} ${fs.statSync(path.join(dir, n)).size}`)
      .join('\n');
  } catch (e) {
    return `(cannot list ${dir}: ${(e as Error).message})`;
  }
}

/** What the clients were told, across all cycles. */
class Ledger {
  /** Acknowledged plain creates: path -> data. */
  readonly created = new Map<string, string>();
  /** Every plain create sent (acked or not): path -> data. */
  readonly sentCreates = new Map<string, string>();
  /** Acknowledged sequential creates: returned path -> data. */
  readonly sequential = new Map<string, string>();
  /** Data of every sequential create sent. */
  readonly sentSequentialData = new Set<string>();
  /** The last acknowledged counter value (the k-th set writes String(k) and yields version k). */
  counterAcked = 0;
  counterSent = 0;
  /** Multi pairs sent / acknowledged, by id. */
  readonly multiSent = new Set<string>();
  readonly multiAcked = new Set<string>();
  maxAckedZxid = 0n;
  acks = 0;

  ack(zxid?: bigint): void {
    this.acks++;
    if (zxid !== undefined && zxid > this.maxAckedZxid) this.maxAckedZxid = zxid;
  }
}

interface StreamStats {
  acked: number;
  inFlightAtKill: number;
  failed: number;
}

/** Runs the four write streams until stop() is called; resolves once every request has settled. */
function writeStreams(zk: ZooKeeper, ledger: Ledger, cycle: number) {
  let stopped = false;
  let inFlight = 0;
  let inFlightAtKill = -1;
  let failed = 0;
  const ackedBefore = ledger.acks;
  const tag = randomBytes(2).toString('hex');

  const track = <T>(p: Promise<T>, onAck: (v: T) => void): Promise<void> => {
    inFlight++;
    return p.then(
      (v) => {
        inFlight--;
        onAck(v);
      },
      () => {
        inFlight--;
        failed++;
      },
    );
  };

  async function pipelined(): Promise<void> {
    const window = new Set<Promise<void>>();
    for (let n = 0; !stopped; n++) {
      const path = `/crash/p/c${cycle}-${n}`;
      const data = `p:${cycle}:${n}:${tag}`;
      ledger.sentCreates.set(path, data);
      const p = track(zk.create2(path, Buffer.from(data)), (r) => {
        ledger.created.set(path, data);
        ledger.ack(r.stat.czxid);
      });
      window.add(p);
      void p.finally(() => window.delete(p));
      if (window.size >= PIPELINE_WINDOW) await Promise.race(window);
    }
    await Promise.allSettled([...window]);
  }

  async function sequential(): Promise<void> {
    for (let n = 0; !stopped; n++) {
      const data = `s:${cycle}:${n}:${tag}`;
      ledger.sentSequentialData.add(data);
      await track(zk.create2('/crash/s/item-', Buffer.from(data), { mode: CreateMode.PERSISTENT_SEQUENTIAL }), (r) => {
        ledger.sequential.set(r.path, data);
        ledger.ack(r.stat.czxid);
      });
    }
  }

  async function counter(): Promise<void> {
    while (!stopped) {
      const k = ++ledger.counterSent;
      await track(zk.setData('/crash/counter', Buffer.from(String(k))), (st: Stat) => {
        ledger.counterAcked = Math.max(ledger.counterAcked, k);
        ledger.ack(st.mzxid);
      });
      // A failed set ends the stream: the next k would not be version k any more.
      if (ledger.counterAcked !== k) return;
    }
  }

  async function multis(): Promise<void> {
    const window = new Set<Promise<void>>();
    for (let n = 0; !stopped; n++) {
      const id = `c${cycle}-${n}`;
      ledger.multiSent.add(id);
      const p = track(zk.multi([Op.create(`/crash/m/a-${id}`, Buffer.from(id)), Op.create(`/crash/m/b-${id}`, Buffer.from(id))]), (results) => {
        if (results.every((r) => r.type === 'create')) {
          ledger.multiAcked.add(id);
          ledger.ack();
        }
      });
      window.add(p);
      void p.finally(() => window.delete(p));
      if (window.size >= MULTI_WINDOW) await Promise.race(window);
    }
    await Promise.allSettled([...window]);
  }

  const done = Promise.all([pipelined(), sequential(), counter(), multis()]);
  return {
    acked: () => ledger.acks - ackedBefore,
    /** Stops issuing requests; those already sent are the ones in flight at the kill. */
    stop(): void {
      stopped = true;
      inFlightAtKill = inFlight;
    },
    async settled(): Promise<StreamStats> {
      await done;
      return { acked: ledger.acks - ackedBefore, inFlightAtKill, failed };
    },
  };
}

/** getData for many paths, 256 in flight at a time; null for a missing node. */
async function readAll(zk: ZooKeeper, paths: string[]): Promise<Map<string, { data: string; stat: Stat } | null>> {
  const out = new Map<string, { data: string; stat: Stat } | null>();
  for (let i = 0; i < paths.length; i += 256) {
    const batch = paths.slice(i, i + 256);
    const rs = await Promise.all(
      batch.map((p) =>
        zk.getData(p).then(
          (r) => ({ data: r.data?.toString() ?? '', stat: r.stat }),
          (err: { code?: number }) => {
            if (err.code === -101) return null;
            throw err;
          },
        ),
      ),
    );
    batch.forEach((p, j) => out.set(p, rs[j]));
  }
  return out;
}

describe(`kill -9 durability of our server (seed ${SEED})`, () => {
  let srv: DurableServer;
  const ledger = new Ledger();
  const random = seededRandom(SEED);
  const clients: ZooKeeper[] = [];

  function client(): ZooKeeper {
    const zk = new ZooKeeper(srv.connectString, { sessionTimeout: 10_000 });
    zk.on('error', () => undefined);
    clients.push(zk);
    return zk;
  }

  beforeAll(async () => {
    srv = await startDurableServer();
    const zk = client();
    await zk.connected();
    for (const p of ['/crash', '/crash/p', '/crash/s', '/crash/m']) await zk.create(p, null);
    await zk.create('/crash/counter', Buffer.from('0'));
    await zk.close();
  }, 90_000);

  afterAll(async () => {
    await Promise.all(clients.map((c) => withTimeout(c.close(), 6000, 'close').catch(() => undefined)));
    await srv?.dispose();
  });

  /** Checks everything acknowledged so far is there, and that whatever else survived is whole. */
  async function verify(zk: ZooKeeper, context: string): Promise<bigint> {
    const problems: string[] = [];
    let maxZxid = 0n;
    const seen = (st: Stat) => {
      for (const z of [st.czxid, st.mzxid, st.pzxid]) if (z > maxZxid) maxZxid = z;
    };

    // Plain creates: every acked one with its data; any other survivor with the data sent for it.
    const pKids = (await zk.getChildren2('/crash/p'));
    seen(pKids.stat);
    const pPaths = [...new Set([...ledger.created.keys(), ...pKids.children.map((c) => `/crash/p/${c}`)])];
    const pNodes = await readAll(zk, pPaths);
    for (const [path, data] of ledger.created) {
      const got = pNodes.get(path);
      if (!got) problems.push(`acknowledged create ${path} is missing`);
      else if (got.data !== data) problems.push(`acknowledged create ${path}: data ${JSON.stringify(got.data)}, expected ${JSON.stringify(data)}`);
    }
    for (const c of pKids.children) {
      const path = `/crash/p/${c}`;
      const got = pNodes.get(path);
      if (got) seen(got.stat);
      if (!ledger.sentCreates.has(path)) problems.push(`${path} exists but was never sent`);
      else if (got && got.data !== ledger.sentCreates.get(path)) problems.push(`${path} survived with wrong data ${JSON.stringify(got.data)}`);
    }
    if (pKids.stat.numChildren !== pKids.children.length) problems.push(`/crash/p numChildren ${pKids.stat.numChildren} but ${pKids.children.length} children`);
    if (pKids.stat.cversion !== pKids.children.length) problems.push(`/crash/p cversion ${pKids.stat.cversion} != ${pKids.children.length} children (no deletes happened)`);

    // Sequential creates.
    const sKids = await zk.getChildren2('/crash/s');
    seen(sKids.stat);
    const sNodes = await readAll(zk, sKids.children.map((c) => `/crash/s/${c}`));
    for (const [path, data] of ledger.sequential) {
      const got = sNodes.get(path);
      if (!got) problems.push(`acknowledged sequential create ${path} is missing`);
      else if (got.data !== data) problems.push(`acknowledged sequential ${path}: data ${JSON.stringify(got.data)}, expected ${JSON.stringify(data)}`);
    }
    for (const [path, got] of sNodes) {
      if (got) seen(got.stat);
      if (got && !ledger.sentSequentialData.has(got.data)) problems.push(`${path} survived with data never sent: ${JSON.stringify(got.data)}`);
    }
    const sDatas = [...sNodes.values()].filter(Boolean).map((g) => g!.data);
    if (new Set(sDatas).size !== sDatas.length) problems.push('a sequential create was applied twice');

    // The counter: at least the last acknowledged value, and its version says how many sets were applied.
    const counter = await zk.getData('/crash/counter');
    seen(counter.stat);
    const value = Number(counter.data?.toString());
    if (!(value >= ledger.counterAcked)) problems.push(`counter is ${value}, but ${ledger.counterAcked} was acknowledged`);
    if (value > ledger.counterSent) problems.push(`counter is ${value}, but only ${ledger.counterSent} sets were sent`);
    if (counter.stat.version !== value) problems.push(`counter value ${value} with version ${counter.stat.version}: sets lost or applied twice`);

    // Multi pairs: acknowledged ones complete, none half-applied.
    const mKids = new Set((await zk.getChildren('/crash/m')));
    for (const id of ledger.multiSent) {
      const a = mKids.has(`a-${id}`);
      const b = mKids.has(`b-${id}`);
      if (a !== b) problems.push(`multi ${id} half-applied (a=${a}, b=${b})`);
      if (ledger.multiAcked.has(id) && !(a && b)) problems.push(`acknowledged multi ${id} is missing`);
    }

    if (ledger.maxAckedZxid > maxZxid) problems.push(`highest acknowledged zxid 0x${ledger.maxAckedZxid.toString(16)} is above everything in the tree (0x${maxZxid.toString(16)})`);
    if (problems.length > 0) {
      throw new Error(`${context}: ${problems.length} problem(s), seed ${SEED}:\n  ${problems.slice(0, 40).join('\n  ')}\n--- server log ---\n${srv.server.logTail(40)}`);
    }
    return maxZxid;
  }

  /** Any failure inside a cycle also shows the data dir and the server's log: a stall leaves no other trace. */
  async function withDiagnostics(context: string, body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      const e = err as Error;
      e.message = `${context}: ${e.message}\n--- data dir ---\n${listDataDir(srv.dataDir)}\n--- server log ---\n${srv.server.logTail(40)}`;
      throw e;
    }
  }

  for (let cycle = 1; cycle <= CYCLES; cycle++) {
    test(`cycle ${cycle}: kill -9 during the write stream, restart, every acknowledged write is there`, () => withDiagnostics(`cycle ${cycle}, seed ${SEED}`, async () => {
      const zk = client();
      await withTimeout(zk.connected(), 20_000, 'writer connecting');
      const streams = writeStreams(zk, ledger, cycle);

      // Let the stream get going, then kill at a seeded moment.
      const deadline = Date.now() + 20_000;
      while (streams.acked() < 100 && Date.now() < deadline) await sleep(10);
      expect(streams.acked()).toBeGreaterThanOrEqual(100);
      await sleep(200 + Math.floor(random() * 1000));
      streams.stop();
      await srv.server.kill();

      // Nothing in flight can reach the restarted server: close the old handle first.
      await withTimeout(zk.close(), 10_000, 'closing the writer after the kill').catch(() => undefined);
      const stats = await withTimeout(streams.settled(), 20_000, 'in-flight requests settling after the kill');
      // The kill must have landed in the middle of the stream.
      expect(stats.inFlightAtKill).toBeGreaterThan(0);

      const t0 = Date.now();
      await srv.server.start();
      const t1 = Date.now();
      const reader = client();
      await withTimeout(reader.connected(), 20_000, 'reconnecting after restart');
      const maxZxid = await verify(reader, `after kill ${cycle} (${stats.acked} acked, ${stats.inFlightAtKill} in flight)`);
      if (process.env.ZK_CRASH_VERBOSE) console.log({ cycle, ...stats, restartMs: t1 - t0, verifyMs: Date.now() - t1, ledger: { created: ledger.created.size, seq: ledger.sequential.size, multis: ledger.multiAcked.size, counter: ledger.counterAcked } });

      // The restarted server continues zxids and sequence numbers past everything it had, and takes writes.
      const made = await reader.create2(`/crash/after-restart-${cycle}`, Buffer.from('x'));
      expect(made.stat.czxid).toBeGreaterThan(maxZxid);
      const seqs = (await reader.getChildren('/crash/s')).map((c) => Number(c.slice(-10)));
      const nextSeq = await reader.create2('/crash/s/item-', Buffer.from(`s:after:${cycle}`), { mode: CreateMode.PERSISTENT_SEQUENTIAL });
      ledger.sentSequentialData.add(`s:after:${cycle}`);
      ledger.sequential.set(nextSeq.path, `s:after:${cycle}`);
      expect(Number(nextSeq.path.slice(-10))).toBeGreaterThan(Math.max(-1, ...seqs));
      // One more acknowledged set; the next cycle's sets continue from what survived.
      const cur = Number((await reader.getData('/crash/counter')).data!.toString());
      const st = await reader.setData('/crash/counter', Buffer.from(String(cur + 1)));
      expect(st.version).toBe(cur + 1);
      ledger.counterAcked = cur + 1;
      ledger.counterSent = cur + 1;
      await reader.close();
    }), 90_000);
  }

  test('a clean restart (SIGTERM) after the crashes loses nothing either', async () => {
    await srv.server.stop();
    await srv.server.start();
    const zk = client();
    await withTimeout(zk.connected(), 20_000, 'reconnecting after SIGTERM restart');
    await verify(zk, 'after SIGTERM restart');
    await zk.close();
  }, 60_000);
});
