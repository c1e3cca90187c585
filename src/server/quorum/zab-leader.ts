/**
 * ZAB's leader (Apache 3.8's `Leader` + `LearnerHandler`) as a deterministic
 * state machine: messages, ticks and "logged" reports in, effects out. No
 * socket, clock or disk.
 *
 * Phases (one instance per term):
 *  1. discovery: learners report their acceptedEpoch (FOLLOWERINFO /
 *     OBSERVERINFO); once the voters among them plus the leader make a
 *     quorum, newEpoch = max(acceptedEpoch) + 1 is persisted as the
 *     leader's acceptedEpoch and sent in LEADERINFO (to later joiners at once);
 *  2. epoch acks: ACKEPOCH carries each learner's (currentEpoch, lastZxid);
 *     a voter ahead of the leader is refused; a quorum of acks (leader
 *     included) makes the leader persist currentEpoch = newEpoch;
 *  3. sync: each acked learner gets DIFF, TRUNC or SNAP from the committed
 *     log, or from the txn log on disk when it is older than that (see
 *     startSync), the proposals in flight, then NEWLEADER;
 *  4. once a quorum of voters acked NEWLEADER the leader serves, and every
 *     learner that acked NEWLEADER gets UPTODATE (later joiners right after
 *     their own ack);
 *  5. broadcast: propose() sends PROPOSALs to the synced followers; a
 *     proposal commits when a quorum of voters acked it (the leader's ack is
 *     its own log fsync, reported through logged()), strictly in zxid order;
 *     COMMIT goes to followers, INFORM (the whole txn) to observers.
 *
 * Liveness: PING to every learner each tickTime/2; a learner not heard from
 * within initLimit ticks (before its NEWLEADER ack) or syncLimit ticks
 * (after) is dropped; every tickTime in broadcast the voters heard from
 * within syncLimit ticks, plus the leader, must be a quorum, and during
 * discovery and sync each phase must finish within initLimit ticks,
 * otherwise the term ends (`end` effect) and the host goes back to
 * election.
 *
 * Effects are executed by the host in order. `persistAcceptedEpoch` and
 * `persistCurrentEpoch` must be durable before any later effect runs (the
 * LEADERINFO that follows must not announce an epoch the leader could
 * forget). `log` is NOT waited for: the host appends and fsyncs the txns
 * and then calls logged(lastZxid), which is the leader's own ack.
 */
import { OpCode } from '../../proto/constants';
import type { SetDataTxn } from '../../proto/generated/txn';
import { decodeTxnBody } from '../persist/txn-codec';
import type { TxnEntry, TxnLogPosition } from '../persist/types';
import { counterOf, epochOf, makeZxid } from '../zxid';
import { parseQuorumConfigText } from './dynamic-config';
import type { QuorumVerifier } from './quorum-verifier';
import { LeaderMessage, LearnerMessage, SnapshotHandle, hex } from './zab-messages';

export type LeaderEffect =
  | { kind: 'send'; to: bigint; message: LeaderMessage }
  | { kind: 'persistAcceptedEpoch'; epoch: bigint }
  | { kind: 'persistCurrentEpoch'; epoch: bigint }
  /** Append and fsync; then call logged(last zxid). Not awaited before later effects. */
  | { kind: 'log'; entries: TxnEntry[] }
  /** Quorum reached on NEWLEADER: serve clients, zxids from epoch << 32 | 1. */
  | { kind: 'serve'; epoch: bigint }
  /** Every proposal up to zxid committed: apply them and answer their clients. */
  | { kind: 'committed'; zxid: bigint }
  /** Close that learner's connection (it reconnects and syncs again). */
  | { kind: 'drop'; sid: bigint; reason: string }
  /** The term is over: abandon what is in flight and elect again. */
  | { kind: 'end'; reason: string }
  /** A newer config was proposed (a reconfig txn, or the first leader's versioned config): the last one seen. */
  | { kind: 'lastSeenConfig'; verifier: QuorumVerifier }
  /** A config is in force from here (a committed reconfig, or at serve the one NEWLEADER carried), led by `designatedLeader`. */
  | { kind: 'activateConfig'; verifier: QuorumVerifier; designatedLeader: bigint }
  /**
   * Look for learner `sid`'s last zxid in the txn log on disk, within the
   * size limit (Apache's ZKDatabase.getProposalsFromTxnLog), the log after
   * it one history up to `through` (the last committed txn: logged once the
   * appends started before this effect settle), and answer with
   * logPosition(sid, zxid, position or null). Not awaited before later effects.
   */
  | { kind: 'findInLog'; sid: bigint; zxid: bigint; through: bigint }
  /**
   * To `to`: PROPOSAL + COMMIT for each logged txn in (after, through], read
   * from the txn log on disk, before anything later sent to it. A log that
   * does not reach `through` closes that learner's connection.
   */
  | { kind: 'sendLog'; to: bigint; after: bigint; through: bigint };

