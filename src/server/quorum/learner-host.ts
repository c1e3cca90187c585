/**
 * A follower's or observer's term, live: the ZabLearner state machine on a
 * TCP connection to the leader's quorum port, its effects executed against
 * the server (tree, sessions, store) strictly in order, one at a time.
 *
 * The serial effect queue is the learner's durability contract (see
 * zab-learner.ts): a send after a persist leaves only once the persist is
 * durable. Consecutive `log` effects are merged into one append (one
 * fsync), then their ACKs go out.
 *
 * Client work: the server forwards writes, session creates and syncs here
 * (WriteForwarder) as REQUESTs; revalidations go out as REVALIDATE and are
 * answered in order per session; SYNC from the leader completes the oldest
 * forwarded sync.
 */
import * as net from 'node:net';
import type { IdFields } from '../../proto';
import type { SnapSyncBody } from '../persist/snap-sync';
import type { TxnEntry } from '../persist/types';
import type { ForwardedRequest, WriteForwarder } from '../request/request-pipeline';
import type { LeaderSessionLink, LearnerSessionAuthority } from '../session/session-authority';
import { QuorumStreamDecoder, encodeQuorumPacket, type QuorumPacketData } from './quorum-wire';
import type { QuorumServer } from './quorum-verifier';
import { TermHost, type TermHostOptions } from './term-host';
import { LearnerEffect, RECONFIG_CHANGED_ROLE, ZabLearner } from './zab-learner';
import { hex } from './zab-messages';
import { fromLeaderPacket, requestPacket, revalidatePacket, toLeaderPacket } from './zab-packets';

export interface LearnerHostOptions extends TermHostOptions {
  leader: QuorumServer;
  observer: boolean;
}

export class LearnerHost extends TermHost<LearnerEffect> implements WriteForwarder, LeaderSessionLink {
  private readonly machine: ZabLearner;
  private socket?: net.Socket;
  /** A SNAP's nodes are built into a new tree as they arrive (see SnapSyncStreamReaderOptions.nodeSink). */
  private readonly decoder = new QuorumStreamDecoder({ nodeSink: (acls) => this.opts.server.tree.beginLoad(acls) });
  private readonly revalidations = new Map<bigint, Array<(valid: boolean) => void>>();
  /** True once the sync's NEWLEADER persists are done: from then on the tree never holds more than the disk. */
  private synced = false;
  /** The last zxid in our log (a COMMIT up to it can be applied without waiting for the queue). */
  private durableZxid: bigint;
  /** Applies and sync replies queued or waiting in a group commit: while any is, order keeps new ones queued. */
  private pendingOrdered = 0;
  private authority?: LearnerSessionAuthority;
  /** When the SNAP packet came (for the log line that says how long its snapshot took). */
  private snapStarted?: { at: number; cpu: NodeJS.CpuUsage };
  /** The SNAP the tree was loaded from this term, until its snapshot file is written. */
  private received?: { zxid: bigint; body: SnapSyncBody };

  constructor(private readonly opts: LearnerHostOptions) {
    super(opts);
    this.durableZxid = opts.lastLoggedZxid;
    this.machine = new ZabLearner({
      observer: opts.observer,
      tickTime: opts.tickTime,
      initLimit: opts.initLimit,
      syncLimit: opts.syncLimit,
      acceptedEpoch: opts.acceptedEpoch,
      currentEpoch: opts.currentEpoch,
      lastZxid: opts.lastLoggedZxid,
      configVersion: opts.verifier?.version ?? 0n,
      drainTouches: () => this.authority?.drainTouches() ?? [],
      reconfig: opts.reconfigEnabled && opts.verifier ? { myId: opts.myId, leaderId: opts.leader.sid, verifier: opts.verifier, lastSeen: opts.lastSeenVerifier } : undefined,
    });
  }

