/**
 * Lock hand-off benchmark (npm run bench:recipes): n contenders (one
 * session each) loop acquire/release on one lock path; hand-off latency is
 * the time from one holder starting its release to the next holder's
 * acquire resolving. Ours (Mutex), kazoo's Lock and Curator 5.4's
 * InterProcessMutex run against the same server in one run, with 2, 10 and
 * 50 contenders; the table gives ratios against the faster peer.
 *
 * Env: BENCH_TARGET=ours|apache (default ours), BENCH_TOTAL (acquisitions
 * per cell, default 300), BENCH_MAX_MS (per cell, default 8000),
 * BENCH_SIZES (default 2,10,50), BENCH_HOLD_MS (how long each holder keeps
 * the lock before releasing it, the same for all three; default 0). With a
 * hold of zero a holder re-queues the moment it lets go, so the faster a
 * loop is, the more of its hand-offs wait for its own re-create's fsync; a
 * hold of a few ms, as real critical sections have, leaves the next waiter
 * queued at every release and times the hand-off alone.
 *
 * BENCH_ROUNDS (default 3): each size runs that many rounds, the three peers
 * in a rotating order, and the table gives each figure's median over the
 * rounds. Before the first cell an untimed warm-up (BENCH_WARMUP hand-offs,
 * default 1000, 10 contenders of ours on another path) runs, so that no peer
 * pays for a cold server (a JVM still compiling its request path: without
 * it, whoever runs first sees Apache's p99 at twice its warm value).
 * BENCH_FORCE_SYNC (default yes): the server fsyncs its txn log, as in every
 * other benchmark here; `no` leaves the disk out.
 */
import { execFile } from 'child_process';
import * as path from 'path';
import { ZooKeeper } from '../src';
import { Mutex } from '../recipes';
import { startTarget } from '../test/harness';
import { median } from './lib/stats';
import type { TargetKind } from '../test/harness';
import { cleanupCurator, compileCurator, curatorAvailable } from '../test/interop/curator/curator-runner';
import { kazooAvailable, SYSTEM_PYTHON } from '../test/interop/kazoo-runner';
import { execFileSync } from 'child_process';

interface Cell {
  acquisitions: number;
  seconds: number;
  p50: number;
  p99: number;
}