export interface ZabLeaderOptions {
  myId: bigint;
  verifier: QuorumVerifier;
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  /** The epoch files as they are on disk. */
  acceptedEpoch: bigint;
  currentEpoch: bigint;
  /** The last zxid in the leader's log: the leader's whole history commits in the new epoch. */
  lastZxid: bigint;
  /** The newest committed txns on disk, ascending (what DIFF can be served from). */
  committedLog: readonly TxnEntry[];
  /** How many committed txns to keep for DIFF (Apache keeps 500; older peers are synced from the txn log or get a SNAP). */
  committedLogLimit?: number;
  /**
   * Sync a learner older than the committed log from the txn log on disk
   * (`findInLog` / `sendLog` effects) when the log reaches back to it:
   * Apache's zookeeper.snapshotSizeFactor >= 0. Off: such a learner gets a SNAP.
   */
  txnLogSync?: boolean;
  /**
   * Captures the applied tree NOW (synchronously) for a SNAP; `zxid` is the
   * last txn the capture holds. Committed txns after it are sent as pairs.
   */
  captureSnapshot: () => { zxid: bigint; snapshot: SnapshotHandle };
  /**
   * zoo.cfg reconfigEnabled: reconfig txns change the config when they
   * commit, and the first leader of an unversioned config gives it the
   * version of its NEWLEADER zxid (ZOOKEEPER-1783). Off: the config never changes.
   */
  reconfigEnabled?: boolean;
  /** The last config seen (a reconfig proposed and not known to be committed), when newer than `verifier`. */
  lastSeenVerifier?: QuorumVerifier;
}

type LearnerStage =
  /** Sent LEADERINFO or waiting for the epoch; waits for ACKEPOCH. */
  | 'epoch'
  /** ACKEPOCH received; waits for the epoch-ack quorum before its sync. */
  | 'awaitSync'
  /** Sync and NEWLEADER sent; waits for the NEWLEADER ack. */
  | 'syncing'
  /** Older than the committed log: waits for its zxid to be looked up in the txn log on disk. */
  | 'findingInLog'
  /** NEWLEADER acked; waits for the leader to serve. */
  | 'acked'
  /** UPTODATE sent. */
  | 'active';

interface LearnerState {
  observer: boolean;
  stage: LearnerStage;
  lastHeard: number;
  peerLastZxid?: bigint;
  /** In the forwarding set: gets every new PROPOSAL (follower) or INFORM (observer). */
  forwarding: boolean;
}

interface Outstanding {
  txn: TxnEntry;
  zxid: bigint;
  acks: Set<bigint>;
  /** Each must see a quorum of acks: the config in force, and the one pending while a reconfig is (Proposal.qvAcksetPairs). */
  quorums: QuorumVerifier[];
  /** A reconfig's new config. */
  config?: QuorumVerifier;
}

type Phase = 'discovery' | 'epochAck' | 'newLeaderAck' | 'broadcast' | 'ended';

const DEFAULT_COMMITTED_LOG_LIMIT = 500;

/** One step of a learner's sync: a packet, or the committed txns in (after, through] read from the txn log on disk. */
type SyncStep = LeaderMessage | { kind: 'txnLog'; after: bigint; through: bigint };

export class ZabLeader {
  private phase: Phase = 'discovery';
  private readonly learners = new Map<bigint, LearnerState>();
  private epoch: bigint;
  private readonly epochReporters = new Set<bigint>();
  private readonly epochAcks = new Set<bigint>();
  private readonly newLeaderAcks = new Set<bigint>();
  private readonly committedLog: TxnEntry[];
  private readonly committedLogLimit: number;
  private lastCommitted: bigint;
  private lastProposed: bigint;
  private outstanding: Outstanding[] = [];
  private readonly pendingSyncs: { sid: bigint; after: bigint }[] = [];
  private phaseDeadline = 0;
  private nextPingAt = 0;
  private checkQuorumThisPing = false;
  private readonly startSummary: { currentEpoch: bigint; lastZxid: bigint };
  private effects: LeaderEffect[] = [];
  private endedWith?: string;
  /** The config in force (QuorumPeer.getQuorumVerifier) and the newest one proposed (getLastSeenQuorumVerifier). */
  private qv: QuorumVerifier;
  private lastSeen: QuorumVerifier;
  /** False once a committed config designates another leader: nothing commits here any more (Leader.allowedToCommit). */
  private allowedToCommit = true;
  private handOverAt?: number;

  constructor(private readonly opts: ZabLeaderOptions) {
    this.qv = opts.verifier;
    this.lastSeen = opts.lastSeenVerifier && opts.lastSeenVerifier.version > opts.verifier.version ? opts.lastSeenVerifier : opts.verifier;
    this.epoch = opts.acceptedEpoch + 1n;
    this.lastCommitted = opts.lastZxid;
    this.lastProposed = opts.lastZxid;
    this.committedLogLimit = opts.committedLogLimit ?? DEFAULT_COMMITTED_LOG_LIMIT;
    this.committedLog = opts.committedLog.slice(-this.committedLogLimit);
    this.startSummary = { currentEpoch: opts.currentEpoch, lastZxid: opts.lastZxid };
  }

