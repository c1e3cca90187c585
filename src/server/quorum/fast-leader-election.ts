/**
 * Fast Leader Election (Apache ZooKeeper 3.8's `FastLeaderElection`) as a
 * deterministic state machine: no socket, no clock, no disk.
 *
 * Contract:
 * - The host calls `lookForLeader(now, { lastLoggedZxid, currentEpoch })`
 *   to start a round (at start-up, and whenever ZAB gives up on a leader).
 *   Both values must be what is durable on disk at that moment: a vote
 *   built on anything not yet fsynced can elect a leader missing committed
 *   txns (ZOOKEEPER-4643).
 * - Every notification a peer sends goes to `step(fromSid, notification, now)`;
 *   `fromSid` is the sid the election link authenticated with its initial
 *   message (the notification itself does not carry it).
 * - `tick(now)` must be called at or after `nextTickAt` of the last output
 *   (and may be called any time: it does nothing before a deadline).
 * - Each call returns one batch: notifications to send (each to one sid;
 *   the host drops those to peers it cannot reach: FLE re-sends on its own
 *   timeouts), `decided` once this round ends (the new state and vote: the
 *   host then runs ZAB as leader, follower or observer), `connectAll` when a
 *   notification timeout passed (Apache then reconnects to every peer), and
 *   `lookingPeers` (LOOKING voters that asked a non-LOOKING server: a leader
 *   reports them, `Leader.reportLookingSid`).
 * - After ZAB syncs with a new epoch, the host calls `updateElectionVote(epoch)`
 *   (ZOOKEEPER-1732) so that joiners compare the right peerEpoch.
 * - Nothing here needs to be durable: FLE state is rebuilt from the log and
 *   the epoch files by the next `lookForLeader`.
 *
 * Behaviour follows Apache's code path for path, including its quirks: a
 * message to ourselves is delivered through the same receive path; while
 * waiting `finalizeWait` for a better vote, notifications that are not
 * better are dropped and each one restarts the wait; the notification
 * timeout starts at 200 ms and doubles up to 60 s within a round; LOOKING
 * votes are equal only on (leader, zxid, electionEpoch, peerEpoch), while
 * FOLLOWING/LEADING votes compare (leader, peerEpoch), or only the leader
 * when one side has version 0. One deliberate difference: Apache re-sends
 * on a timeout only if some send queue is empty (`haveDelivered`) and
 * otherwise reconnects; we always do both and let the links drop what they
 * cannot deliver. Two more break notification storms Apache has (found by
 * the simulation, test/sim): an observer does not answer a voter's LOOKING
 * notification from an older round, and a voter answers a non-voter only
 * when that non-voter is LOOKING (see receive()). Neither changes what a
 * voter counts, so mixed ensembles with Apache behave the same.
 */
import { parseQuorumConfigText } from './dynamic-config';
import { Notification, ServerState } from './election-wire';
import type { QuorumVerifier } from './quorum-verifier';

/** Long.MIN_VALUE: a non-voter's initial leader, zxid and epoch (`getInitId`). */
export const NO_VOTE = -(2n ** 63n);

/** A vote as Apache's `Vote` holds it (state and version matter for equality). */
export interface Vote {
  leader: bigint;
  zxid: bigint;
  electionEpoch: bigint;
  peerEpoch: bigint;
  state: ServerState;
  version: number;
}

/** What the server has durably: its last logged zxid and its currentEpoch file. */
export interface LocalHistory {
  lastLoggedZxid: bigint;
  currentEpoch: bigint;
}

export interface OutgoingNotification {
  to: bigint;
  notification: Notification;
}

export interface ElectionDecision {
  state: ServerState.LEADING | ServerState.FOLLOWING | ServerState.OBSERVING;
  vote: Vote;
  /** 'round': a quorum of LOOKING votes in our round; 'join': FOLLOWING/LEADING votes (an established leader). */
  via: 'round' | 'join';
}

/**
 * A role taken without a round: the leader a committed reconfig designated
 * (QuorumPeer's reconfigFlag, see `designate`).
 */
export interface DesignatedDecision {
  state: ElectionDecision['state'];
  vote: Vote;
  via: 'designated';
}

/** One batch of effects; see the contract in the file header. */
export interface ElectionOutput {
  messages: OutgoingNotification[];
  decided?: ElectionDecision;
  connectAll: boolean;
  lookingPeers: bigint[];
  /** When tick() is next needed; undefined while not LOOKING. */
  nextTickAt?: number;
  /**
   * A notification carried a newer config while we were LOOKING (with
   * `adoptNewerConfigs`): it is the election's config from now on, and a new
   * round started under it. The host puts it in force (QuorumPeer.processReconfig).
   */
  adoptedConfig?: QuorumVerifier;
}

