/**
 * Failover measurement for a 3-voter ensemble: a client connected to all
 * members writes in a loop, one setData at a time; the leader is killed with
 * SIGKILL; we time (a) the first write issued after the kill that succeeds,
 * and (b) the first `srvr` on a survivor that answers `Mode: leader`. Then the
 * killed member is restarted, the ensemble waited healthy, and every member's
 * copy of the written node checked against what the writer was told
 * (a write acknowledged before the kill must never be lost).
 *
 * The writer is our client (zookeeper-ts) for both servers, in this process:
 * failover times are milliseconds, far above what the orchestrator's event
 * loop adds. Its reconnect back-off (host-provider.ts: 50-100 ms after a
 * failed pass over the hosts, doubling up to 1 s) is part of (a) for both
 * servers alike; (b) has none.
 */
import { performance } from 'perf_hooks';
import { ZooKeeper } from '../../src';
import type { Cluster, ServerHandle } from '../../test/harness/cluster-types';
import { serverMode } from '../../test/harness/four-letter-words';

const PAYLOAD_BYTES = 128;
/** srvr poll period on the survivors: the resolution of the new-leader time. */
const POLL_MS = 10;
const SRVR_TIMEOUT_MS = 500;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function encode(n: number): Buffer {
  return Buffer.from(String(n).padStart(PAYLOAD_BYTES, '0'), 'ascii');
}

function decode(data: Buffer | null): number {
  return data ? Number(data.toString('ascii')) : NaN;
}