  /** The epoch this term proposes in (final once discovery is over). */
  get newEpoch(): bigint {
    return this.epoch;
  }

  get state(): Phase {
    return this.phase;
  }

  /** Why the term ended, once it has. */
  get endReason(): string | undefined {
    return this.endedWith;
  }

  /** Sids of the learners past discovery, by stage (for `mntr`-style reporting and tests). */
  learnerStages(): Map<bigint, LearnerStage> {
    return new Map([...this.learners].map(([sid, l]) => [sid, l.stage]));
  }

  /** The config in force. */
  get verifier(): QuorumVerifier {
    return this.qv;
  }

  /** The newest config proposed (the one in force when no reconfig is pending). */
  get lastSeenVerifier(): QuorumVerifier {
    return this.lastSeen;
  }

  /**
   * Leader.isQuorumSynced: the leader (when one of qv's voters) and the
   * synced followers that are qv's voters make a quorum of qv. Synced =
   * forwarding (past its sync), as Apache's forwardingFollowers.
   */
  isQuorumSynced(qv: QuorumVerifier): boolean {
    const ids = [this.opts.myId];
    for (const [sid, l] of this.learners) if (!l.observer && l.forwarding && l.stage === 'active') ids.push(sid);
    return qv.containsQuorum(ids);
  }

  /** Learner counts as Apache's mntr prints them (synced = UPTODATE sent). */
  learnerCounts(): { learners: number; syncedFollowers: number; syncedObservers: number; pendingSyncs: number } {
    let syncedFollowers = 0;
    let syncedObservers = 0;
    for (const l of this.learners.values()) {
      if (l.stage !== 'active') continue;
      if (l.observer) syncedObservers++;
      else syncedFollowers++;
    }
    return { learners: this.learners.size, syncedFollowers, syncedObservers, pendingSyncs: this.pendingSyncs.length };
  }

  /** Starts the term: the leader reports its own acceptedEpoch (it may be a quorum alone). */
  start(now: number): LeaderEffect[] {
    this.phaseDeadline = now + this.opts.initLimit * this.opts.tickTime;
    this.epochReporters.add(this.opts.myId);
    this.maybeFinishDiscovery(now);
    return this.flush();
  }

  /** A learner's connection closed (or the host refused it). */
  disconnected(sid: bigint): LeaderEffect[] {
    this.forget(sid);
    return this.flush();
  }

  receive(sid: bigint, msg: LearnerMessage, now: number): LeaderEffect[] {
    if (this.phase === 'ended') return [];
    const l = this.learners.get(sid);
    if (msg.kind === 'learnerInfo') {
      this.onLearnerInfo(sid, msg, now);
      return this.flush();
    }
    if (!l) {
      this.drop(sid, `${msg.kind} before FOLLOWERINFO`);
      return this.flush();
    }
    l.lastHeard = now;
    switch (msg.kind) {
      case 'ackEpoch':
        this.onAckEpoch(sid, l, msg.lastZxid, msg.currentEpoch, now);
        break;
      case 'ack':
        this.onAck(sid, l, msg.zxid, now);
        break;
      case 'ping':
        break; // liveness only; the host touches the sessions
    }
    return this.flush();
  }

  /** A learner's packet the machine does not take (REQUEST, REVALIDATE) still shows it is alive. */
  heard(sid: bigint, now: number): void {
    const l = this.learners.get(sid);
    if (l) l.lastHeard = now;
  }

  /** Proposes txns (already zxid-stamped by the host's ZxidSource, in order). Only while serving. */
  propose(entries: readonly TxnEntry[]): LeaderEffect[] {
    if (this.phase !== 'broadcast') throw new Error(`cannot propose while ${this.phase}`);
    for (const txn of entries) {
      const zxid = txn.header.zxid;
      if (zxid <= this.lastProposed || epochOf(zxid) !== this.epoch) {
        throw new Error(`proposal ${hex(zxid)} out of order (last ${hex(this.lastProposed)}, epoch ${this.epoch})`);
      }
      this.lastProposed = zxid;
      const p: Outstanding = { txn, zxid, acks: new Set(), quorums: [this.qv] };
      if (txn.header.type === OpCode.reconfig && this.opts.reconfigEnabled) {
        // Leader.propose: a reconfig's config is the last seen from here; it and every proposal after
        // it until it commits need a quorum of both the old and the new config.
        p.config = configOfTxn(txn);
        if (p.config.version > this.lastSeen.version) {
          this.lastSeen = p.config;
          this.effects.push({ kind: 'lastSeenConfig', verifier: p.config });
        }
      }
      if (this.lastSeen.version > this.qv.version) p.quorums.push(this.lastSeen);
      this.outstanding.push(p);
      for (const [sid, l] of this.learners) {
        if (l.forwarding && !l.observer) this.send(sid, { kind: 'proposal', txn });
      }
    }
    if (entries.length > 0) this.effects.push({ kind: 'log', entries: [...entries] });
    return this.flush();
  }