  /** Connects (retrying within initLimit ticks, as Learner.connectToLeader) and runs until the term ends. */
  async run(): Promise<string> {
    const deadline = this.now() + this.opts.initLimit * this.opts.tickTime;
    // The new leader opens its quorum port as it decides, about when we do: retry soon, then back off.
    let wait = 10;
    while (!this.ended) {
      try {
        this.socket = await connect(this.opts.leader.host, this.opts.leader.quorumPort, Math.max(1000, this.opts.tickTime * this.opts.syncLimit));
        break;
      } catch (e) {
        if (this.now() + wait > deadline) return this.end(`cannot connect to leader ${this.opts.leader.sid} at ${this.opts.leader.host}:${this.opts.leader.quorumPort}: ${(e as Error).message}`);
        await new Promise((r) => setTimeout(r, wait));
        wait = Math.min(1000, wait * 2);
      }
    }
    if (this.ended) return this.finished;
    const s = this.socket!;
    s.setNoDelay(true);
    s.on('data', (chunk: Buffer) => this.onData(chunk));
    s.on('error', (e) => this.end(`connection to leader failed: ${e.message}`));
    s.on('close', () => this.end('connection to leader closed'));
    this.enqueue(this.machine.start(this.now()));
    this.schedule();
    return this.finished;
  }

  /** Ends the term from outside (closing, or another role is starting). */
  stop(reason: string): void {
    this.enqueue(this.machine.abandon(reason));
  }

  /**
   * After the term: the txns to apply on top of the tree to match the disk
   * (logged, not applied), or null when the tree may hold what the disk
   * does not (the term ended during the sync) and the state must be read
   * from disk again.
   */
  fastForwardEntries(): TxnEntry[] | null {
    return this.synced ? this.durableUnapplied() : null;
  }

  // ---- WriteForwarder and LeaderSessionLink (the server calls these while we serve) ----

  forward(req: ForwardedRequest): void {
    this.write(requestPacket(req, req.authInfo.map((id) => ({ scheme: id.scheme, id: id.id }) as IdFields)));
  }

  revalidate(id: bigint, timeout: number): Promise<boolean> {
    if (this.ended) return Promise.resolve(false);
    return new Promise((resolve) => {
      const list = this.revalidations.get(id) ?? [];
      list.push(resolve);
      this.revalidations.set(id, list);
      this.write(revalidatePacket(id, timeout));
    });
  }

  // ---- input ----

  /** " (received and built in W ms, C ms of CPU)" since the SNAP packet, once. */
  private snapTook(): string {
    const start = this.snapStarted;
    this.snapStarted = undefined;
    if (!start) return '';
    const cpu = process.cpuUsage(start.cpu);
    return ` (received and built in ${(performance.now() - start.at).toFixed(0)} ms, ${((cpu.user + cpu.system) / 1000).toFixed(0)} ms of CPU)`;
  }

  private onData(chunk: Buffer): void {
    if (this.ended) return;
    try {
      for (const ev of this.decoder.push(chunk)) {
        if (ev.kind === 'snapshot') {
          this.opts.log(`synced by leader ${this.opts.leader.sid} with SNAP ${hex(ev.zxid)}${this.snapTook()}`);
          this.enqueue(this.machine.receive({ kind: 'snap', zxid: ev.zxid, snapshot: ev.snapshot }, this.now()));
          continue;
        }
        const m = fromLeaderPacket(ev.packet);
        if (m === null) continue; // Apache's learner skips packet types it does not expect
        // A SNAP packet is handed on with the snapshot that follows it (the 'snapshot' event).
        if (m.kind === 'snapPacket') {
          this.snapStarted = { at: performance.now(), cpu: process.cpuUsage() };
          continue;
        }
        if (m.kind === 'revalidateReply') this.onRevalidated(m.sessionId, m.valid);
        else {
          // How the leader syncs us, the learner's side of the leader's "syncing learner" line (Apache logs it here too).
          if (m.message.kind === 'diff' || m.message.kind === 'trunc') {
            this.opts.log(`synced by leader ${this.opts.leader.sid} with ${m.message.kind.toUpperCase()} ${hex(m.message.zxid)}`);
          }
          this.enqueue(this.machine.receive(m.message, this.now()));
        }
      }
    } catch (e) {
      this.enqueue(this.machine.abandon(`bad packet from leader: ${(e as Error).message}`));
    }
    this.schedule();
  }

