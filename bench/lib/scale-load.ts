/**
 * The scale benchmark's load, driven by our client (src/index.ts, proven
 * against Apache) from the orchestrating process: the same code for both
 * servers. Every loop is bounded by a count and a deadline.
 */
import { ZooKeeper } from '../../src';

const NODE_EXISTS = -110;
/** Children per parent in the big tree: /scale/p<i/1000>/n<i%1000>. Apache keeps a node's children in a HashSet; 1000 each keeps both servers off any one-huge-parent path. */
const FANOUT = 1000;
export const TREE_ROOT = '/scale';

export function nodePath(i: number): string {
  return `${TREE_ROOT}/p${Math.floor(i / FANOUT)}/n${i % FANOUT}`;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** One connected session (30 s timeout, so idle gaps between phases never expire it). */
export async function connect(connectString: string, timeoutMs = 30_000): Promise<ZooKeeper> {
  const zk = new ZooKeeper(connectString, { sessionTimeout: 30_000 });
  try {
    await withTimeout(zk.connected(), timeoutMs, `connect to ${connectString}`);
  } catch (err) {
    zk.close().catch(() => undefined);
    throw err;
  }
  return zk;
}

/**
 * `count` sessions, `concurrency` handshakes at a time (each session is a
 * createSession txn, fsynced); fails if they are not all up by `deadlineMs`
 * from now. Returns the handles and how long it took.
 */
export async function connectMany(connectString: string, count: number, concurrency: number, deadlineMs: number): Promise<{ sessions: ZooKeeper[]; elapsedMs: number }> {
  const sessions: ZooKeeper[] = [];
  const t0 = performance.now();
  const end = t0 + deadlineMs;
  let next = 0;
  const lane = async () => {
    while (next < count) {
      next++;
      const left = end - performance.now();
      if (left <= 0) throw new Error(`only ${sessions.length} of ${count} sessions connected within ${deadlineMs} ms`);
      sessions.push(await connect(connectString, left));
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.min(concurrency, count) }, lane));
  } catch (err) {
    await closeAll(sessions, 30_000);
    throw err;
  }
  return { sessions, elapsedMs: performance.now() - t0 };
}

/** Closes sessions (closeSession each, `concurrency` at a time); whatever is left at the deadline is abandoned (the server is killed next anyway). */
export async function closeAll(sessions: ZooKeeper[], deadlineMs: number, concurrency = 200): Promise<void> {
  const end = performance.now() + deadlineMs;
  let next = 0;
  const lane = async () => {
    while (next < sessions.length && performance.now() < end) {
      const zk = sessions[next++];
      await withTimeout(zk.close(), Math.max(1, end - performance.now()), 'close').catch(() => undefined);
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, sessions.length) }, lane));
}

/**
 * Runs op(0..count-1) with up to `inFlight` outstanding, spread round-robin
 * over `clients` (op gets its client), starting nothing after the deadline.
 * The first error stops new starts and is thrown once the others drain.
 */
export async function pipelined(
  clients: ZooKeeper[],
  count: number,
  inFlight: number,
  deadlineMs: number,
  op: (zk: ZooKeeper, i: number) => Promise<unknown>,
): Promise<{ done: number; elapsedMs: number }> {
  const t0 = performance.now();
  const end = t0 + deadlineMs;
  let next = 0;
  let done = 0;
  let failure: unknown;
  const lane = async (laneNo: number) => {
    const zk = clients[laneNo % clients.length];
    while (next < count && failure === undefined && performance.now() < end) {
      const i = next++;
      try {
        await op(zk, i);
        done++;
      } catch (err) {
        failure ??= err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, count) }, (_, k) => lane(k)));
  if (failure !== undefined) throw failure;
  return { done, elapsedMs: performance.now() - t0 };
}

async function createIfAbsent(zk: ZooKeeper, p: string, data: Buffer): Promise<void> {
  try {
    await zk.create(p, data);
  } catch (err) {
    if ((err as { code?: number }).code !== NODE_EXISTS) throw err;
  }
}

/**
 * The big tree: /scale, its parents, then `n` leaves with `data`, created
 * pipelined over `clients`. Returns the leaves' create rate.
 */