  /** The leader's own log has every proposal up to `zxid` durably: its ack. */
  logged(zxid: bigint): LeaderEffect[] {
    if (this.phase !== 'broadcast') return [];
    for (const p of this.outstanding) if (p.zxid <= zxid) p.acks.add(this.opts.myId);
    this.tryCommit();
    return this.flush();
  }

  /** A learner forwarded a client's sync: SYNC goes back once every proposal made so far committed. */
  sync(sid: bigint): LeaderEffect[] {
    if (this.outstanding.length === 0) this.send(sid, { kind: 'sync' });
    else this.pendingSyncs.push({ sid, after: this.lastProposed });
    return this.flush();
  }

  tick(now: number): LeaderEffect[] {
    if (this.phase === 'ended') return [];
    const tick = this.opts.tickTime;
    if (this.phase !== 'broadcast' && now > this.phaseDeadline) {
      this.end(`no quorum within initLimit (${this.opts.initLimit} ticks) while waiting for ${this.phaseText()}`);
      return this.flush();
    }
    for (const [sid, l] of [...this.learners]) {
      // Until UPTODATE a learner may rightly be silent (waiting for a quorum): initLimit applies.
      const limit = (l.stage === 'active' ? this.opts.syncLimit : this.opts.initLimit) * tick;
      if (now - l.lastHeard > limit) this.drop(sid, `not heard from for ${now - l.lastHeard} ms`);
    }
    if (this.phase === 'broadcast' && !this.allowedToCommit) {
      // The committed config is led by another server. The term ends one ping interval after the
      // COMMITANDACTIVATE went out (closing the links at once could cut it off); the followers, and
      // then we, go straight to the designated leader (the peer's reconfigFlag).
      if (this.handOverAt === undefined) this.handOverAt = now + Math.max(1, Math.floor(tick / 2));
      else if (now >= this.handOverAt) {
        this.end('the new config designates another leader');
        return this.flush();
      }
    }
    if (this.phase === 'broadcast' && now >= this.nextPingAt) {
      // Apache's lead loop: every tickTime/2 a ping; every other round the synced-quorum check.
      if (this.checkQuorumThisPing) {
        const synced = [this.opts.myId, ...[...this.learners].filter(([, l]) => l.stage === 'active' || l.stage === 'acked').map(([s]) => s)];
        if (!this.currentQuorums().every((q) => q.containsQuorum(synced))) {
          this.end(`not enough followers synced, only ${synced.join(',')}`);
          return this.flush();
        }
      }
      this.checkQuorumThisPing = !this.checkQuorumThisPing;
      for (const [sid, l] of this.learners) {
        if (l.stage === 'active') this.send(sid, { kind: 'ping', zxid: this.lastProposed });
      }
      this.nextPingAt = now + Math.max(1, Math.floor(tick / 2));
    }
    return this.flush();
  }

  /** When tick() must next run. */
  nextTickAt(now: number): number {
    if (this.phase === 'ended') return Infinity;
    const half = Math.max(1, Math.floor(this.opts.tickTime / 2));
    const at = this.phase === 'broadcast' ? this.nextPingAt : Math.min(this.phaseDeadline + 1, now + half);
    return Math.max(now, at);
  }

  /** Ends the term from outside (the host lost its store, or is closing). */
  abandon(reason: string): LeaderEffect[] {
    this.end(reason);
    return this.flush();
  }

  // ---- discovery ----------------------------------------------------------

