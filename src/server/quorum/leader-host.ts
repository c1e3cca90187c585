/**
 * A leader's term, live: the quorum port's listener and one link per
 * learner, the ZabLeader state machine, and the server's commit path.
 *
 * Effects run in order; epoch persists are awaited before anything after
 * them (LEADERINFO never announces an epoch the leader could forget). The
 * leader's own log append (`log`) is started, not awaited, and its fsync
 * is the leader's ack (`logged`), so followers' acks and ours race as in
 * Apache. The server's RequestPipeline commits through this host
 * (CommitPath): a batch resolves once the machine reports it committed,
 * and is rejected with LeadershipLostError when the term ends first.
 *
 * Learners' REQUESTs are prepped by the server's pipeline as internal
 * writes (their clients are answered by the learner when it applies the
 * COMMIT); REVALIDATE and PING touches go to the session table; a sync is
 * ordered by the machine.
 */
import * as net from 'node:net';
import { OpCode } from '../../proto/constants';
import { Id } from '../../proto/generated/data';
import { writeSnapSyncStream } from '../persist/snap-sync';
import type { SnapshotContents, TxnEntry, TxnLogPosition } from '../persist/types';
import { LeadershipLostError, type CommitPath } from '../request/commit-path';
import type { PrepInput, ReconfigContext } from '../request/prep-request-processor';
import { decodeRequest } from '../request/request-records';
import { QuorumStreamDecoder, encodeQuorumPacket, type ForwardedRequest, type QuorumPacketData } from './quorum-wire';
import type { QuorumVerifier } from './quorum-verifier';
import { TermHost, type TermHostOptions } from './term-host';
import { LeaderEffect, ZabLeader } from './zab-leader';
import { hex } from './zab-messages';
import { fromLearnerPacket, revalidateReplyPacket, toLearnerPacket } from './zab-packets';
import { corkUntilNextTick, flushCorked } from './learner-host';

export interface LeaderHostOptions extends TermHostOptions {
  verifier: QuorumVerifier;
  /** Where to listen for learners (this server's quorum address). */
  host: string;
  port: number;
}

export class LeaderHost extends TermHost<LeaderEffect> implements CommitPath, ReconfigContext {
  private readonly machine: ZabLeader;
  private listener?: net.Server;
  private readonly links = new Map<bigint, LearnerLink>();
  private readonly allLinks = new Set<LearnerLink>();
  private commits: { last: bigint; resolve: () => void; reject: (e: Error) => void }[] = [];
  private readonly encodedProposals = new WeakMap<TxnEntry, Buffer>();
  /** PROPOSAL data sizes (Apache's ProposalStats: -1 until the first). */
  private proposalSizes = { last: -1, min: -1, max: -1 };

  constructor(private readonly opts: LeaderHostOptions) {
    super(opts);
    this.machine = new ZabLeader({
      myId: opts.myId,
      verifier: opts.verifier,
      tickTime: opts.tickTime,
      initLimit: opts.initLimit,
      syncLimit: opts.syncLimit,
      acceptedEpoch: opts.acceptedEpoch,
      currentEpoch: opts.currentEpoch,
      lastZxid: opts.lastLoggedZxid,
      committedLog: opts.recent.entries(),
      txnLogSync: opts.server.snapshotSizeFactor >= 0,
      captureSnapshot: () => {
        const c = opts.server.captureForSync();
        return { zxid: c.zxid, snapshot: c.contents };
      },
      reconfigEnabled: opts.reconfigEnabled,
      lastSeenVerifier: opts.lastSeenVerifier,
    });
  }

  // ---- ReconfigContext: what the server's prep asks a leader about a reconfig ----

  current(): QuorumVerifier {
    return this.machine.verifier;
  }

  lastSeen(): QuorumVerifier {
    return this.machine.lastSeenVerifier;
  }

  isQuorumSynced(qv: QuorumVerifier): boolean {
    return this.machine.isQuorumSynced(qv);
  }

