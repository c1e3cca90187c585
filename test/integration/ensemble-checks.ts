/**
 * Checks shared by the ensemble tests that run real member processes (ours,
 * Apache's, or both in one quorum): a member's zxid, bulk writes and their
 * read-back on one member's own port, the sync mode a rejoining member got
 * (read in the members' logs), and whether a txn reached a member's log.
 */
import * as fs from 'fs';
import * as path from 'path';
import { ErrorCode, KeeperError, ZooKeeper } from '../../src';
import { ServerHandle, fourLetterWord } from '../harness';
import { Clients } from './client-fixtures';

/** `srvr`'s Zxid line as a bigint (undefined when not serving). */
export async function srvrZxid(s: ServerHandle): Promise<bigint | undefined> {
  const m = /^Zxid: (0x[0-9a-f]+)/m.exec(await fourLetterWord('127.0.0.1', s.clientPort, 'srvr', 2000));
  return m ? BigInt(m[1]) : undefined;
}


/** Creates `${base}/n<i>` = `v<i>` for i in [from, to), `window` at a time. */
export async function createMany(zk: ZooKeeper, base: string, from: number, to: number, window = 50): Promise<void> {
  for (let i = from; i < to; i += window) {
    const batch: Promise<unknown>[] = [];
    for (let j = i; j < Math.min(to, i + window); j++) batch.push(zk.create(`${base}/n${j}`, Buffer.from(`v${j}`)));
    await Promise.all(batch);
  }
}

/** Asks `s` on its own client port, after a sync, for every `${base}/n<i>`; returns what is missing or wrong. */
export async function checkMember(clients: Clients, s: ServerHandle, base: string, count: number): Promise<{ server: number; children: number; bad: string[] }> {
  const zk = await clients.connect(s.hostPort, { connectTimeout: 30_000 });
  await zk.sync(base);
  const children = (await zk.getChildren(base)).length;
  const bad: string[] = [];
  for (let i = 0; i < count; i += 100) {
    const got = await Promise.all(
      Array.from({ length: Math.min(100, count - i) }, (_, k) =>
        zk.getData(`${base}/n${i + k}`).then((r) => r.data?.toString(), (e: Error) => `error ${e.message}`)),
    );
    got.forEach((v, k) => {
      if (v !== `v${i + k}`) bad.push(`n${i + k}=${v}`);
    });
  }
  await zk.close();
  return { server: s.id, children, bad: bad.slice(0, 10) };
}


/** The member's own log: server.log for ours, log4j's zookeeper.log for Apache. */
function logFile(kind: string, s: ServerHandle): string {
  return path.join(s.dir, kind === 'ours' ? 'server.log' : 'zookeeper.log');
}

/** What the member logged after `offset` bytes of its log. */
function logSince(kind: string, s: ServerHandle, offset: number): string {
  return fs.readFileSync(logFile(kind, s)).subarray(offset).toString('utf8');
}

function logSize(kind: string, s: ServerHandle): number {
  return fs.statSync(logFile(kind, s)).size;
}

/**
 * How the leader synced `learner` after it rejoined, as "syncing learner
 * <sid> with DIFF|TRUNC|SNAP 0x<zxid>". Our leader logs exactly that line.
 * Apache logs TRUNC on the leader only at DEBUG, so with an Apache leader the
 * learner's own lines are read and put in the same form: Apache's learner
 * logs "Getting a diff from the leader 0x..", "Getting a snapshot from
 * leader 0x..", "Truncating log to get in sync with the leader 0x..", ours
 * "synced by leader <sid> with DIFF|TRUNC|SNAP 0x..". Each member's kind is
 * given, so one watch reads a mixed ensemble too.
 */
export class SyncWatch {
  private readonly leaderAt: number;
  private readonly learnerAt: number;

  constructor(
    private readonly leaderKind: string,
    private readonly leader: ServerHandle,
    private readonly learnerKind: string,
    private readonly learner: ServerHandle,
  ) {
    this.leaderAt = logSize(leaderKind, leader);
    this.learnerAt = fs.existsSync(logFile(learnerKind, learner)) ? logSize(learnerKind, learner) : 0;
  }