  private onLearnerInfo(sid: bigint, msg: Extract<LearnerMessage, { kind: 'learnerInfo' }>, now: number): void {
    // A member of the config in force or of the one pending comes in the role one of them gives it.
    // A server neither lists is let in as it asks, counted in no quorum (Apache's LearnerHandler):
    // a server joining by reconfig syncs first, so that the reconfig finds it synced.
    const roles = [this.qv.servers.get(sid), this.lastSeen.servers.get(sid)].filter((s) => s !== undefined);
    if (sid === this.opts.myId) {
      this.drop(sid, `sid ${sid} is our own`);
      return;
    }
    if (roles.length > 0 && !roles.some((s) => msg.observer === (s.type === 'observer'))) {
      this.drop(sid, `sid ${sid} connected as ${msg.observer ? 'observer' : 'follower'} but is configured as ${roles[0].type}`);
      return;
    }
    // Apache compares with the config in force; we allow the pending one too: a new leader that never
    // got the COMMITANDACTIVATE of a reconfig its log holds (Apache learns it from election
    // notifications, we do not) completes it with NEWLEADER, and must let its activated followers in.
    if (msg.configVersion > this.lastSeen.version) {
      this.drop(sid, `follower is ahead of the leader (config version ${msg.configVersion} > ${this.lastSeen.version})`);
      return;
    }
    this.forget(sid); // a reconnect starts over
    this.learners.set(sid, { observer: msg.observer, stage: 'epoch', lastHeard: now, forwarding: false });
    if (this.phase === 'discovery') {
      // Leader.getEpochToPropose: every learner's epoch raises the proposal; voters count toward the quorum.
      if (msg.acceptedEpoch >= this.epoch) this.epoch = msg.acceptedEpoch + 1n;
      if (this.qv.isVoter(sid)) this.epochReporters.add(sid);
      this.maybeFinishDiscovery(now);
    } else {
      this.send(sid, { kind: 'leaderInfo', newEpoch: this.epoch });
    }
  }

  private maybeFinishDiscovery(now: number): void {
    if (this.phase !== 'discovery' || !this.qv.containsQuorum(this.epochReporters)) return;
    this.phase = 'epochAck';
    if (this.opts.reconfigEnabled && this.qv.version === 0n && this.lastSeen.version === 0n) {
      // ZOOKEEPER-1783: an established config outranks the unversioned ones of servers not yet in it.
      // The version is agreed like a reconfig: NEWLEADER carries it, serving activates it.
      this.lastSeen = this.qv.withVersion(makeZxid(this.epoch, 0n));
      this.effects.push({ kind: 'lastSeenConfig', verifier: this.lastSeen });
    }
    this.phaseDeadline = now + this.opts.initLimit * this.opts.tickTime;
    this.effects.push({ kind: 'persistAcceptedEpoch', epoch: this.epoch });
    for (const [sid] of this.learners) this.send(sid, { kind: 'leaderInfo', newEpoch: this.epoch });
    this.epochAcks.add(this.opts.myId);
    this.maybeFinishEpochAck(now);
  }

  private onAckEpoch(sid: bigint, l: LearnerState, lastZxid: bigint, currentEpoch: bigint, now: number): void {
    if (l.stage !== 'epoch' || this.phase === 'discovery') {
      this.drop(sid, 'ACKEPOCH out of turn');
      return;
    }
    l.peerLastZxid = lastZxid;
    if (this.phase === 'epochAck') {
      // Leader.waitForEpochAck: -1 (epoch accepted before) is not counted; a learner ahead of us is refused.
      if (currentEpoch !== -1n) {
        const s = this.startSummary;
        if (currentEpoch > s.currentEpoch || (currentEpoch === s.currentEpoch && lastZxid > s.lastZxid)) {
          this.drop(sid, `follower is ahead of the leader (epoch ${currentEpoch}, zxid ${hex(lastZxid)} vs ${s.currentEpoch}, ${hex(s.lastZxid)})`);
          return;
        }
        if (lastZxid !== -1n && !l.observer && this.qv.isVoter(sid)) this.epochAcks.add(sid);
      }
      l.stage = 'awaitSync';
      this.maybeFinishEpochAck(now);
      return;
    }
    l.stage = 'awaitSync';
    this.startSync(sid, l);
  }

  private maybeFinishEpochAck(now: number): void {
    if (this.phase !== 'epochAck' || !this.qv.containsQuorum(this.epochAcks)) return;
    this.phase = 'newLeaderAck';
    this.phaseDeadline = now + this.opts.initLimit * this.opts.tickTime;
    this.effects.push({ kind: 'persistCurrentEpoch', epoch: this.epoch });
    // The leader's whole log is its history for the new epoch: it counts as committed from here.
    this.newLeaderAcks.add(this.opts.myId);
    for (const [sid, l] of this.learners) if (l.stage === 'awaitSync') this.startSync(sid, l);
    this.maybeFinishNewLeaderAck(now);
  }

  // ---- sync ---------------------------------------------------------------

  private startSync(sid: bigint, l: LearnerState): void {
    const peer = l.peerLastZxid!;
    const sync = this.syncPackets(peer);
    if (sync === 'txnLog') {
      // Apache reads the log under the committed log's read lock; our read is asynchronous, and
      // logPosition() decides with the committed log as it is by then (see syncFromTxnLog).
      l.stage = 'findingInLog';
      this.effects.push({ kind: 'findInLog', sid, zxid: peer, through: this.lastCommitted });
      return;
    }
    this.finishSync(sid, l, sync);
  }