  /** Listens on the quorum port and leads until the term ends; resolves with why it ended. */
  async run(): Promise<string> {
    const srv = net.createServer((s) => this.accept(s));
    this.listener = srv;
    try {
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(this.opts.port, this.opts.host, () => {
          srv.off('error', reject);
          srv.on('error', (e) => this.opts.log(`quorum listener error: ${e.message}`));
          resolve();
        });
      });
    } catch (e) {
      return this.end(`cannot listen on quorum port ${this.opts.host}:${this.opts.port}: ${(e as Error).message}`);
    }
    this.enqueue(this.machine.start(this.now()));
    this.schedule();
    return this.finished;
  }

  stop(reason: string): void {
    this.enqueue(this.machine.abandon(reason));
  }

  /**
   * After the term (and settled()): the txns logged and not applied (proposals
   * that never committed, or whose apply was abandoned), to apply on top of
   * the tree. A leader's tree only ever holds committed txns, which are in
   * its log once its appends settled.
   */
  fastForwardEntries(): TxnEntry[] {
    return this.durableUnapplied();
  }

  /** The leader's figures for mntr and stat. */
  stats(): { learners: number; syncedFollowers: number; syncedNonVotingFollowers: number; syncedObservers: number; pendingSyncs: number; lastProposalSize: number; minProposalSize: number; maxProposalSize: number } {
    const c = this.machine.learnerCounts();
    const p = this.proposalSizes;
    return { ...c, syncedNonVotingFollowers: 0, lastProposalSize: p.last, minProposalSize: p.min, maxProposalSize: p.max };
  }

  // ---- CommitPath: the server's pipeline commits through the quorum ----

  commit(entries: TxnEntry[]): Promise<void> {
    if (this.ended) return Promise.reject(new LeadershipLostError('not leading'));
    const effects = this.machine.propose(entries);
    const done = new Promise<void>((resolve, reject) => this.commits.push({ last: entries[entries.length - 1].header.zxid, resolve, reject }));
    this.enqueue(effects);
    return done;
  }

  // ---- learners ----

  private accept(socket: net.Socket): void {
    if (this.ended) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    const link = new LearnerLink(socket);
    this.allLinks.add(link);
    const decoder = new QuorumStreamDecoder({ snapshotAfterSnap: false });
    // LearnerHandler reads with a socket timeout of initLimit ticks: a connection that has not said who
    // it is by then (silent, or stuck in its first packet) is closed. Once known, the machine's limits apply.
    socket.setTimeout(this.opts.initLimit * this.opts.tickTime, () => {
      if (link.sid !== undefined) return void socket.setTimeout(0);
      this.opts.log(`closing learner link ${link.describe()}: no FOLLOWERINFO or OBSERVERINFO within initLimit`);
      socket.destroy();
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        for (const ev of decoder.push(chunk)) if (ev.kind === 'packet') this.onPacket(link, ev.packet);
      } catch (e) {
        this.opts.log(`closing learner link ${link.describe()}: ${(e as Error).message}`);
        socket.destroy();
      }
      this.schedule();
    });
    socket.on('error', () => undefined); // 'close' follows
    socket.on('close', () => {
      this.allLinks.delete(link);
      if (link.sid !== undefined && this.links.get(link.sid) === link) {
        this.links.delete(link.sid);
        this.enqueue(this.machine.disconnected(link.sid));
      }
    });
  }

  private onPacket(link: LearnerLink, p: QuorumPacketData): void {
    const m = fromLearnerPacket(p);
    if (m === null) {
      // LearnerHandler logs and skips a type it does not expect, except as the first packet: that closes.
      if (link.sid === undefined) {
        this.opts.log(`closing learner link ${link.describe()}: first packet was type ${p.type}, not FOLLOWERINFO or OBSERVERINFO`);
        link.close();
      }
      return;
    }
    if (m.kind === 'zab' && m.message.kind === 'learnerInfo') {
      const sid = m.sid!;
      const old = this.links.get(sid);
      if (old && old !== link) {
        this.links.delete(sid);
        old.close();
      }
      link.sid = sid;
      this.links.set(sid, link);
    }
    const sid = link.sid;
    if (sid === undefined) {
      this.opts.log(`closing learner link ${link.describe()}: first packet was not FOLLOWERINFO or OBSERVERINFO`);
      link.close();
      return;
    }
    const now = this.now();
    switch (m.kind) {
      case 'zab':
        if (m.message.kind === 'ping') for (const t of m.message.touches) this.opts.server.sessions.touchSession(t.sessionId, t.timeout);
        this.enqueue(this.machine.receive(sid, m.message, now));
        return;
      case 'revalidate': {
        // Leader.revalidateSession: the session lives if the table has it (its expiry pushed out).
        const valid = this.opts.server.sessions.touchSession(m.sessionId, m.timeout);
        // The session's client is on that learner now: requests through anyone else fail SESSIONMOVED.
        if (valid) this.opts.server.sessions.setOwner(m.sessionId, learnerOwner(sid));
        link.send(encodeQuorumPacket(revalidateReplyPacket(m.sessionId, valid)));
        this.machine.heard(sid, now);
        return;
      }
      case 'request':
        this.machine.heard(sid, now);
        if (this.opts.server.role !== 'leader') {
          // Only a synced learner forwards, and only after we serve; anything else is not proposed.
          this.opts.log(`dropping a REQUEST from learner ${sid}: not serving yet`);
          return;
        }
        if (m.request.type === OpCode.sync) {
          this.enqueue(this.machine.sync(sid));
          return;
        }
        this.submitForwarded(sid, m.request, m.authInfo);
        return;
    }
  }

  /** A learner's client write: prepped and proposed here; its client is answered by that learner on COMMIT. */
  private submitForwarded(sid: bigint, req: ForwardedRequest, authInfo: { scheme: string; id: string }[]): void {
    const input: PrepInput = {
      sessionId: req.sessionId,
      cxid: req.cxid,
      type: req.type,
      record: null,
      authInfo: authInfo.map((a) => new Id({ scheme: a.scheme, id: a.id })),
      owner: learnerOwner(sid),
    };
    if (req.type === OpCode.createSession) {
      // The learner allocated the id and sends the negotiated timeout (ZooKeeperServer.createSession).
      if (req.body.length >= 4) input.timeout = req.body.readInt32BE(0);
    } else if (req.type !== OpCode.closeSession) {
      try {
        input.record = decodeRequest(req.type, req.body);
      } catch {
        input.record = null; // answered MarshallingError through an ErrorTxn, as the leader's prep does
      }
    }
    let applied = this.opts.server.pipeline.submitInternal(input);
    if (req.type === OpCode.closeSession) {
      // FinalRequestProcessor: a session closed through another member may still have a connection here
      // (a client that moved to us, or a second handle on the same session): it is closed now, not left to
      // find out at its read timeout.
      applied = applied.then((r) => {
        this.opts.server.closeConnectionOf(req.sessionId);
        return r;
      });
    }
    applied
      .catch((e) => this.opts.log(`forwarded request of session 0x${req.sessionId.toString(16)} cxid ${req.cxid} type ${req.type} failed: ${(e as Error).message}`));
  }

  // ---- effects ----

  protected async runQueue(): Promise<void> {
    while (this.queue.length > 0 && !this.ended) {
      const e = this.queue.shift()!;
      if (e.kind !== 'send') {
        await this.execute(e);
        continue;
      }
      // A run of sends (a proposal to every follower) goes out together and at once, not after the
      // effects behind it (the leader's own log write comes next): a follower's fsync starts sooner.
      this.send(e);
      if (this.queue[0]?.kind !== 'send') for (const link of this.links.values()) link.flush();
    }
  }

  private send(e: Extract<LeaderEffect, { kind: 'send' }>): void {
    const link = this.links.get(e.to);
    if (!link) return;
    // A proposal goes to every follower: encode it once.
    let packet = e.message.kind === 'proposal' ? this.encodedProposals.get(e.message.txn) : undefined;
    if (!packet) {
      packet = encodeQuorumPacket(toLearnerPacket(e.message));
      if (e.message.kind === 'proposal') this.encodedProposals.set(e.message.txn, packet);
    }
    const m = e.message;
    // Apache counts the proposal's data: the packet less type, zxid, data length and a null authinfo (20 bytes).
    if (m.kind === 'proposal') this.noteProposalSize(packet.length - 20);
    if (m.kind === 'diff' || m.kind === 'trunc' || m.kind === 'snap') this.opts.log(`syncing learner ${e.to} with ${m.kind.toUpperCase()} ${hex(m.zxid)}`);
    if (e.message.kind === 'snap') {
      const contents = e.message.snapshot as SnapshotContents;
      link.send(packet);
      link.sendStream((write) => writeSnapSyncStream(contents, write), (err) => this.opts.log(`SNAP to ${e.to} failed: ${err.message}`));
    } else link.send(packet);
  }

  /**
   * ZKDatabase.calculateTxnLogSizeLimit + getProposalsFromTxnLog: where a
   * learner's zxid is in our txn log, or null (the log does not reach back
   * to it, is over the size limit, or cannot be read: the learner gets a SNAP).
   */
  private async findInLog(e: Extract<LeaderEffect, { kind: 'findInLog' }>): Promise<TxnLogPosition | null> {
    const { zxid, through } = e;
    // Txns up to `through` are committed, so their appends have started; once these settle they are on disk.
    await Promise.allSettled([...this.pendingIo]);
    try {
      const limit = await this.opts.store.txnLogSizeLimit(this.opts.server.snapshotSizeFactor);
      return await this.opts.store.findInLog(zxid, through, limit);
    } catch (err) {
      this.opts.log(`cannot read the txn log for a sync from 0x${zxid.toString(16)}: ${(err as Error).message}`);
      return null;
    }
  }

  /** PROPOSAL + COMMIT pairs of the logged txns in (after, through], streamed from disk in chunks. */
  private sendLog(e: Extract<LeaderEffect, { kind: 'sendLog' }>): void {
    const link = this.links.get(e.to);
    if (!link) return;
    // As in findInLog: once the appends started so far settle, every txn up to `through` is on disk.
    const appends = [...this.pendingIo];
    link.sendStream(
      async (write) => {
        await Promise.allSettled(appends);
        let chunk: Buffer[] = [];
        let size = 0;
        let count = 0;
        for await (const txn of this.opts.store.logEntries(e.after, e.through)) {
          const proposal = encodeQuorumPacket(toLearnerPacket({ kind: 'proposal', txn }));
          const commit = encodeQuorumPacket(toLearnerPacket({ kind: 'commit', zxid: txn.header.zxid }));
          chunk.push(proposal, commit);
          size += proposal.length + commit.length;
          count++;
          if (size >= LOG_SYNC_CHUNK) {
            await write(Buffer.concat(chunk));
            chunk = [];
            size = 0;
          }
        }
        if (size > 0) await write(Buffer.concat(chunk));
        this.opts.log(`synced learner ${e.to} with ${count} txns from the txn log (${hex(e.after)} to ${hex(e.through)})`);
      },
      (err) => this.opts.log(`DIFF from the txn log to ${e.to} failed: ${err.message}`),
    );
  }

  private async execute(e: Exclude<LeaderEffect, { kind: 'send' }>): Promise<void> {
    switch (e.kind) {
      case 'persistAcceptedEpoch':
        await this.opts.store.setAcceptedEpoch(e.epoch);
        this.opts.onDurable({ acceptedEpoch: e.epoch });
        return;
      case 'persistCurrentEpoch':
        await this.opts.store.setCurrentEpoch(e.epoch);
        this.opts.onDurable({ currentEpoch: e.epoch });
        return;
      case 'log': {
        const last = e.entries[e.entries.length - 1].header.zxid;
        const io = this.opts.store.append(e.entries).then(
          () => {
            this.noteDurable(e.entries);
            this.opts.onDurable({ lastLoggedZxid: last });
            this.enqueue(this.machine.logged(last));
          },
          (err: Error) => this.end(`txn log failed: ${err.message}`),
        );
        this.pendingIo.add(io);
        void io.finally(() => this.pendingIo.delete(io));
        return;
      }
      case 'serve':
        this.opts.server.serveAsLeader(this, e.epoch, this);
        this.opts.log(`leading epoch ${e.epoch} with ${[...this.links.keys()].join(', ') || 'no learners'}`);
        this.opts.onServing(e.epoch);
        return;
      case 'committed':
        while (this.commits.length > 0 && this.commits[0].last <= e.zxid) this.commits.shift()!.resolve();
        return;
      case 'drop': {
        this.opts.log(`dropping learner ${e.sid}: ${e.reason}`);
        const link = this.links.get(e.sid);
        this.links.delete(e.sid);
        link?.close();
        return;
      }
      case 'end':
        this.end(e.reason);
        return;
      case 'lastSeenConfig':
        this.opts.onConfig?.({ kind: 'lastSeen', verifier: e.verifier });
        return;
      case 'findInLog':
        // Not awaited: other learners' effects go on meanwhile; the machine takes the answer when it comes.
        void this.findInLog(e).then((at) => this.enqueue(this.machine.logPosition(e.sid, e.zxid, at)));
        return;
      case 'sendLog':
        this.sendLog(e);
        return;
      case 'activateConfig':
        this.opts.log(`config version ${hex(e.verifier.version)} in force, led by ${e.designatedLeader}`);
        this.opts.onConfig?.({ kind: 'activate', verifier: e.verifier, designatedLeader: e.designatedLeader });
        return;
    }
  }

  private noteProposalSize(n: number): void {
    const p = this.proposalSizes;
    p.last = n;
    p.min = p.min < 0 ? n : Math.min(p.min, n);
    p.max = Math.max(p.max, n);
  }

  protected nextTickAt(now: number): number {
    return this.machine.nextTickAt(now);
  }

  protected tickMachine(now: number): LeaderEffect[] {
    return this.machine.tick(now);
  }

  protected end(reason: string): string {
    if (this.finish(reason)) {
      const lost = new LeadershipLostError(`leadership lost: ${reason}`);
      for (const c of this.commits.splice(0)) c.reject(lost);
      this.listener?.close();
      for (const l of this.allLinks) l.close();
      this.opts.log(`leader term ended: ${reason} (last zxid ${hex(this.opts.server.tree.lastProcessedZxid)})`);
    }
    return reason;
  }
}