export interface FastLeaderElectionOptions {
  myId: bigint;
  verifier: QuorumVerifier;
  /** Apache's finalizeWait: once a quorum agrees, how long to wait for a better vote. */
  finalizeWaitMs?: number;
  /** zookeeper.fastleader.minNotificationInterval. */
  minNotificationIntervalMs?: number;
  /** zookeeper.fastleader.maxNotificationInterval. */
  maxNotificationIntervalMs?: number;
  /** What is durable at start (the initial current vote); defaults to an empty database. */
  history?: LocalHistory;
  /**
   * reconfigEnabled: a LOOKING server takes the config of a notification
   * whose version is newer than its own, and starts a new round under it
   * (Apache's WorkerReceiver). A server joining by reconfig learns the
   * ensemble's config this way. Default false.
   */
  adoptNewerConfigs?: boolean;
}

/** Apache's `Vote.equals`. */
export function votesEqual(a: Vote, b: Vote): boolean {
  if (a.state === ServerState.LOOKING || b.state === ServerState.LOOKING) {
    return a.leader === b.leader && a.zxid === b.zxid && a.electionEpoch === b.electionEpoch && a.peerEpoch === b.peerEpoch;
  }
  if ((a.version > 0) !== (b.version > 0)) return a.leader === b.leader;
  return a.leader === b.leader && a.peerEpoch === b.peerEpoch;
}

function lookingVote(leader: bigint, zxid: bigint, electionEpoch: bigint, peerEpoch: bigint): Vote {
  return { leader, zxid, electionEpoch, peerEpoch, state: ServerState.LOOKING, version: 0 };
}

/** One server's election; see the file header for the contract. */
export class FastLeaderElection {
  readonly myId: bigint;
  private verifier_: QuorumVerifier;

  /** The config the election counts votes in. */
  get verifier(): QuorumVerifier {
    return this.verifier_;
  }

  /**
   * A reconfig put a new config in force (QuorumPeer.processReconfig
   * restarts the election with it): votes count in it from the next step,
   * and notifications carry its text and version. One that does not list
   * us leaves us a non-voter that follows an established leader (Apache's
   * learnerType PARTICIPANT outside the view).
   */
  setVerifier(qv: QuorumVerifier): void {
    this.verifier_ = qv;
    this.config = qv.toString();
  }
  private readonly finalizeWait: number;
  private readonly minInterval: number;
  private readonly maxInterval: number;
  private readonly adoptNewerConfigs: boolean;
  private config: string;

  private peerState: ServerState;
  private currentVote: Vote;
  private logicalClock = 0n;
  private history: LocalHistory;
  private everDecided = false;

  // The round in progress (lookForLeader's locals in Apache).
  private inRound = false;
  private proposedLeader = -1n;
  private proposedZxid = -1n;
  private proposedEpoch = -1n;
  private recvset = new Map<bigint, Vote>();
  private outOfElection = new Map<bigint, Vote>();
  /**
   * Observers (and other non-voters) that asked while we were LOOKING: they
   * got a LOOKING vote they cannot act on, and an observer only asks again
   * after its doubling notification timeout (up to a minute). So the outcome
   * is sent to them as soon as we decide: the same notification they would
   * get by asking again, only without the wait. (Not in Apache; its
   * observers simply sit LOOKING until their next timeout.)
   */
  private waitingNonVoters = new Set<bigint>();
  private notTimeout: number;
  private pollDeadline = 0;
  private finalizing = false;
  private finalizeDeadline = 0;

  private out: ElectionOutput = FastLeaderElection.emptyOutput();
  private selfQueue: Notification[] = [];

  constructor(opts: FastLeaderElectionOptions) {
    this.myId = opts.myId;
    this.verifier_ = opts.verifier;
    // A server starts from a config that lists it; only a later one (a reconfig) may not.
    if (!this.verifier.servers.has(this.myId)) throw new RangeError(`my id ${this.myId} is not in the quorum config`);
    this.finalizeWait = opts.finalizeWaitMs ?? 200;
    this.minInterval = opts.minNotificationIntervalMs ?? 200;
    this.maxInterval = opts.maxNotificationIntervalMs ?? 60_000;
    this.notTimeout = this.minInterval;
    this.adoptNewerConfigs = opts.adoptNewerConfigs ?? false;
    this.config = this.verifier.toString();
    this.history = opts.history ?? { lastLoggedZxid: 0n, currentEpoch: 0n };
    this.peerState = ServerState.LOOKING;
    // QuorumPeer.startLeaderElection: the first current vote is for ourselves.
    this.currentVote = lookingVote(this.myId, this.history.lastLoggedZxid, 0n, this.history.currentEpoch);
  }