  /** The txn log's answer to `findInLog` (null: it does not reach back to `zxid`, is over the size limit, or is not one history up to `through`). */
  logPosition(sid: bigint, zxid: bigint, position: TxnLogPosition | null): LeaderEffect[] {
    const l = this.learners.get(sid);
    // A learner that reconnected meanwhile may be waiting for another answer (or none).
    if (this.phase === 'ended' || l?.stage !== 'findingInLog' || l.peerLastZxid !== zxid) return [];
    this.finishSync(sid, l, (position && this.syncFromTxnLog(zxid, position)) ?? this.snapSync(zxid));
    return this.flush();
  }

  /** The sync's packets to the learner, the proposals in flight (followers), then NEWLEADER. Null: drop it (retry later). */
  private finishSync(sid: bigint, l: LearnerState, sync: SyncStep[] | null): void {
    if (!sync) {
      this.drop(sid, `no snapshot at or after its zxid ${hex(l.peerLastZxid!)} yet`);
      return;
    }
    for (const m of sync) {
      if (m.kind === 'txnLog') this.effects.push({ kind: 'sendLog', to: sid, after: m.after, through: m.through });
      else this.send(sid, m);
    }
    if (!l.observer) for (const p of this.outstanding) this.send(sid, { kind: 'proposal', txn: p.txn });
    l.forwarding = true;
    l.stage = 'syncing';
    // While the term is being established, the last seen config (Leader.getQuorumVerifierBytes), so the
    // term completes a pending reconfig. Once it serves, the config in force: a learner puts NEWLEADER's
    // config in force at UPTODATE, and a reconfig still pending then is not committed (should it fail,
    // that learner would hold, and spread through the election, a membership nobody committed). The
    // learner learns the pending one from its PROPOSAL (sent above) and activates it at its COMMIT.
    // Apache sends the last seen config here too; the reconfig soak (`npm run soak:reconfig`) finds
    // uncommitted configs in force with it.
    const config = this.phase === 'broadcast' ? this.qv : this.lastSeen;
    this.send(sid, { kind: 'newLeader', zxid: makeZxid(this.epoch, 0n), config: config.toString() });
  }

  /** The oldest txn of the committed log (its last zxid when empty, as LearnerHandler.syncFollower takes it). */
  private minCommitted(): bigint {
    return this.committedLog.length > 0 ? this.committedLog[0].header.zxid : this.lastCommitted;
  }

  /**
   * LearnerHandler.syncFollower over the in-memory committed log:
   *  - the peer has exactly our last committed zxid: an empty DIFF;
   *  - the peer is past it (txns never committed): TRUNC to it;
   *  - the peer's zxid is in the log window: DIFF and the txns after it;
   *    a zxid we do not have (it diverged) truncates to the one before it,
   *    but never across an epoch (that gets a SNAP);
   *  - older than the window: 'txnLog' when syncing from the txn log on
   *    disk is on (its answer decides, see syncFromTxnLog);
   *  - anything else: SNAP (null: not yet, see snapSync).
   */
  private syncPackets(peer: bigint): SyncStep[] | 'txnLog' | null {
    const log = this.committedLog;
    const min = this.minCommitted();
    const max = this.lastCommitted;
    const peerAtEpochStart = counterOf(peer) === 0n;
    if (peer === max) return [{ kind: 'diff', zxid: peer }];
    if (peer > max && !peerAtEpochStart) return [{ kind: 'trunc', zxid: max }, ...this.pairsAfter(max)];
    if (log.length > 0 && min <= peer && peer <= max) {
      const diff = this.diffFromLog(peer, peerAtEpochStart);
      if (diff) return diff;
    }
    if (peer < min && this.opts.txnLogSync) return 'txnLog';
    return this.snapSync(peer);
  }

  /**
   * syncFollower's last case: the txn log on disk from the peer's zxid up to
   * the committed log's oldest txn, then the committed log. What the log
   * holds after the peer's zxid decides as in queueCommittedProposals: the
   * zxid itself (or a peer at an epoch start) gets DIFF; a zxid the log
   * lacks gets TRUNC to the one before it, within its epoch only; a log
   * that ends before the committed log starts (a gap) gets a SNAP. The
   * committed log may have moved on since the lookup: the disk range ends
   * at its oldest txn as it is now.
   */
  private syncFromTxnLog(peer: bigint, at: TxnLogPosition): SyncStep[] | null {
    const min = this.minCommitted();
    if (at.after === undefined || at.after > min) return null;
    let op: LeaderMessage;
    if (at.found || counterOf(peer) === 0n) op = { kind: 'diff', zxid: this.lastCommitted };
    else if (at.before >= 0n && epochOf(at.after) === epochOf(peer)) op = { kind: 'trunc', zxid: at.before };
    else return null;
    return [op, { kind: 'txnLog', after: peer, through: min }, ...this.pairsAfter(min)];
  }

  /** A SNAP of the tree captured now, then the committed txns the capture missed; null when the capture is older than the peer. */
  private snapSync(peer: bigint): SyncStep[] | null {
    const { zxid, snapshot } = this.opts.captureSnapshot();
    // A snapshot older than the peer's log would leave the peer's later (diverged) txns to be replayed
    // over it at its next start: let it come back once the tree caught up with the commits.
    if (zxid < peer) return null;
    return [{ kind: 'snap', zxid, snapshot }, ...this.pairsAfter(zxid)];
  }

