/**
 * A server under fuzz: our server (or Apache, as the control) in its own
 * process, with a sentinel client connected before the attack that must keep
 * writing and reading, and the checks every fuzz test makes after a run (the
 * process lives, the sentinel is served, a connection we end is closed by
 * the server too).
 */
import * as fs from 'fs';
import { randomBytes } from 'crypto';
import { Cluster, ClusterOptions, fourLetterWord, startApache, startOurs, TargetKind } from '../harness';
import { ZooKeeper } from '../../src';
import { RawConnection } from './raw-wire';

export const STEP_TIMEOUT_MS = 5000;

export function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(t)),
    new Promise<T>((_, reject) => {
      t = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]);
}

export async function mntr(port: number): Promise<Map<string, string>> {
  const out = await fourLetterWord('127.0.0.1', port, 'mntr', 3000);
  return new Map(out.split('\n').filter(Boolean).map((l) => l.split('\t') as [string, string]));
}

export function rssKb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

/** What the fuzz runs provoked, so a run that never reaches the server's parser does not pass unnoticed. */
export interface Provoked {
  replies: number;
  errorReplies: number;
  closedByServer: number;
  closedAfterEof: number;
}

export class FuzzTarget {
  readonly provoked: Provoked = { replies: 0, errorReplies: 0, closedByServer: 0, closedAfterEof: 0 };
  private sentinelWrites = 0;
  private readonly sentinelPath = `/fuzz-sentinel-${randomBytes(3).toString('hex')}`;

  private constructor(
    readonly kind: TargetKind,
    readonly cluster: Cluster,
    readonly sentinel: ZooKeeper,
    /** Printed with every failure: how to reproduce it. */
    private readonly reproduce: string,
  ) {}

  static async start(kind: TargetKind, opts: ClusterOptions, reproduce: string): Promise<FuzzTarget> {
    const cluster = kind === 'ours' ? await startOurs(opts) : await startApache(opts);
    const sentinel = new ZooKeeper(cluster.connectString, { sessionTimeout: 20_000 });
    sentinel.on('error', () => undefined);
    const t = new FuzzTarget(kind, cluster, sentinel, reproduce);
    try {
      await sentinel.connected();
      await sentinel.create(t.sentinelPath, Buffer.from('0'));
    } catch (err) {
      await t.stop();
      throw err;
    }
    return t;
  }

  get port(): number {
    return this.cluster.servers[0].clientPort;
  }

  get pid(): number {
    return this.cluster.servers[0].pid()!;
  }

  async stop(): Promise<void> {
    await this.sentinel.close().catch(() => undefined);
    await this.cluster.stop();
  }

  /** The server process is alive and the pre-fuzz client still writes and reads. */
  async assertServing(context: string): Promise<void> {
    if (!this.cluster.servers[0].running()) {
      throw new Error(`server process died (${context}); ${this.reproduce}\n${this.cluster.servers[0].logTail(60)}`);
    }
    const value = Buffer.from(String(++this.sentinelWrites));
    await withTimeout(this.sentinel.setData(this.sentinelPath, value), STEP_TIMEOUT_MS, `sentinel setData after ${context}`);
    const got = await withTimeout(this.sentinel.getData(this.sentinelPath), STEP_TIMEOUT_MS, `sentinel getData after ${context}`);
    if (!got.data?.equals(value)) throw new Error(`sentinel read ${got.data} after writing ${value} (${context})`);
  }

  /** Reads what the server answers; after our EOF the server must close its side too: no connection is left half-open. */
  async endAndExpectClose(conn: RawConnection, context: string): Promise<void> {
    // Let the server see and answer what was sent, without waiting for a quiet period.
    for (;;) {
      const f = await conn.nextFrame(30);
      if (!f) break;
      if (f.length >= 16) {
        this.provoked.replies++;
        if (f.readInt32BE(12) !== 0) this.provoked.errorReplies++;
      }
    }
    if (conn.isClosed) {
      this.provoked.closedByServer++;
      return;
    }
    conn.end();
    if (!(await conn.closesWithin(STEP_TIMEOUT_MS))) {
      conn.destroy();
      throw new Error(`server did not close the connection within ${STEP_TIMEOUT_MS} ms of our EOF (${context})`);
    }
    this.provoked.closedAfterEof++;
  }
}

/** Runs a property, with the way to reproduce a failure put first in its message. */
export async function reproducible(label: string, reproduce: string, run: () => Promise<void>): Promise<void> {
  try {
    await run();
  } catch (err) {
    (err as Error).message = `${label} failed; reproduce with ${reproduce}\n${(err as Error).message}`;
    throw err;
  }
}
