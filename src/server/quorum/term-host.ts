/**
 * What a leader's and a learner's term have in common, live: the options a
 * quorum peer hands either role, the queue that runs a machine's effects
 * one at a time in order, the tick timer, the end of the term (once), and
 * the txns made durable but maybe not applied yet (what the tree is
 * fast-forwarded with when the term ends).
 */
import type { FileTxnStore } from '../persist/file-store';
import type { TxnEntry } from '../persist/types';
import type { ZooKeeperServer } from '../zookeeper-server';
import type { QuorumVerifier } from './quorum-verifier';
import type { RecentLog } from './recent-log';

/** What the hosts report durable, so that the next vote claims only what is on disk. */
export interface DurableReport {
  lastLoggedZxid?: bigint;
  acceptedEpoch?: bigint;
  currentEpoch?: bigint;
}

export interface TermHostOptions {
  myId: bigint;
  server: ZooKeeperServer;
  store: FileTxnStore;
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  /** The epoch files and the last logged zxid as they are on disk when the term starts. */
  acceptedEpoch: bigint;
  currentEpoch: bigint;
  lastLoggedZxid: bigint;
  /** The member's newest logged txns (DIFFs are served from them): every append extends them. */
  recent: RecentLog;
  /** Told after each durable append, truncation and epoch write. */
  onDurable: (d: DurableReport) => void;
  /** The term serves clients in `epoch` (the election's vote is updated with it, ZOOKEEPER-1732). */
  onServing: (epoch: bigint) => void;
  /** zoo.cfg reconfigEnabled (see ZabLeaderOptions.reconfigEnabled). */
  reconfigEnabled?: boolean;
  /** The config in force and the newest one seen, when the term starts. */
  verifier?: QuorumVerifier;
  lastSeenVerifier?: QuorumVerifier;
  /** A config was proposed (`lastSeen`) or is in force from now (`activate`): the peer keeps it, on disk too. */
  onConfig?: (c: { kind: 'lastSeen' | 'activate'; verifier: QuorumVerifier; designatedLeader?: bigint }) => void;
  log: (msg: string) => void;
  now?: () => number;
}

export abstract class TermHost<E> {
  /** Resolves with the reason once the term is over. */
  readonly finished: Promise<string>;
  protected queue: E[] = [];
  protected ended = false;
  /** Disk writes started and not yet settled (a leader's own appends are not awaited in the queue). */
  protected readonly pendingIo = new Set<Promise<unknown>>();
  protected readonly now: () => number;
  private running = false;
  private drained: Promise<void> = Promise.resolve();
  private endResolve!: (reason: string) => void;
  private timer?: NodeJS.Timeout;
  /** Txns on disk and maybe not applied yet, oldest first. */
  private durable: TxnEntry[] = [];

  constructor(protected readonly base: TermHostOptions) {
    this.now = base.now ?? Date.now;
    this.finished = new Promise((r) => (this.endResolve = r));
  }

  /** Ends the term from outside (closing, or another role is starting). */
  abstract stop(reason: string): void;

  /** Ends the term with `reason` (the first call counts); returns the reason. */
  protected abstract end(reason: string): string;

  /** Runs the queued effects, in order, until the queue is empty or the term ended. */
  protected abstract runQueue(): Promise<void>;

  /** Resolves once no effect runs any more and every started disk write has settled (after the term ended). */
  async settled(): Promise<void> {
    while (this.running || this.pendingIo.size > 0) {
      await Promise.allSettled([this.drained, ...this.pendingIo]);
    }
  }

  protected enqueue(effects: E[]): void {
    if (effects.length === 0) return;
    this.queue.push(...effects);
    if (!this.running) this.drained = this.drain();
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      await this.runQueue();
    } catch (err) {
      this.end(`term failed: ${(err as Error).message}`);
    } finally {
      this.running = false;
    }
  }

  /** When the machine's tick is due (Infinity: none). */
  protected abstract nextTickAt(now: number): number;

  /** The machine's tick. */
  protected abstract tickMachine(now: number): E[];

  /** Arms the timer for the machine's next tick (call after every input). */
  protected schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const now = this.now();
    const at = this.nextTickAt(now);
    if (this.ended || !Number.isFinite(at)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.enqueue(this.tickMachine(this.now()));
      this.schedule();
    }, Math.max(1, at - now));
    this.timer.unref();
  }

  /** Marks the term over: no more effects or ticks; false when it already was. */
  protected finish(reason: string): boolean {
    if (this.ended) return false;
    this.ended = true;
    if (this.timer) clearTimeout(this.timer);
    this.queue = [];
    this.endResolve(reason);
    return true;
  }

  /** Txns just made durable: the recent log grows, and they wait to be applied. */
  protected noteDurable(entries: readonly TxnEntry[]): void {
    this.base.recent.append(entries);
    const last = this.base.server.tree.lastProcessedZxid;
    // Only what may still be unapplied is kept; applies follow logs closely, so this stays short.
    this.durable = this.durable.filter((t) => t.header.zxid > last);
    this.durable.push(...entries);
  }

  /** The durable txns the tree has not applied, for the fast-forward after the term. */
  protected durableUnapplied(): TxnEntry[] {
    const last = this.base.server.tree.lastProcessedZxid;
    return this.durable.filter((t) => t.header.zxid > last);
  }
}