const TOTAL = Number(process.env.BENCH_TOTAL ?? 300);
const MAX_MS = Number(process.env.BENCH_MAX_MS ?? 8000);
const SIZES = (process.env.BENCH_SIZES ?? '2,10,50').split(',').map(Number);
const HOLD_MS = Number(process.env.BENCH_HOLD_MS ?? 0);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 1000);
const FORCE_SYNC = (process.env.BENCH_FORCE_SYNC ?? 'yes') !== 'no';
for (const [name, v, min] of [['BENCH_HOLD_MS', HOLD_MS, 0], ['BENCH_ROUNDS', ROUNDS, 1], ['BENCH_WARMUP', WARMUP, 0]] as const) {
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be a whole number >= ${min}, not ${process.env[name]}`);
}
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function ours(connect: string, lockPath: string, n: number, total = TOTAL): Promise<Cell> {
  const zks = await Promise.all(Array.from({ length: n }, async () => {
    const zk = new ZooKeeper(connect, { sessionTimeout: 30_000 });
    await zk.connected();
    return zk;
  }));
  let count = 0;
  let last: bigint | null = null;
  const lat: number[] = [];
  const start = process.hrtime.bigint();
  const end = Date.now() + MAX_MS;
  await Promise.all(
    zks.map(async (zk) => {
      const m = new Mutex(zk, lockPath);
      while (count < total && Date.now() < end) {
        const hold = await m.tryAcquire({ timeout: 10_000 });
        if (hold === null) continue;
        const now = process.hrtime.bigint();
        if (last !== null) lat.push(Number(now - last) / 1e6);
        count++;
        if (HOLD_MS > 0) await sleep(HOLD_MS);
        last = process.hrtime.bigint();
        await hold.release();
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  await Promise.all(zks.map((zk) => zk.close()));
  lat.sort((a, b) => a - b);
  return { acquisitions: count, seconds, p50: lat[Math.floor(lat.length / 2)] ?? 0, p99: lat[Math.min(lat.length - 1, Math.floor(lat.length * 0.99))] ?? 0 };
}

/** Each figure's median over the rounds (bench/lib/stats.ts); throughput as one second at the median rate. */
function medianCell(cells: Cell[]): Cell | null {
  if (cells.length === 0) return null;
  return { acquisitions: median(cells.map((c) => c.acquisitions / c.seconds)), seconds: 1, p50: median(cells.map((c) => c.p50)), p99: median(cells.map((c) => c.p99)) };
}

function external(cmd: string, args: string[]): Promise<Cell> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { timeout: MAX_MS + 120_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const line = stdout.trim().split('\n').pop() ?? '';
      try {
        resolve(JSON.parse(line) as Cell);
      } catch {
        reject(new Error(`${cmd} failed: ${err?.message}\n${stdout}\n${stderr.slice(-2000)}`));
      }
    });
  });
}

function curatorClasspath(dir: string): string {
  const jars = ['curator-client', 'curator-framework', 'curator-recipes', 'zookeeper', 'zookeeper-jute', 'guava', 'failureaccess', 'slf4j-api', 'slf4j-nop'];
  return [dir, ...jars.map((j) => `/usr/share/java/${j}.jar`)].join(':');
}

async function main(): Promise<void> {
  const kind = (process.env.BENCH_TARGET ?? 'ours') as TargetKind;
  const cluster = await startTarget(kind, { tickTime: 2000, forceSync: FORCE_SYNC });
  const haveCurator = curatorAvailable();
  const haveKazoo = kazooAvailable();
  let curatorDir = '';
  if (haveCurator) {
    curatorDir = compileCurator();
    execFileSync('javac', ['-d', curatorDir, '-cp', curatorClasspath(curatorDir), path.join(__dirname, '..', 'test', 'interop', 'curator', 'CuratorLockBench.java')]);
  }
  const rows: string[] = [];
  type Peer = 'ours' | 'kazoo' | 'curator';
  const peers: Peer[] = ['ours', ...(haveKazoo ? (['kazoo'] as const) : []), ...(haveCurator ? (['curator'] as const) : [])];
  const run = (peer: Peer, n: number, round: number): Promise<Cell> => {
    const lockPath = `/bench-${peer}-${n}-r${round}`;
    if (peer === 'ours') return ours(cluster.connectString, lockPath, n);
    if (peer === 'kazoo') {
      return external(SYSTEM_PYTHON, [path.join(__dirname, '..', 'test', 'recipes', 'support', 'kazoo-lock-bench.py'), cluster.connectString, lockPath, String(n), String(TOTAL), String(MAX_MS), String(HOLD_MS)]);
    }
    return external('java', ['-XX:+UseSerialGC', '-cp', curatorClasspath(curatorDir), 'CuratorLockBench', cluster.connectString, lockPath, String(n), String(TOTAL), String(MAX_MS), String(HOLD_MS)]);
  };
  try {
    if (WARMUP > 0) await ours(cluster.connectString, '/bench-warmup', 10, WARMUP);
    let order = 0;
    for (const n of SIZES) {
      const byPeer = new Map<Peer, Cell[]>(peers.map((p) => [p, []]));
      for (let round = 0; round < ROUNDS; round++) {
        // Rotate who goes first, so no peer always meets the server in the same state.
        for (let i = 0; i < peers.length; i++) {
          const peer = peers[(order + i) % peers.length];
          const cell = await run(peer, n, round);
          byPeer.get(peer)!.push(cell);
          console.error(`n=${n} round ${round + 1}/${ROUNDS} ${peer}: ${JSON.stringify(cell)}`);
        }
        order++;
      }
      const cells: Record<Peer, Cell | null> = { ours: medianCell(byPeer.get('ours')!), kazoo: medianCell(byPeer.get('kazoo') ?? []), curator: medianCell(byPeer.get('curator') ?? []) };
      const tput = (c: Cell | null): number => (c === null ? NaN : c.acquisitions / c.seconds);
      const others = [cells.kazoo, cells.curator].filter((c): c is Cell => c !== null);
      const bestPeerTput = Math.max(...others.map(tput));
      const bestPeerP50 = Math.min(...others.map((c) => c.p50));
      const bestPeerP99 = Math.min(...others.map((c) => c.p99));
      const fmt = (c: Cell | null): string => (c === null ? 'n/a | n/a | n/a' : `${tput(c).toFixed(0)} | ${c.p50.toFixed(2)} | ${c.p99.toFixed(2)}`);
      const mine = cells.ours!;
      rows.push(`| ${n} | ${fmt(mine)} | ${fmt(cells.kazoo)} | ${fmt(cells.curator)} | ${(tput(mine) / bestPeerTput).toFixed(2)}x | ${(bestPeerP50 / mine.p50).toFixed(2)}x | ${(bestPeerP99 / mine.p99).toFixed(2)}x |`);
    }
  } finally {
    await cluster.stop();
    cleanupCurator();
  }
  console.log(
    `Lock hand-off on ${kind} (forceSync ${FORCE_SYNC ? 'yes' : 'no'}; acquisitions per cell <= ${TOTAL}, <= ${MAX_MS} ms, hold ${HOLD_MS} ms; ` +
      `median of ${ROUNDS} rounds in rotating order after ${WARMUP} warm-up hand-offs); throughput in hand-offs/s, latency in ms`,
  );
  console.log('| contenders | ours tput | ours p50 | ours p99 | kazoo tput | kazoo p50 | kazoo p99 | Curator tput | Curator p50 | Curator p99 | ours / faster peer tput | faster peer p50 / ours p50 | faster peer p99 / ours p99 |');
  console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(r);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