  private static emptyOutput(): ElectionOutput {
    return { messages: [], connectAll: false, lookingPeers: [] };
  }

  /** LOOKING, FOLLOWING, LEADING or OBSERVING. */
  get state(): ServerState {
    return this.peerState;
  }

  /** The vote the server acts on (the last decision), as sent to LOOKING peers. */
  get vote(): Vote {
    return { ...this.currentVote };
  }

  /** The current round number (`logicalclock`). */
  get round(): bigint {
    return this.logicalClock;
  }

  /** The proposal of the round in progress. */
  get proposal(): { leader: bigint; zxid: bigint; peerEpoch: bigint } {
    return { leader: this.proposedLeader, zxid: this.proposedZxid, peerEpoch: this.proposedEpoch };
  }

  private get isParticipant(): boolean {
    return this.verifier.isVoter(this.myId);
  }

  private initId(): bigint {
    return this.isParticipant ? this.myId : NO_VOTE;
  }

  private initZxid(): bigint {
    return this.isParticipant ? this.history.lastLoggedZxid : NO_VOTE;
  }

  private initEpoch(): bigint {
    return this.isParticipant ? this.history.currentEpoch : NO_VOTE;
  }

  /** Starts a new round: LOOKING, round + 1, vote for ourselves, notify every voter. */
  lookForLeader(now: number, history: LocalHistory): ElectionOutput {
    this.history = { ...history };
    // Until a first decision, the current vote is QuorumPeer's start-up vote for ourselves.
    if (!this.everDecided) this.currentVote = lookingVote(this.myId, history.lastLoggedZxid, 0n, history.currentEpoch);
    this.peerState = ServerState.LOOKING;
    this.inRound = true;
    this.recvset = new Map();
    this.outOfElection = new Map();
    this.notTimeout = this.minInterval;
    this.finalizing = false;
    this.logicalClock += 1n;
    this.updateProposal(this.initId(), this.initZxid(), this.initEpoch());
    this.sendNotifications();
    this.pollDeadline = now + this.notTimeout;
    return this.flush(now);
  }

  /** A notification from `from` (the sid its link authenticated). */
  step(from: bigint, n: Notification, now: number): ElectionOutput {
    const newer = this.newerConfigOf(n);
    if (newer) {
      // Apache's WorkerReceiver: processReconfig, then the election restarts under the new config;
      // the notification that carried it is not counted.
      this.setVerifier(newer);
      const out = this.lookForLeader(now, this.history);
      out.adoptedConfig = newer;
      return out;
    }
    this.receive(from, n, now);
    return this.flush(now);
  }

  /** The config `n` carries, when we are LOOKING, adopt configs, and it is newer than ours; a config that does not parse is ignored, as Apache logs and goes on. */
  private newerConfigOf(n: Notification): QuorumVerifier | undefined {
    if (!this.adoptNewerConfigs || this.peerState !== ServerState.LOOKING || n.version < 2 || !n.config) return undefined;
    let qv: QuorumVerifier;
    try {
      qv = parseQuorumConfigText(n.config);
    } catch {
      return undefined;
    }
    return qv.version > this.verifier.version ? qv : undefined;
  }

  /** Fires the finalize wait or the notification timeout when due. */
  tick(now: number): ElectionOutput {
    if (this.inRound && this.peerState === ServerState.LOOKING) {
      if (this.finalizing) {
        if (now >= this.finalizeDeadline) {
          this.decide(this.proposedLeader, lookingVote(this.proposedLeader, this.proposedZxid, this.logicalClock, this.proposedEpoch), 'round');
        }
      } else if (now >= this.pollDeadline) {
        this.sendNotifications();
        this.out.connectAll = true;
        this.notTimeout = Math.min(this.notTimeout * 2, this.maxInterval);
        this.pollDeadline = now + this.notTimeout;
      }
    }
    return this.flush(now);
  }