  /** queueCommittedProposals: DIFF or TRUNC plus pairs, or null when only a SNAP will do. */
  private diffFromLog(peer: bigint, peerAtEpochStart: boolean): LeaderMessage[] | null {
    const diff = (): LeaderMessage[] => [{ kind: 'diff', zxid: this.lastCommitted }, ...this.pairsAfter(peer)];
    let prev = -1n;
    for (const txn of this.committedLog) {
      const z = txn.header.zxid;
      if (z === peer || peerAtEpochStart) return diff();
      if (z > peer) {
        // The peer has a txn we never committed: cut it back to the one before, within its epoch only.
        if (epochOf(z) !== epochOf(peer) || prev < 0n) return null;
        return [{ kind: 'trunc', zxid: prev }, ...this.pairsAfter(prev)];
      }
      prev = z;
    }
    return null;
  }

  /** PROPOSAL + COMMIT for every committed txn after `zxid` (they must all be in the window). */
  private pairsAfter(zxid: bigint): LeaderMessage[] {
    const out: LeaderMessage[] = [];
    for (const txn of this.committedLog) {
      if (txn.header.zxid <= zxid) continue;
      out.push({ kind: 'proposal', txn }, { kind: 'commit', zxid: txn.header.zxid });
    }
    return out;
  }

  private onAck(sid: bigint, l: LearnerState, zxid: bigint, now: number): void {
    if (counterOf(zxid) === 0n) {
      // The ack of NEWLEADER (or of UPTODATE, which Leader.processAck ignores).
      if (l.stage !== 'syncing') return;
      if (zxid !== makeZxid(this.epoch, 0n)) {
        this.drop(sid, `NEWLEADER acked with ${hex(zxid)}`);
        return;
      }
      l.stage = 'acked';
      if (this.phase === 'newLeaderAck') {
        if (!l.observer) this.newLeaderAcks.add(sid);
        this.maybeFinishNewLeaderAck(now);
      } else if (this.phase === 'broadcast') {
        this.upToDate(sid, l, now);
      }
      return;
    }
    // Any follower's ack is kept: each config's quorum counts its own voters (a joiner votes only in the new one).
    if (l.observer) return;
    // Proposals of a term have consecutive zxids: the ack's index is its distance from the oldest.
    const head = this.outstanding[0];
    const i = head === undefined || zxid < head.zxid ? -1 : Number(zxid - head.zxid);
    let p = i >= 0 && i < this.outstanding.length ? this.outstanding[i] : undefined;
    if (p && p.zxid !== zxid) p = this.outstanding.find((o) => o.zxid === zxid); // not consecutive after all
    if (!p) return; // already committed (late ack) or unknown: Apache ignores both
    p.acks.add(sid);
    this.tryCommit();
  }

  private maybeFinishNewLeaderAck(now: number): void {
    if (this.phase !== 'newLeaderAck' || !this.currentQuorums().every((q) => q.containsQuorum(this.newLeaderAcks))) return;
    this.phase = 'broadcast';
    this.nextPingAt = now;
    this.checkQuorumThisPing = false;
    if (this.opts.reconfigEnabled && this.lastSeen.version > this.qv.version) {
      // Leader.startZkServer (ZOOKEEPER-1324): the config NEWLEADER carried is in force once a quorum of it acked.
      const designated = this.designatedLeader(this.lastSeen, this.newLeaderAcks, makeZxid(this.epoch, 0n));
      this.activate(this.lastSeen, designated);
    }
    this.effects.push({ kind: 'serve', epoch: this.epoch });
    for (const [sid, l] of this.learners) if (l.stage === 'acked') this.upToDate(sid, l, now);
  }

  private upToDate(sid: bigint, l: LearnerState, now: number): void {
    l.stage = 'active';
    // Waiting for the quorum it had nothing to say; its syncLimit clock starts with UPTODATE (else a
    // learner that acked NEWLEADER more than syncLimit before the quorum formed is dropped at once).
    l.lastHeard = now;
    this.send(sid, { kind: 'upToDate' });
  }

  // ---- broadcast ----------------------------------------------------------

