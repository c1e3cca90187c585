/**
 * ZAB's learner side (Apache 3.8's `Learner.registerWithLeader` and
 * `syncWithLeader`, then `Follower` / `Observer` processing) as a
 * deterministic state machine: leader messages and ticks in, effects out.
 *
 * The host executes effects strictly in order and waits for each to finish
 * before the next (a serial queue; consecutive `log` effects may be merged
 * into one fsync). That order IS the durability contract, the one Apache
 * reached in 3.8.5 after losing committed txns to every other
 * (ZOOKEEPER-3911, 4643, 4646, 4785):
 *   - acceptedEpoch is persisted before ACKEPOCH;
 *   - at NEWLEADER: after a SNAP the synced tree is snapshotted, every txn
 *     received during the sync that the snapshot does not hold is appended
 *     and fsynced, THEN currentEpoch is written, THEN the ACK leaves;
 *   - a PROPOSAL is logged (fsynced) before its ACK.
 *
 * Applying: commits are applied in zxid order as they come (in memory,
 * nothing is served before UPTODATE). During a SNAP sync the applied txns
 * are dropped from the to-log list, because the snapshot written at
 * NEWLEADER holds them (as Apache's packetsNotLogged); after a DIFF or
 * TRUNC every synced txn is logged. Zxids must be increasing and, within an
 * epoch, consecutive: a gap means the leader's history has holes
 * (ZOOKEEPER-4925) and ends the role rather than logging it.
 */
import { OpCode } from '../../proto/constants';
import type { TxnEntry } from '../persist/types';
import { epochOf, makeZxid } from '../zxid';
import { parseQuorumConfigText } from './dynamic-config';
import { sameConfig, type QuorumVerifier } from './quorum-verifier';
import { configOfTxn } from './zab-leader';
import { LeaderMessage, LearnerMessage, SessionTouch, SnapshotHandle, hex } from './zab-messages';

export type LearnerEffect =
  | { kind: 'send'; message: LearnerMessage }
  | { kind: 'persistAcceptedEpoch'; epoch: bigint }
  | { kind: 'persistCurrentEpoch'; epoch: bigint }
  /** TRUNC: cut the log back to `zxid` and reload the tree from disk. */
  | { kind: 'truncate'; zxid: bigint }
  /** SNAP: replace the in-memory tree and sessions with the leader's. */
  | { kind: 'loadSnapshot'; zxid: bigint; snapshot: SnapshotHandle }
  /** Write the in-memory tree to a snapshot file (fsynced) at its last applied zxid. */
  | { kind: 'writeSnapshot' }
  /** Append and fsync. */
  | { kind: 'log'; entries: TxnEntry[] }
  /** Apply one committed txn to the tree (and answer the client, if it is ours). */
  | { kind: 'apply'; txn: TxnEntry }
  /** The leader's SYNC: answer the oldest forwarded sync. */
  | { kind: 'syncDone' }
  /** UPTODATE: start serving clients. */
  | { kind: 'serve'; epoch: bigint }
  /** The role is over: close the connection and elect again. */
  | { kind: 'end'; reason: string }
  /** A newer config was proposed (a reconfig PROPOSAL, or NEWLEADER's): the last one seen. */
  | { kind: 'lastSeenConfig'; verifier: QuorumVerifier }
  /** A config is in force from here (COMMITANDACTIVATE / INFORMANDACTIVATE, or NEWLEADER's at UPTODATE). */
  | { kind: 'activateConfig'; verifier: QuorumVerifier; designatedLeader?: bigint };

/** Why a learner's role ends when a config put in force changes its role or its leader (Apache's words). */
export const RECONFIG_CHANGED_ROLE = 'changes proposed in reconfig';

export interface ZabLearnerOptions {
  observer: boolean;
  tickTime: number;
  initLimit: number;
  syncLimit: number;
  acceptedEpoch: bigint;
  currentEpoch: bigint;
  /** The last zxid in the learner's log (what ACKEPOCH reports). */
  lastZxid: bigint;
  /** The config version the learner has (0 without reconfig). */
  configVersion?: bigint;
  /** Sessions our clients touched since the last PING (Learner.ping drains the touch table). */
  drainTouches?: () => SessionTouch[];
  /**
   * reconfigEnabled: who we are and follow, and the config in force.
   * Without it a reconfig's COMMITANDACTIVATE / INFORMANDACTIVATE only
   * commits (QuorumPeer.processReconfig is a no-op with reconfig off).
   */
  reconfig?: { myId: bigint; leaderId: bigint; verifier: QuorumVerifier; lastSeen?: QuorumVerifier };
}

type Phase = 'info' | 'ackEpoch' | 'syncing' | 'awaitUpToDate' | 'broadcast' | 'ended';