  private onRevalidated(id: bigint, valid: boolean): void {
    const list = this.revalidations.get(id);
    const resolve = list?.shift();
    if (list && list.length === 0) this.revalidations.delete(id);
    resolve?.(valid);
  }

  /**
   * A COMMIT for a txn already in our log is applied at once, instead of
   * behind the fsync the queue may be waiting on (Apache's follower applies
   * commits on their own thread): the reply to a client on this follower
   * does not wait for later proposals' fsync. Only when nothing ordered
   * with it (an earlier apply, a sync reply) is still pending, and only once
   * synced, so the tree never holds what the disk does not.
   */
  protected override enqueue(effects: LearnerEffect[]): void {
    const queued: LearnerEffect[] = [];
    for (const e of effects) {
      const direct =
        e.kind === 'apply' && queued.length === 0 && this.pendingOrdered === 0 && this.synced && !this.ended && e.txn.header.zxid <= this.durableZxid;
      if (direct) {
        this.opts.server.applyCommitted(e.txn);
        continue;
      }
      if (e.kind === 'apply' || e.kind === 'syncDone') this.pendingOrdered++;
      queued.push(e);
    }
    super.enqueue(queued);
  }

  protected nextTickAt(): number {
    return this.machine.nextTickAt();
  }

  protected tickMachine(now: number): LearnerEffect[] {
    return this.machine.tick(now);
  }

  // ---- effects, in order, one at a time ----

  protected async runQueue(): Promise<void> {
    while (this.queue.length > 0 && !this.ended) {
      const e = this.queue.shift()!;
      if (e.kind === 'log') {
        // Group commit: the logs queued behind it, with the ACKs (and other sends) and applies between
        // them, become one append (one fsync), then those sends and applies in their order. They only
        // ever run later than the machine asked, never before a log they follow.
        const entries = [...e.entries];
        const after: Array<Exclude<LearnerEffect, { kind: 'log' }>> = [];
        while (this.queue.length > 0 && ['log', 'send', 'apply'].includes(this.queue[0].kind)) {
          const next = this.queue.shift()!;
          if (next.kind === 'log') entries.push(...next.entries);
          else after.push(next);
        }
        await this.opts.store.append(entries);
        this.noteDurable(entries);
        this.durableZxid = entries[entries.length - 1].header.zxid;
        this.opts.onDurable({ lastLoggedZxid: entries[entries.length - 1].header.zxid });
        for (const a of after) if (!this.ended) await this.execute(a);
        // The ACKs go out now, not after whatever runs before the next tick: the leader is waiting on them.
        if (this.socket) flushCorked(this.socket);
        continue;
      }
      await this.execute(e);
    }
  }