  /**
   * A committed reconfig designated `leader` and ended our role over it
   * (Apache's QuorumPeer.updateVote, then updateServerState with
   * reconfigFlag set): no round, the round counter stays, the vote becomes
   * Apache's `new Vote(leader, zxid)` (round and peerEpoch -1, the epoch
   * set by `updateElectionVote` once ZAB syncs), and the state is LEADING
   * for ourselves, else what the config in force makes us. Peers that ask
   * get it as a FOLLOWING/LEADING vote, as from an elected member.
   */
  designate(leader: bigint, zxid: bigint): DesignatedDecision {
    const state = leader === this.myId ? ServerState.LEADING : this.learningState();
    this.peerState = state;
    this.everDecided = true;
    this.inRound = false;
    this.finalizing = false;
    this.recvset = new Map();
    this.outOfElection = new Map();
    this.currentVote = lookingVote(leader, zxid, -1n, -1n);
    return { state, vote: { ...this.currentVote }, via: 'designated' };
  }

  /** After ZAB synced to `epoch`: the vote we show joiners carries the new epoch (ZOOKEEPER-1732). */
  updateElectionVote(epoch: bigint): void {
    this.currentVote = { ...this.currentVote, peerEpoch: epoch };
  }

  private flush(now: number): ElectionOutput {
    // Messages to ourselves go through the same receive path, as Apache's
    // QuorumCnxManager loops them back into its receive queue.
    let guard = 0;
    while (this.selfQueue.length > 0) {
      if (++guard > 10_000) throw new Error('FLE: self-delivery loop');
      this.receive(this.myId, this.selfQueue.shift()!, now);
    }
    const out = this.out;
    this.out = FastLeaderElection.emptyOutput();
    if (this.inRound && this.peerState === ServerState.LOOKING) {
      out.nextTickAt = this.finalizing ? this.finalizeDeadline : this.pollDeadline;
    }
    return out;
  }

  private send(to: bigint, n: Notification): void {
    if (to === this.myId) this.selfQueue.push(n);
    else this.out.messages.push({ to, notification: n });
  }

  private notification(state: ServerState, leader: bigint, zxid: bigint, electionEpoch: bigint, peerEpoch: bigint): Notification {
    return { state, leader, zxid, electionEpoch, peerEpoch, version: 2, config: this.config };
  }

  private sendNotifications(): void {
    for (const sid of this.verifier.voters()) {
      this.send(sid, this.notification(ServerState.LOOKING, this.proposedLeader, this.proposedZxid, this.logicalClock, this.proposedEpoch));
    }
  }

  private updateProposal(leader: bigint, zxid: bigint, epoch: bigint): void {
    this.proposedLeader = leader;
    this.proposedZxid = zxid;
    this.proposedEpoch = epoch;
  }

  /** Apache's totalOrderPredicate: is (newId, newZxid, newEpoch) a better leader than the current one? */
  private better(newId: bigint, newZxid: bigint, newEpoch: bigint, curId: bigint, curZxid: bigint, curEpoch: bigint): boolean {
    if (this.verifier.weight(newId) === 0) return false;
    return newEpoch > curEpoch || (newEpoch === curEpoch && (newZxid > curZxid || (newZxid === curZxid && newId > curId)));
  }

  private voteTracker(votes: Map<bigint, Vote>, vote: Vote): bigint[] {
    const acks: bigint[] = [];
    for (const [sid, v] of votes) if (votesEqual(vote, v) && this.verifier.isVoter(sid)) acks.push(sid);
    return acks;
  }

  private checkLeader(votes: Map<bigint, Vote>, leader: bigint, electionEpoch: bigint): boolean {
    if (leader !== this.myId) return votes.get(leader)?.state === ServerState.LEADING;
    return this.logicalClock === electionEpoch;
  }

  /** A configured observer observes; a voter, and a server the config does not list (Apache's learnerType PARTICIPANT: a joiner, a non-voting follower), follows. */
  private learningState(): ServerState.FOLLOWING | ServerState.OBSERVING {
    return this.verifier.servers.get(this.myId)?.type === 'observer' ? ServerState.OBSERVING : ServerState.FOLLOWING;
  }

  private decide(leader: bigint, endVote: Vote, via: 'round' | 'join'): void {
    const state = leader === this.myId ? ServerState.LEADING : this.learningState();
    this.peerState = state;
    this.everDecided = true;
    this.inRound = false;
    this.finalizing = false;
    this.currentVote = lookingVote(endVote.leader, endVote.zxid, endVote.electionEpoch, endVote.peerEpoch);
    this.out.decided = { state, vote: { ...this.currentVote }, via };
    this.recvset = new Map();
    this.outOfElection = new Map();
    const v = this.currentVote;
    for (const sid of this.waitingNonVoters) this.send(sid, this.notification(state, v.leader, v.zxid, v.electionEpoch, v.peerEpoch));
    this.waitingNonVoters.clear();
  }