  lines(): string[] {
    const out: string[] = [];
    if (this.leaderKind === 'ours') {
      for (const l of logSince(this.leaderKind, this.leader, this.leaderAt).split('\n')) {
        const m = new RegExp(`syncing learner ${this.learner.id} with (DIFF|TRUNC|SNAP) 0x[0-9a-f]+`).exec(l);
        if (m) out.push(m[0]);
      }
      return out;
    }
    const modes: Array<[RegExp, string]> = this.learnerKind === 'ours'
      ? [[/synced by leader \d+ with DIFF 0x([0-9a-f]+)/, 'DIFF'], [/synced by leader \d+ with SNAP 0x([0-9a-f]+)/, 'SNAP'], [/synced by leader \d+ with TRUNC 0x([0-9a-f]+)/, 'TRUNC']]
      : [
        [/Getting a diff from the leader 0x([0-9a-f]+)/, 'DIFF'],
        [/Getting a snapshot from leader 0x([0-9a-f]+)/, 'SNAP'],
        [/Truncating log to get in sync with the leader 0x([0-9a-f]+)/, 'TRUNC'],
      ];
    for (const l of logSince(this.learnerKind, this.learner, this.learnerAt).split('\n')) {
      for (const [re, mode] of modes) {
        const m = re.exec(l);
        if (m) out.push(`syncing learner ${this.learner.id} with ${mode} 0x${m[1]}`);
      }
    }
    return out;
  }
}

/** True when some txn log file in `dataDir/version-2` contains `needle`. */
export function txnLogHas(dataDir: string, needle: string): boolean {
  const dir = path.join(dataDir, 'version-2');
  let names: string[];
  try {
    names = fs.readdirSync(dir).filter((n) => n.startsWith('log.'));
  } catch {
    return false;
  }
  return names.some((n) => fs.readFileSync(path.join(dir, n)).includes(Buffer.from(needle)));
}


/**
 * Creates `${dir}/n<i>` from `loops` concurrent loops until stopped (or
 * `max` creates, or `maxMs`), recording which were acknowledged. A create
 * that fails with ConnectionLoss, SessionMoved or OperationTimeout has an
 * unknown outcome (a server died under it): counted, not recorded, so
 * never checked. Any other error fails the run.
 */
export class AckedWriter {
  readonly acked: number[] = [];
  unknown = 0;
  /** What ended a loop with an unexpected error (also thrown by stop()). */
  error: unknown;
  private stopped = false;
  private next = 0;
  private readonly done: Promise<unknown>;

  constructor(zk: ZooKeeper, dir: string, opts: { loops: number; max: number; maxMs: number; pauseMs?: number }) {
    const deadline = Date.now() + opts.maxMs;
    const loop = async (): Promise<void> => {
      while (!this.stopped && this.next < opts.max && Date.now() < deadline) {
        const i = this.next++;
        try {
          await zk.create(`${dir}/n${i}`, Buffer.from(`v${i}`));
          this.acked.push(i);
        } catch (err) {
          if (!(err instanceof KeeperError) || !([ErrorCode.CONNECTIONLOSS, ErrorCode.SESSIONMOVED, ErrorCode.OPERATIONTIMEOUT] as number[]).includes(err.code)) throw err;
          this.unknown++;
          // No server to talk to for a moment: do not burn through the create budget meanwhile.
          await new Promise((r) => setTimeout(r, 20));
        }
        if (opts.pauseMs) await new Promise((r) => setTimeout(r, opts.pauseMs));
      }
    };
    // A test that fails before stop() closes the handle under the loops: that error must not surface as
    // an unhandled rejection (jest would then fail the whole file), only from stop().
    this.done = Promise.all(Array.from({ length: opts.loops }, loop)).then(
      () => undefined,
      (err: unknown) => {
        this.error = err;
        return err;
      },
    );
  }

  /** Stops the loops; resolves once the last create in flight settled (rejects if a loop failed). */
  async stop(): Promise<void> {
    this.stopped = true;
    const err = await this.done;
    if (err !== undefined) throw err;
  }

  /**
   * The acknowledged indexes `children` (names under the dir) lacks, the
   * first 10; only among the first `upTo` acknowledged (those acknowledged
   * before the children were read, while the loops still run).
   */
  lostFrom(children: Iterable<string>, upTo = this.acked.length): number[] {
    const have = new Set(children);
    return this.acked.slice(0, upTo).filter((i) => !have.has(`n${i}`)).slice(0, 10);
  }
}