export async function fillTree(clients: ZooKeeper[], n: number, data: Buffer, inFlight: number, deadlineMs: number): Promise<{ created: number; elapsedMs: number; perSec: number }> {
  await createIfAbsent(clients[0], TREE_ROOT, Buffer.alloc(0));
  const parents = Math.ceil(n / FANOUT);
  await pipelined(clients, parents, Math.min(inFlight, 100), deadlineMs, (zk, i) => createIfAbsent(zk, `${TREE_ROOT}/p${i}`, Buffer.alloc(0)));
  const r = await pipelined(clients, n, inFlight, deadlineMs, (zk, i) => zk.create(nodePath(i), data));
  if (r.done < n) throw new Error(`created only ${r.done} of ${n} znodes within ${deadlineMs} ms`);
  return { created: r.done, elapsedMs: r.elapsedMs, perSec: r.done / (r.elapsedMs / 1000) };
}

/** One sequential request: when it was sent and answered (performance.now()), and the zxid its reply carried. */
export interface TimedSample {
  t0: number;
  t1: number;
  zxid: bigint;
}

/** Sequential setData of `path` (next after the reply), `count` times or until the deadline. */
export async function sequentialSets(zk: ZooKeeper, path: string, data: Buffer, count: number, deadlineMs: number): Promise<TimedSample[]> {
  const samples: TimedSample[] = [];
  const end = performance.now() + deadlineMs;
  for (let i = 0; i < count && performance.now() < end; i++) {
    const t0 = performance.now();
    const stat = await zk.setData(path, data, -1);
    samples.push({ t0, t1: performance.now(), zxid: stat.mzxid });
  }
  return samples;
}

/**
 * `w` data watches (exists with a watcher) on distinct (session, znode)
 * pairs: watch k is on znode j = k mod n, from session (j + r) mod
 * sessions where r = floor(k / n) is the round; so while w <= n every
 * znode carries at most one watch, and up to n x sessions no session
 * watches a znode twice (the server would count that as one). Pipelined,
 * 1000 in flight.
 */
export async function setWatches(sessions: ZooKeeper[], w: number, n: number, deadlineMs: number): Promise<{ elapsedMs: number }> {
  if (w > n * sessions.length) throw new Error(`${w} watches need at least ${Math.ceil(w / sessions.length)} znodes to stay distinct (have ${n})`);
  const noop = () => undefined;
  const r = await pipelined(sessions, w, 1000, deadlineMs, (_zk, k) => {
    const j = k % n;
    return sessions[(j + Math.floor(k / n)) % sessions.length].exists(nodePath(j), noop);
  });
  if (r.done < w) throw new Error(`set only ${r.done} of ${w} watches within ${deadlineMs} ms`);
  return r;
}

/** Herd delivery: ms from the setData being sent until the first, median and last watcher fired. */
export interface HerdResult {
  watchers: number;
  firstMs: number;
  medianMs: number;
  lastMs: number;
  /** The setData's own round trip (an fsynced write), for context. */
  writeMs: number;
}

/**
 * Every session watches `path` (exists), then `writer` sets its data once;
 * times each session's NodeDataChanged in this process.
 */
export async function herd(sessions: ZooKeeper[], writer: ZooKeeper, path: string, deadlineMs: number): Promise<HerdResult> {
  await createIfAbsent(writer, path, Buffer.from('0'));
  const arrivals: number[] = [];
  let t0 = 0;
  let allIn: () => void = () => undefined;
  const all = new Promise<void>((resolve) => (allIn = resolve));
  const watcher = () => {
    arrivals.push(performance.now() - t0);
    if (arrivals.length === sessions.length) allIn();
  };
  const r = await pipelined(sessions, sessions.length, 500, deadlineMs, (_zk, k) => sessions[k].exists(path, watcher));
  if (r.done < sessions.length) throw new Error(`only ${r.done} of ${sessions.length} herd watches set`);
  // Let the registrations' replies (and the process) settle before the one write.
  await new Promise((res) => setTimeout(res, 500));
  t0 = performance.now();
  await writer.setData(path, Buffer.from('1'), -1);
  const writeMs = performance.now() - t0;
  await withTimeout(all, deadlineMs, `herd of ${sessions.length}: ${arrivals.length} events arrived`);
  arrivals.sort((a, b) => a - b);
  return { watchers: arrivals.length, firstMs: arrivals[0], medianMs: arrivals[arrivals.length >> 1], lastMs: arrivals[arrivals.length - 1], writeMs };
}