export class ZabLearner {
  private phase: Phase = 'info';
  private acceptedEpoch: bigint;
  private currentEpoch: bigint;
  private newEpoch = -1n;
  private lastHeard = 0;
  private syncMode: 'diff' | 'trunc' | 'snap' | undefined;
  /** Txns received and not yet logged (during the sync). */
  private toLog: TxnEntry[] = [];
  /** Proposals logged or to be logged, waiting for their COMMIT, in zxid order. */
  private uncommitted: TxnEntry[] = [];
  /** The last zxid received in a PROPOSAL, INFORM or sync packet. */
  private lastReceived: bigint;
  private effects: LearnerEffect[] = [];
  private endedWith?: string;
  private qv?: QuorumVerifier;
  private lastSeen?: QuorumVerifier;
  /** The config NEWLEADER carried, activated at UPTODATE. */
  private newLeaderConfig?: QuorumVerifier;

  constructor(private readonly opts: ZabLearnerOptions) {
    this.qv = opts.reconfig?.verifier;
    this.lastSeen = opts.reconfig?.lastSeen ?? this.qv;
    this.acceptedEpoch = opts.acceptedEpoch;
    this.currentEpoch = opts.currentEpoch;
    this.lastReceived = opts.lastZxid;
  }

  get state(): Phase {
    return this.phase;
  }

  get endReason(): string | undefined {
    return this.endedWith;
  }

  /** The epoch the leader announced (-1 before LEADERINFO). */
  get epoch(): bigint {
    return this.newEpoch;
  }

  /** The config in force, when reconfig is on. */
  get verifier(): QuorumVerifier | undefined {
    return this.qv;
  }

  /** Connected to the leader: introduce ourselves. */
  start(now: number): LearnerEffect[] {
    this.lastHeard = now;
    this.send({ kind: 'learnerInfo', observer: this.opts.observer, acceptedEpoch: this.acceptedEpoch, configVersion: this.opts.configVersion ?? 0n });
    return this.flush();
  }

  receive(msg: LeaderMessage, now: number): LearnerEffect[] {
    if (this.phase === 'ended') return [];
    this.lastHeard = now;
    switch (this.phase) {
      case 'info':
        if (msg.kind !== 'leaderInfo') {
          this.fail(`expected LEADERINFO, got ${msg.kind}`);
          break;
        }
        this.onLeaderInfo(msg.newEpoch);
        break;
      case 'ackEpoch':
        this.onSyncStart(msg);
        break;
      case 'syncing':
      case 'awaitUpToDate':
      case 'broadcast':
        this.onStream(msg);
        break;
    }
    return this.flush();
  }

  tick(now: number): LearnerEffect[] {
    if (this.phase === 'ended') return [];
    // Learner's socket timeout: initLimit ticks until synced, syncLimit ticks after.
    const limit = (this.phase === 'broadcast' ? this.opts.syncLimit : this.opts.initLimit) * this.opts.tickTime;
    if (now - this.lastHeard > limit) this.fail(`leader not heard from for ${now - this.lastHeard} ms`);
    return this.flush();
  }

  nextTickAt(): number {
    if (this.phase === 'ended') return Infinity;
    const limit = (this.phase === 'broadcast' ? this.opts.syncLimit : this.opts.initLimit) * this.opts.tickTime;
    return this.lastHeard + limit + 1;
  }

  /** Ends the role from outside (connection lost, store failure, closing). */
  abandon(reason: string): LearnerEffect[] {
    this.fail(reason);
    return this.flush();
  }

  private onLeaderInfo(newEpoch: bigint): void {
    this.newEpoch = newEpoch;
    if (newEpoch > this.acceptedEpoch) {
      this.effects.push({ kind: 'persistAcceptedEpoch', epoch: newEpoch });
      this.acceptedEpoch = newEpoch;
      this.send({ kind: 'ackEpoch', lastZxid: this.lastReceived, currentEpoch: this.currentEpoch });
    } else if (newEpoch === this.acceptedEpoch) {
      this.send({ kind: 'ackEpoch', lastZxid: this.lastReceived, currentEpoch: -1n });
    } else {
      this.fail(`leader's epoch ${newEpoch} is less than our accepted epoch ${this.acceptedEpoch}`);
      return;
    }
    this.phase = 'ackEpoch';
  }

  private onSyncStart(msg: LeaderMessage): void {
    switch (msg.kind) {
      case 'diff':
        this.syncMode = 'diff';
        break;
      case 'trunc':
        if (msg.zxid > this.lastReceived) {
          this.fail(`TRUNC to ${hex(msg.zxid)} is past our last zxid ${hex(this.lastReceived)}`);
          return;
        }
        this.syncMode = 'trunc';
        this.effects.push({ kind: 'truncate', zxid: msg.zxid });
        this.lastReceived = msg.zxid;
        break;
      case 'snap':
        this.syncMode = 'snap';
        this.effects.push({ kind: 'loadSnapshot', zxid: msg.zxid, snapshot: msg.snapshot });
        this.lastReceived = msg.zxid;
        break;
      default:
        // Java learners exit here; we only end the role and elect again.
        this.fail(`first sync packet was ${msg.kind}, not DIFF, TRUNC or SNAP`);
        return;
    }
    this.phase = 'syncing';
  }