  /** The receiver thread (`WorkerReceiver.run`) followed by one turn of lookForLeader's loop. */
  private receive(from: bigint, n: Notification, now: number): void {
    if (!this.verifier.isVoter(from)) {
      // Observers and unknown sids get our current vote at once; never counted.
      // Only when they are LOOKING: Apache answers any state, and a LOOKING
      // voter and an OBSERVING observer then answer each other forever.
      if (n.state !== ServerState.LOOKING) return;
      const v = this.currentVote;
      this.send(from, this.notification(this.peerState, v.leader, v.zxid, this.logicalClock, v.peerEpoch));
      if (this.peerState === ServerState.LOOKING) this.waitingNonVoters.add(from);
      return;
    }
    if (n.state < ServerState.LOOKING || n.state > ServerState.OBSERVING) return;
    if (this.peerState === ServerState.LOOKING) {
      if (this.inRound) this.loopTurn(from, n, now);
      // An observer does not answer: voters never count its notifications and
      // answer each one at once, so the two would ping-pong for as long as
      // the voters stay LOOKING in an older round (Apache does exactly that).
      if (n.state === ServerState.LOOKING && n.electionEpoch < this.logicalClock && this.isParticipant) {
        this.send(from, this.notification(ServerState.LOOKING, this.proposedLeader, this.proposedZxid, this.logicalClock, this.proposedEpoch));
      }
    } else if (n.state === ServerState.LOOKING) {
      const v = this.currentVote;
      if (this.peerState === ServerState.LEADING) this.out.lookingPeers.push(from);
      this.send(from, this.notification(this.peerState, v.leader, v.zxid, v.electionEpoch, v.peerEpoch));
    }
  }

  private loopTurn(sid: bigint, n: Notification, now: number): void {
    if (this.finalizing) {
      if (this.better(n.leader, n.zxid, n.peerEpoch, this.proposedLeader, this.proposedZxid, this.proposedEpoch)) {
        // A better vote: leave the wait and handle it as the loop would.
        this.finalizing = false;
      } else {
        this.finalizeDeadline = now + this.finalizeWait;
        return;
      }
    }
    this.pollDeadline = now + this.notTimeout;
    if (!this.verifier.isVoter(n.leader)) return;
    switch (n.state) {
      case ServerState.LOOKING: {
        if (this.initZxid() === -1n || n.zxid === -1n) return;
        if (n.electionEpoch > this.logicalClock) {
          this.logicalClock = n.electionEpoch;
          this.recvset = new Map();
          if (this.better(n.leader, n.zxid, n.peerEpoch, this.initId(), this.initZxid(), this.initEpoch())) {
            this.updateProposal(n.leader, n.zxid, n.peerEpoch);
          } else {
            this.updateProposal(this.initId(), this.initZxid(), this.initEpoch());
          }
          this.sendNotifications();
        } else if (n.electionEpoch < this.logicalClock) {
          return;
        } else if (this.better(n.leader, n.zxid, n.peerEpoch, this.proposedLeader, this.proposedZxid, this.proposedEpoch)) {
          this.updateProposal(n.leader, n.zxid, n.peerEpoch);
          this.sendNotifications();
        }
        this.recvset.set(sid, lookingVote(n.leader, n.zxid, n.electionEpoch, n.peerEpoch));
        const mine = lookingVote(this.proposedLeader, this.proposedZxid, this.logicalClock, this.proposedEpoch);
        if (this.verifier.containsQuorum(this.voteTracker(this.recvset, mine))) {
          this.finalizing = true;
          this.finalizeDeadline = now + this.finalizeWait;
        }
        return;
      }
      case ServerState.OBSERVING:
        return;
      case ServerState.FOLLOWING:
      case ServerState.LEADING: {
        const theirs: Vote = { leader: n.leader, zxid: n.zxid, electionEpoch: n.electionEpoch, peerEpoch: n.peerEpoch, state: n.state, version: n.version };
        if (n.electionEpoch === this.logicalClock) {
          this.recvset.set(sid, { ...theirs, version: 0 });
          if (this.verifier.containsQuorum(this.voteTracker(this.recvset, theirs)) && this.checkLeader(this.recvset, n.leader, n.electionEpoch)) {
            this.decide(n.leader, theirs, 'join');
            return;
          }
        }
        // Joining an established ensemble: a quorum follows n.leader and it says it leads.
        this.outOfElection.set(sid, theirs);
        if (this.verifier.containsQuorum(this.voteTracker(this.outOfElection, theirs)) && this.checkLeader(this.outOfElection, n.leader, n.electionEpoch)) {
          this.logicalClock = n.electionEpoch;
          this.decide(n.leader, theirs, 'join');
        }
        return;
      }
    }
  }
}