/** A DIFF from the txn log goes out in writes of about this many bytes. */
const LOG_SYNC_CHUNK = 256 * 1024;

/** A learner's session owner (LearnerHandler in Apache): the same string for every connection of that sid. */
function learnerOwner(sid: bigint): string {
  return `learner:${sid}`;
}

/** One learner's connection: packets in order, with a SNAP's snapshot or a DIFF's txns from disk streamed in between. */
class LearnerLink {
  sid?: bigint;
  /** Packets queued while a sync stream (sendStream) is written. */
  private held: Buffer[] | null = null;

  constructor(private readonly socket: net.Socket) {}

  describe(): string {
    return `${this.sid ?? '?'} (${this.socket.remoteAddress}:${this.socket.remotePort})`;
  }

  send(bytes: Buffer): void {
    if (this.held) this.held.push(bytes);
    else if (!this.socket.destroyed) {
      corkUntilNextTick(this.socket);
      this.socket.write(bytes);
    }
  }

  /**
   * What `body` writes (a SNAP's snapshot body and "BenWasHere", or a DIFF's
   * pairs read from disk), at the socket's pace, then whatever was sent
   * meanwhile. A failure closes the connection (the learner syncs again).
   */
  sendStream(body: (write: (chunk: Buffer) => Promise<void> | void) => Promise<void>, onError: (e: Error) => void): void {
    if (this.held) {
      // One sync per connection: a second stream on it means the leader's state is off.
      onError(new Error('a sync stream while another is streaming'));
      this.close();
      return;
    }
    this.held = [];
    const write = (chunk: Buffer): Promise<void> | void => {
      if (this.socket.destroyed) throw new Error('connection closed');
      if (this.socket.write(chunk)) return;
      // A close instead of the drain fails the next write, so the body stops and lets go of its files.
      return new Promise((resolve) => {
        const go = (): void => {
          this.socket.off('drain', go);
          this.socket.off('close', go);
          resolve();
        };
        this.socket.on('drain', go);
        this.socket.on('close', go);
      });
    };
    body(write).then(
      () => {
        const held = this.held ?? [];
        this.held = null;
        for (const b of held) this.send(b);
      },
      (e: Error) => {
        onError(e);
        this.close();
      },
    );
  }

  /** Writes out what send() corked now rather than on the next tick. */
  flush(): void {
    flushCorked(this.socket);
  }

  close(): void {
    this.socket.destroy();
  }
}