  private onStream(msg: LeaderMessage): void {
    switch (msg.kind) {
      case 'proposal':
        // Observers get the sync's PROPOSAL/COMMIT pairs, then only INFORMs.
        if (this.opts.observer && this.phase !== 'syncing') return void this.fail('an observer got a PROPOSAL');
        if (!this.accept(msg.txn)) return;
        this.uncommitted.push(msg.txn);
        if (msg.txn.header.type === OpCode.reconfig) this.seen(() => configOfTxn(msg.txn));
        if (this.phase === 'syncing') this.toLog.push(msg.txn);
        else {
          this.effects.push({ kind: 'log', entries: [msg.txn] });
          this.send({ kind: 'ack', zxid: msg.txn.header.zxid });
        }
        return;
      case 'commit':
        return this.onCommit(msg.zxid);
      case 'commitAndActivate': {
        // Follower / Learner.syncWithLeader: the config of the pending reconfig is in force, then it commits.
        const head = this.uncommitted[0];
        let change = false;
        if (head && head.header.zxid === msg.zxid && head.header.type === OpCode.reconfig) {
          change = this.activate(() => configOfTxn(head), msg.designatedLeader);
        }
        this.onCommit(msg.zxid);
        if (change) this.fail(RECONFIG_CHANGED_ROLE);
        return;
      }
      case 'informAndActivate': {
        if (!this.opts.observer) return void this.fail('a follower got an INFORMANDACTIVATE');
        if (this.phase !== 'broadcast' && this.phase !== 'awaitUpToDate') return void this.fail('INFORMANDACTIVATE during sync');
        if (!this.accept(msg.txn)) return;
        this.effects.push({ kind: 'log', entries: [msg.txn] }, { kind: 'apply', txn: msg.txn });
        if (msg.txn.header.type === OpCode.reconfig && this.activate(() => configOfTxn(msg.txn), msg.designatedLeader)) {
          this.fail(RECONFIG_CHANGED_ROLE);
        }
        return;
      }
      case 'inform':
        if (!this.opts.observer) return void this.fail('a follower got an INFORM');
        if (this.phase !== 'broadcast' && this.phase !== 'awaitUpToDate') return void this.fail('INFORM during sync');
        if (!this.accept(msg.txn)) return;
        this.effects.push({ kind: 'log', entries: [msg.txn] }, { kind: 'apply', txn: msg.txn });
        return;
      case 'newLeader':
        if (msg.config.length > 1) this.seen(() => (this.newLeaderConfig = parseQuorumConfigText(msg.config)));
        return this.onNewLeader(msg.zxid);
      case 'upToDate':
        if (this.phase !== 'awaitUpToDate') return void this.fail(`UPTODATE while ${this.phase}`);
        if (this.newLeaderConfig) {
          const qv = this.newLeaderConfig;
          if (this.activate(() => qv, undefined)) return void this.fail(RECONFIG_CHANGED_ROLE);
        }
        this.phase = 'broadcast';
        this.send({ kind: 'ack', zxid: makeZxid(this.newEpoch, 0n) });
        this.effects.push({ kind: 'serve', epoch: this.newEpoch });
        return;
      case 'ping':
        // Only once synced (Follower.processPacket): Apache's syncWithLeader skips PINGs, and an Apache
        // leader takes the packet after NEWLEADER for its ACK, dropping a learner that pings there.
        if (this.phase === 'broadcast') this.send({ kind: 'ping', zxid: msg.zxid, touches: this.opts.drainTouches?.() ?? [] });
        return;
      case 'sync':
        // In order with the applies before it: the forwarded sync is answered after them.
        this.effects.push({ kind: 'syncDone' });
        return;
      default:
        return void this.fail(`unexpected ${msg.kind} while ${this.phase}`);
    }
  }

  private onCommit(zxid: bigint): void {
    if (this.opts.observer && this.phase !== 'syncing') return void this.fail('an observer got a COMMIT');
    const head = this.uncommitted[0];
    // FollowerZooKeeperServer.commit: a COMMIT must be for the oldest pending proposal.
    if (!head || head.header.zxid !== zxid) {
      return void this.fail(`COMMIT ${hex(zxid)} is not for the oldest pending proposal ${head ? hex(head.header.zxid) : '(none)'}`);
    }
    this.uncommitted.shift();
    if (this.phase === 'syncing' && this.syncMode === 'snap') {
      // The snapshot written at NEWLEADER will hold it.
      const i = this.toLog.indexOf(head);
      if (i >= 0) this.toLog.splice(i, 1);
    }
    this.effects.push({ kind: 'apply', txn: head });
  }