/** Rejects after `ms` with `what`, or settles with `p`. */
function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * One writer session on an ensemble: start() runs the loop (each write waits
 * for the previous one's reply), stop() ends it. Every write carries its
 * sequence number, so the node's value says which writes landed.
 */
export class FailoverWriter {
  /** Sequence number of the last write issued (1-based). */
  issued = 0;
  /** Sequence number of the last write whose success was reported to us. */
  lastAcked = 0;
  okCount = 0;
  private running = false;
  private generation = 0;
  private loop?: Promise<void>;
  private watchFrom?: number;
  private onOkAfter?: (doneAt: number) => void;
  private failedSinceWatch = 0;
  private readonly errors = new Map<string, number>();

  private constructor(private readonly zk: ZooKeeper, readonly path: string) {}

  static async open(cluster: Cluster, label: string, sessionTimeoutMs: number, connectTimeoutMs: number): Promise<FailoverWriter> {
    const zk = new ZooKeeper(cluster.connectString, { sessionTimeout: sessionTimeoutMs });
    try {
      await within(zk.connected(), connectTimeoutMs, `failover writer: connect to ${cluster.connectString}`);
      const p = `/zkbench-failover-${label}-${process.pid}`;
      try {
        await zk.create(p, encode(0));
      } catch (err) {
        if ((err as { code?: number }).code !== -110) throw err;
        await zk.setData(p, encode(0), -1);
      }
      return new FailoverWriter(zk, p);
    } catch (err) {
      await zk.close().catch(() => undefined);
      throw err;
    }
  }

  /** The member port the session is connected to right now (undefined while disconnected). */
  currentPort(): number | undefined {
    return this.zk.currentHost?.port;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    // A loop that stop() gave up waiting for ends at its next turn instead of running beside this one.
    const gen = ++this.generation;
    this.loop = (async () => {
      while (this.running && gen === this.generation) {
        const n = ++this.issued;
        const issuedAt = performance.now();
        try {
          await this.zk.setData(this.path, encode(n), -1);
          const doneAt = performance.now();
          this.lastAcked = n;
          this.okCount++;
          if (this.watchFrom !== undefined && issuedAt >= this.watchFrom && this.onOkAfter) {
            const cb = this.onOkAfter;
            this.onOkAfter = undefined;
            cb(doneAt);
          }
        } catch (err) {
          const name = (err as Error).name || 'Error';
          this.errors.set(name, (this.errors.get(name) ?? 0) + 1);
          if (this.watchFrom !== undefined) this.failedSinceWatch++;
          // Our client makes a call wait for a connection, so failures do not come back to back;
          // this pause only keeps an unexpected instant failure from spinning the loop.
          await sleep(1);
        }
      }
    })();
  }

  /** Waits until `count` more writes have succeeded (bounded by `timeoutMs`). */
  async waitForSuccesses(count: number, timeoutMs: number): Promise<void> {
    const target = this.okCount + count;
    const deadline = Date.now() + timeoutMs;
    while (this.okCount < target) {
      if (Date.now() > deadline) throw new Error(`failover writer: ${this.okCount - target + count} of ${count} writes succeeded within ${timeoutMs} ms (${this.errorSummary()})`);
      await sleep(5);
    }
  }

  /** Resolves with the completion time of the first successful write issued at or after `t`. */
  firstSuccessIssuedAfter(t: number): Promise<number> {
    this.watchFrom = t;
    this.failedSinceWatch = 0;
    return new Promise((resolve) => {
      this.onOkAfter = resolve;
    });
  }

  /** Writes that failed since the last firstSuccessIssuedAfter(). */
  failedSinceKill(): number {
    return this.failedSinceWatch;
  }

  errorSummary(): string {
    return [...this.errors.entries()].map(([k, v]) => `${k} x${v}`).join(', ') || 'no errors';
  }

  /** Ends the loop after the write in flight; gives up waiting for it after `timeoutMs`. */
  async stop(timeoutMs: number): Promise<void> {
    this.running = false;
    this.watchFrom = undefined;
    this.onOkAfter = undefined;
    if (this.loop) await within(this.loop, timeoutMs, 'failover writer: the write in flight at stop').catch(() => undefined);
    this.loop = undefined;
  }

  async close(): Promise<void> {
    await this.stop(5000);
    await within(this.zk.close(), 5000, 'failover writer: close').catch(() => undefined);
  }
}

/** Polls srvr on `survivors` every POLL_MS until one says leader; resolves with that time and member. */
export function firstLeaderAmong(
  survivors: readonly ServerHandle[],
  cancelled: () => boolean,
): Promise<{ at: number; id: number } | undefined> {
  return (async () => {
    while (!cancelled()) {
      const tick = sleep(POLL_MS);
      const modes = await Promise.all(
        survivors.map((s) => serverMode('127.0.0.1', s.clientPort, SRVR_TIMEOUT_MS).catch(() => undefined)),
      );
      const at = performance.now();
      const i = modes.indexOf('leader');
      if (i >= 0) return { at, id: survivors[i].id };
      await tick;
    }
    return undefined;
  })();
}

/**
 * Each member's value of the writer's node (after a sync through that
 * member), compared with what the writer knows: every member must agree, the
 * value must be at least the last acknowledged write (else an acknowledged
 * write was lost) and at most the last one issued. Returns the problems found.
 */
export async function checkWrites(cluster: Cluster, writer: FailoverWriter, timeoutMs: number): Promise<string[]> {
  const problems: string[] = [];
  const values: string[] = [];
  for (const s of cluster.servers) {
    const zk = new ZooKeeper(s.hostPort, { sessionTimeout: 10_000 });
    try {
      await within(zk.connected(), timeoutMs, `check: connect to member ${s.id}`);
      await within(zk.sync(writer.path), timeoutMs, `check: sync on member ${s.id}`);
      const { data } = await within(zk.getData(writer.path), timeoutMs, `check: getData on member ${s.id}`);
      const v = decode(data);
      values.push(`member ${s.id}: ${v}`);
      if (!(v >= writer.lastAcked)) problems.push(`member ${s.id} has write ${v}, but write ${writer.lastAcked} was acknowledged: an acknowledged write was lost`);
      if (!(v <= writer.issued)) problems.push(`member ${s.id} has write ${v}, beyond the last one issued (${writer.issued})`);
    } catch (err) {
      problems.push(`member ${s.id}: ${(err as Error).message}`);
    } finally {
      await within(zk.close(), 5000, 'check: close').catch(() => undefined);
    }
  }
  const distinct = new Set(values.map((v) => v.split(': ')[1]));
  if (distinct.size > 1) problems.push(`members disagree after sync: ${values.join(', ')}`);
  return problems;
}
