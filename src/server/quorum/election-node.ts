/**
 * One server's election, live: the FLE state machine driven by real
 * election links and a real clock. This is the only place the two meet;
 * the server (and, next, ZAB) uses it as "start an election, tell me what
 * it decided".
 *
 * Example:
 *   const node = new ElectionNode({ myId: 1n, verifier, history: () => store.electionHistory() });
 *   node.on('decided', (d) => startZab(d.state, d.vote));
 *   await node.start();
 */
import { EventEmitter } from 'events';
import { ElectionLinks, ElectionTransport } from './election-links';
import { ServerState } from './election-wire';
import { DesignatedDecision, ElectionDecision, ElectionOutput, FastLeaderElection, LocalHistory } from './fast-leader-election';
import type { QuorumVerifier } from './quorum-verifier';

export interface ElectionNodeOptions {
  myId: bigint;
  verifier: QuorumVerifier;
  /** What is durable now (last logged zxid, currentEpoch); read at the start of every round. */
  history: () => LocalHistory;
  transport?: ElectionTransport;
  logger?: (msg: string) => void;
  finalizeWaitMs?: number;
  minNotificationIntervalMs?: number;
  maxNotificationIntervalMs?: number;
  connectTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  now?: () => number;
  /** reconfigEnabled: a LOOKING server adopts a newer config from a notification (event 'config'). */
  adoptNewerConfigs?: boolean;
}

/** What the node acts on: a round's decision, or the leader a reconfig designated. */
export type NodeDecision = ElectionDecision | DesignatedDecision;

/** Events: 'decided' (NodeDecision), 'lookingPeer' (sid: bigint), 'config' (QuorumVerifier: adopted from a notification, to be put in force). */
export class ElectionNode extends EventEmitter {
  readonly fle: FastLeaderElection;
  readonly links: ElectionLinks;
  private timer?: NodeJS.Timeout;
  private closed = false;
  private readonly now: () => number;
  private readonly log: (msg: string) => void;
  private lastDecision?: NodeDecision;

  constructor(private readonly opts: ElectionNodeOptions) {
    super();
    this.now = opts.now ?? Date.now;
    this.log = opts.logger ?? (() => undefined);
    this.fle = new FastLeaderElection({
      myId: opts.myId,
      verifier: opts.verifier,
      finalizeWaitMs: opts.finalizeWaitMs,
      minNotificationIntervalMs: opts.minNotificationIntervalMs,
      maxNotificationIntervalMs: opts.maxNotificationIntervalMs,
      history: opts.history(),
      adoptNewerConfigs: opts.adoptNewerConfigs,
    });
    this.links = new ElectionLinks({
      myId: opts.myId,
      verifier: opts.verifier,
      transport: opts.transport,
      logger: opts.logger,
      connectTimeoutMs: opts.connectTimeoutMs,
      handshakeTimeoutMs: opts.handshakeTimeoutMs,
      onNotification: (from, n) => {
        if (!this.closed) this.apply(this.fle.step(from, n, this.now()));
      },
    });
  }

  /** The state the election left us in (LOOKING while a round runs). */
  get state(): ServerState {
    return this.fle.state;
  }

  /** The last decision, if any round has ended. */
  get decision(): NodeDecision | undefined {
    return this.lastDecision;
  }

  /** Listens on the election port and starts the first round. */
  async start(): Promise<void> {
    await this.links.start();
    this.lookForLeader();
  }

  /** Starts a new round (ZAB lost its leader or its quorum). */
  lookForLeader(): void {
    if (this.closed) return;
    this.lastDecision = undefined;
    const h = this.opts.history();
    this.log(`election: new round, my id ${this.opts.myId}, last zxid 0x${h.lastLoggedZxid.toString(16)}, epoch ${h.currentEpoch}`);
    this.apply(this.fle.lookForLeader(this.now(), h));
  }

  /**
   * Takes the role a committed reconfig designated, without a round
   * (Apache's reconfigFlag): `leader` leads, we lead if it is us, else
   * follow or observe it. Should it not come up, ZAB's timeouts end the
   * role and the host starts a round with `lookForLeader`.
   */
  designate(leader: bigint, zxid: bigint): void {
    if (this.closed) return;
    const d = this.fle.designate(leader, zxid);
    this.lastDecision = d;
    this.log(`election skipped: ${ServerState[d.state]}, designated leader ${leader} (changes proposed in reconfig), round stays ${this.fle.round}`);
    this.emit('decided', d);
  }

  /** A new config is in force (reconfig): votes count in it, and its new members are linked. */
  setVerifier(qv: QuorumVerifier): void {
    this.links.addPeers(qv);
    this.fle.setVerifier(qv);
  }

  /** A config was proposed: its new members are linked already (QuorumPeer.connectNewPeers). */
  addPeers(qv: QuorumVerifier): void {
    this.links.addPeers(qv);
  }

  /** After ZAB synced to a new epoch (ZOOKEEPER-1732). */
  updateElectionVote(epoch: bigint): void {
    this.fle.updateElectionVote(epoch);
  }

  /** Resolves with the next decision (or the current one when already decided). */
  decided(): Promise<NodeDecision> {
    if (this.lastDecision) return Promise.resolve(this.lastDecision);
    return new Promise((resolve) => this.once('decided', resolve));
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    await this.links.close();
  }

  private apply(out: ElectionOutput): void {
    if (out.adoptedConfig) {
      // Its members are linked before the new round's notifications go out.
      this.links.addPeers(out.adoptedConfig);
      this.log(`election: a notification carried config version 0x${out.adoptedConfig.version.toString(16)}, newer than ours: adopted, new round`);
      this.emit('config', out.adoptedConfig);
    }
    for (const m of out.messages) this.links.send(m.to, m.notification);
    if (out.connectAll) this.links.connectAll();
    for (const sid of out.lookingPeers) this.emit('lookingPeer', sid);
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (out.nextTickAt !== undefined && !this.closed) {
      const wait = Math.max(0, out.nextTickAt - this.now());
      this.timer = setTimeout(() => {
        this.timer = undefined;
        if (!this.closed) this.apply(this.fle.tick(this.now()));
      }, wait);
    }
    if (out.decided) {
      this.lastDecision = out.decided;
      const v = out.decided.vote;
      this.log(`election: decided ${ServerState[out.decided.state]}, leader ${v.leader}, round ${v.electionEpoch}, zxid 0x${v.zxid.toString(16)}, peerEpoch ${v.peerEpoch}`);
      this.emit('decided', out.decided);
    }
  }
}