  private tryCommit(): void {
    let committed: bigint | undefined;
    while (this.allowedToCommit && this.outstanding.length > 0 && this.outstanding[0].quorums.every((q) => q.containsQuorum(this.outstanding[0].acks))) {
      const p = this.outstanding.shift()!;
      committed = p.zxid;
      this.lastCommitted = p.zxid;
      this.committedLog.push(p.txn);
      if (this.committedLog.length > this.committedLogLimit) this.committedLog.shift();
      if (p.config) {
        // Leader.tryToCommit of a reconfig: the new config is in force now; a leader that is no voter
        // of it (at the same quorum address) designates a follower that acked it and commits no more.
        const designated = this.designatedLeader(p.config, p.acks, p.zxid);
        this.activate(p.config, designated);
        for (const [sid, l] of this.learners) {
          if (!l.forwarding) continue;
          this.send(sid, l.observer ? { kind: 'informAndActivate', txn: p.txn, designatedLeader: designated } : { kind: 'commitAndActivate', zxid: p.zxid, designatedLeader: designated });
        }
      } else {
        for (const [sid, l] of this.learners) {
          if (!l.forwarding) continue;
          this.send(sid, l.observer ? { kind: 'inform', txn: p.txn } : { kind: 'commit', zxid: p.zxid });
        }
      }
      // Right after the commit it waited for, before any later one: the learner answers its sync
      // before the replies to writes its client sent after it.
      while (this.pendingSyncs.length > 0 && this.pendingSyncs[0].after <= this.lastCommitted) {
        this.send(this.pendingSyncs.shift()!.sid, { kind: 'sync' });
      }
    }
    if (committed !== undefined) this.effects.push({ kind: 'committed', zxid: committed });
  }

  // ---- reconfig -----------------------------------------------------------

  /** The configs a quorum is needed in now: the one in force, and the pending one. */
  private currentQuorums(): QuorumVerifier[] {
    return this.lastSeen.version > this.qv.version ? [this.qv, this.lastSeen] : [this.qv];
  }

  private activate(config: QuorumVerifier, designated: bigint): void {
    if (config.version > this.qv.version) this.qv = config;
    if (config.version > this.lastSeen.version) this.lastSeen = config;
    this.effects.push({ kind: 'activateConfig', verifier: config, designatedLeader: designated });
    if (designated !== this.opts.myId) this.allowedToCommit = false;
  }

  /**
   * Leader.getDesignatedLeader: ourselves while a voter of the new config
   * at the same quorum address; otherwise, among its voters that acked,
   * the one that acked the most of the proposals after it (the least to
   * lose). Apache picks from a HashSet; we take the lowest sid.
   */
  private designatedLeader(config: QuorumVerifier, acks: ReadonlySet<bigint>, zxid: bigint): bigint {
    const me = this.opts.myId;
    const before = this.qv.servers.get(me);
    const after = config.servers.get(me);
    if (config.isVoter(me) && before && after && before.host === after.host && before.quorumPort === after.quorumPort) return me;
    let candidates = [...acks].filter((sid) => sid !== me && config.isVoter(sid)).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    if (candidates.length === 0) return me;
    let best = candidates[0];
    for (const p of this.outstanding) {
      if (p.zxid <= zxid) continue;
      candidates = candidates.filter((sid) => p.acks.has(sid));
      if (candidates.length === 0) break;
      best = candidates[0];
      if (candidates.length === 1) break;
    }
    return best;
  }

  // ---- plumbing -----------------------------------------------------------

  private phaseText(): string {
    return { discovery: 'the new epoch', epochAck: 'epoch acks', newLeaderAck: 'NEWLEADER acks', broadcast: '', ended: '' }[this.phase];
  }

  private send(to: bigint, message: LeaderMessage): void {
    this.effects.push({ kind: 'send', to, message });
  }

  private forget(sid: bigint): void {
    this.learners.delete(sid);
    // Its acks die with the connection: on reconnect it may be TRUNCated below them (the proposals
    // come again in its sync) and it acks them again once they are durable. Kept, they could
    // commit a txn a crash of that learner then loses from a quorum.
    for (const p of this.outstanding) p.acks.delete(sid);
    // Likewise a NEWLEADER ack counts only while its learner stays with this term: once gone it may
    // accept a newer epoch and help establish it, and an old ack completing our quorum afterwards
    // would establish this epoch too (serving a history without the newer epoch's commits).
    this.newLeaderAcks.delete(sid);
    for (let i = this.pendingSyncs.length - 1; i >= 0; i--) if (this.pendingSyncs[i].sid === sid) this.pendingSyncs.splice(i, 1);
  }

  private drop(sid: bigint, reason: string): void {
    this.forget(sid);
    this.effects.push({ kind: 'drop', sid, reason });
  }

  private end(reason: string): void {
    if (this.phase === 'ended') return;
    this.phase = 'ended';
    this.endedWith = reason;
    this.outstanding = [];
    this.effects.push({ kind: 'end', reason });
  }

  private flush(): LeaderEffect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }
}

/** The config a reconfig txn (a SetDataTxn of /zookeeper/config) carries. */
export function configOfTxn(txn: TxnEntry): QuorumVerifier {
  const rec = decodeTxnBody(OpCode.reconfig, txn.body) as SetDataTxn | null;
  return parseQuorumConfigText(Buffer.from(rec?.data ?? Buffer.alloc(0)).toString('utf8'));
}