  private onNewLeader(zxid: bigint): void {
    if (this.phase !== 'syncing') return void this.fail(`NEWLEADER while ${this.phase}`);
    if (zxid !== makeZxid(this.newEpoch, 0n)) return void this.fail(`NEWLEADER ${hex(zxid)} is not epoch ${this.newEpoch}'s`);
    if (this.syncMode === 'snap') this.effects.push({ kind: 'writeSnapshot' });
    if (this.toLog.length > 0) this.effects.push({ kind: 'log', entries: this.toLog });
    this.toLog = [];
    this.effects.push({ kind: 'persistCurrentEpoch', epoch: this.newEpoch });
    this.currentEpoch = this.newEpoch;
    this.send({ kind: 'ack', zxid });
    // The proposals still pending (a late joiner gets the leader's outstanding ones before NEWLEADER)
    // are logged now: ack them, as Apache does after the sync. Without these acks a leader that needs
    // this follower for its quorum never commits them, nor anything after them.
    if (!this.opts.observer) for (const t of this.uncommitted) this.send({ kind: 'ack', zxid: t.header.zxid });
    this.phase = 'awaitUpToDate';
  }

  // ---- reconfig (QuorumPeer.setLastSeenQuorumVerifier / processReconfig) ----

  /** A config proposed: the last seen when newer. A config that does not parse ends the role. */
  private seen(config: () => QuorumVerifier): void {
    if (!this.opts.reconfig) return;
    let qv: QuorumVerifier;
    try {
      qv = config();
    } catch (e) {
      return void this.fail(`a config from the leader does not parse: ${(e as Error).message}`);
    }
    if (this.lastSeen && qv.version <= this.lastSeen.version) return;
    this.lastSeen = qv;
    this.effects.push({ kind: 'lastSeenConfig', verifier: qv });
  }

  /**
   * processReconfig: a newer config is in force; true when that changes our
   * role (observer <-> participant) or our leader (the designated one, or
   * without one, ours is gone from the voters or moved), which ends the role.
   * A follower the config no longer lists stays with its leader as a
   * non-voting follower; an observer it no longer lists ends its role and
   * follows (updateLearnerType: "Becoming a non-voting participant"), as in
   * Apache. The peer takes the next role without an election (reconfigFlag).
   */
  private activate(config: () => QuorumVerifier, designated: bigint | undefined): boolean {
    const r = this.opts.reconfig;
    if (!r || !this.qv) return false;
    let qv: QuorumVerifier;
    try {
      qv = config();
    } catch (e) {
      this.fail(`a config from the leader does not parse: ${(e as Error).message}`);
      return false;
    }
    const prev = this.qv;
    if (qv.version <= prev.version) return false;
    this.qv = qv;
    if (!this.lastSeen || qv.version > this.lastSeen.version) this.lastSeen = qv;
    this.effects.push({ kind: 'activateConfig', verifier: qv, designatedLeader: designated });
    if (sameConfig(prev, qv)) return false;
    const mine = qv.servers.get(r.myId);
    const roleChange = mine ? (mine.type === 'observer') !== this.opts.observer : this.opts.observer;
    let leaderChange: boolean;
    if (designated !== undefined) leaderChange = designated !== r.leaderId;
    else {
      const before = prev.isVoter(r.leaderId) ? prev.servers.get(r.leaderId) : undefined;
      const after = qv.isVoter(r.leaderId) ? qv.servers.get(r.leaderId) : undefined;
      leaderChange = !before || !after || before.host !== after.host || before.quorumPort !== after.quorumPort;
    }
    return roleChange || leaderChange;
  }

  /** Zxids only go up, one at a time within an epoch. */
  private accept(txn: TxnEntry): boolean {
    const z = txn.header.zxid;
    const last = this.lastReceived;
    const ok = z > last && (epochOf(z) !== epochOf(last) || z === last + 1n);
    if (!ok) this.fail(`txn ${hex(z)} does not follow ${hex(last)}`);
    else this.lastReceived = z;
    return ok;
  }

  private send(message: LearnerMessage): void {
    this.effects.push({ kind: 'send', message });
  }

  /**
   * Ends the role: queues `end` behind the effects already produced. Does not flush: the public
   * method that got here returns the batch (flushing here lost the `end` of every failure found
   * inside receive(), whose own flush then returned nothing).
   */
  private fail(reason: string): void {
    if (this.phase !== 'ended') {
      this.phase = 'ended';
      this.endedWith = reason;
      this.effects.push({ kind: 'end', reason });
    }
  }

  private flush(): LearnerEffect[] {
    const out = this.effects;
    this.effects = [];
    return out;
  }
}