  private async execute(e: Exclude<LearnerEffect, { kind: 'log' }>): Promise<void> {
    const { server, store } = this.opts;
    switch (e.kind) {
      case 'send':
        this.write(toLeaderPacket(e.message, this.opts.myId));
        return;
      case 'persistAcceptedEpoch':
        await store.setAcceptedEpoch(e.epoch);
        this.opts.onDurable({ acceptedEpoch: e.epoch });
        return;
      case 'persistCurrentEpoch':
        await store.setCurrentEpoch(e.epoch);
        this.opts.onDurable({ currentEpoch: e.epoch });
        // The end of the sync's persists (ZabLearner.onNewLeader): what the tree holds is on disk.
        this.synced = true;
        return;
      case 'truncate': {
        await store.truncateTo(e.zxid);
        await server.reload();
        const reached = server.recoveredState.lastZxid;
        this.opts.recent.reset(server.recoveredState.txns);
        this.opts.onDurable({ lastLoggedZxid: reached });
        if (reached !== e.zxid) {
          // What we had past the TRUNC point came in a SNAP, and its snapshot went with the truncation:
          // our history now ends earlier. End the role; the next sync starts from what is really on disk.
          this.end(`TRUNC to ${hex(e.zxid)} left the history at ${hex(reached)}`);
        }
        return;
      }
      case 'loadSnapshot': {
        const t0 = performance.now();
        const body = e.snapshot as SnapSyncBody;
        server.loadSyncSnapshot(body, e.zxid);
        // Kept until NEWLEADER's snapshot is written from it (then dropped: it is the size of the tree's file).
        this.received = { zxid: e.zxid, body };
        this.opts.log(`loaded the leader's snapshot at ${hex(e.zxid)} (${server.tree.nodeCount} nodes) in ${(performance.now() - t0).toFixed(0)} ms`);
        // The history before the snapshot is not ours any more (and the log before it is not read again).
        this.opts.recent.reset();
        return;
      }
      case 'writeSnapshot': {
        const t0 = performance.now();
        const received = this.received;
        this.received = undefined;
        const how = await server.writeSnapshotNow(received);
        this.opts.log(`wrote the synced snapshot (${how}) in ${(performance.now() - t0).toFixed(0)} ms`);
        this.opts.onDurable({ lastLoggedZxid: server.tree.lastProcessedZxid });
        return;
      }
      case 'apply':
        this.pendingOrdered--;
        server.applyCommitted(e.txn);
        return;
      case 'syncDone':
        this.pendingOrdered--;
        server.pipeline.completeSync();
        return;
      case 'serve':
        this.authority = server.serveAsLearner(this, this, this.opts.observer);
        this.opts.log(`serving as ${this.opts.observer ? 'observer' : 'follower'} of ${this.opts.leader.sid} in epoch ${e.epoch}`);
        this.opts.onServing(e.epoch);
        return;
      case 'end':
        // A reconfig that changes our role was just applied: its client's reply (written on the next
        // tick) leaves before the end of the role closes every client connection.
        if (e.reason === RECONFIG_CHANGED_ROLE) await new Promise((r) => setImmediate(r));
        this.end(e.reason);
        return;
      case 'lastSeenConfig':
        this.opts.onConfig?.({ kind: 'lastSeen', verifier: e.verifier });
        return;
      case 'activateConfig':
        this.opts.log(`config version ${hex(e.verifier.version)} in force${e.designatedLeader !== undefined ? `, led by ${e.designatedLeader}` : ''}`);
        this.opts.onConfig?.({ kind: 'activate', verifier: e.verifier, designatedLeader: e.designatedLeader });
        return;
    }
  }

  private write(p: QuorumPacketData): void {
    const s = this.socket;
    if (!s || s.destroyed || this.ended) return;
    corkUntilNextTick(s);
    s.write(encodeQuorumPacket(p));
  }

  protected end(reason: string): string {
    if (this.finish(reason)) {
      this.pendingOrdered = 0;
      this.socket?.destroy();
      for (const list of this.revalidations.values()) for (const r of list) r(false);
      this.revalidations.clear();
    }
    return reason;
  }
}

const corked = new WeakSet<net.Socket>();

/**
 * Holds a socket's writes until the end of this tick, so a burst of packets
 * (a batch of ACKs, PROPOSALs and COMMITs) leaves in one write instead of
 * one syscall and segment each.
 */
export function corkUntilNextTick(s: net.Socket): void {
  if (corked.has(s)) return;
  corked.add(s);
  s.cork();
  process.nextTick(() => flushCorked(s));
}

/** Writes out now what corkUntilNextTick held back on `s` (nothing when nothing is held). */
export function flushCorked(s: net.Socket): void {
  if (corked.delete(s)) s.uncork();
}

/** One TCP connection attempt, bounded by `timeoutMs`. */
function connect(host: string, port: number, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const s = net.connect({ host, port });
    const t = setTimeout(() => {
      s.destroy();
      reject(new Error(`connect timed out after ${timeoutMs} ms`));
    }, timeoutMs);
    s.once('connect', () => {
      clearTimeout(t);
      s.removeAllListeners('error');
      resolve(s);
    });
    s.once('error', (e) => {
      clearTimeout(t);
      reject(e);
    });
  });
}
