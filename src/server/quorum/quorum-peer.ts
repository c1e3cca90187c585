/**
 * One ensemble member (Apache's QuorumPeer): the client-facing server, the
 * election, and a role per term, in a loop:
 *
 *   LOOKING (Fast Leader Election, votes built from what is on disk)
 *     -> LEADING   (LeaderHost: discovery, sync, broadcast)
 *     -> FOLLOWING / OBSERVING (LearnerHost)
 *   the term ends (quorum lost, leader gone, a protocol error)
 *     -> clients are dropped, in-flight writes abandoned, the tree is
 *        reloaded from disk (logged txns included: Apache's
 *        fastForwardDataBase), and the election starts over; or, when a
 *        committed reconfig changed our leader or our role (Apache's
 *        reconfigFlag), no election: straight to the designated leader's
 *        term (leading it, or following / observing it).
 *
 * The vote's (lastLoggedZxid, currentEpoch) are updated only after the
 * hosts report them durable, so a vote never claims data that a crash
 * could take away (ZOOKEEPER-4643).
 *
 * Example:
 *   const peer = await QuorumPeer.start({ myId: 1n, verifier, initLimit: 10, syncLimit: 5,
 *                                         server: { dataDir, clientPort: 2181, tickTime: 2000 } });
 *   ...
 *   await peer.close();
 */
import { FileTxnStore } from '../persist/file-store';
import { ZooKeeperServer, type QuorumReport, type ServerOptions } from '../zookeeper-server';
import { ElectionNode } from './election-node';
import type { ElectionTransport } from './election-links';
import { ServerState } from './election-wire';
import { LeaderHost } from './leader-host';
import { LearnerHost } from './learner-host';
import { removeNextConfig, writeActiveConfig, writeNextConfig } from './config-files';
import { lastSeenIsStale, sameConfig, type QuorumVerifier } from './quorum-verifier';
import { RecentLog } from './recent-log';

export interface QuorumPeerOptions {
  myId: bigint;
  verifier: QuorumVerifier;
  /** initLimit / syncLimit in ticks (zoo.cfg). */
  initLimit: number;
  syncLimit: number;
  /** The client-facing server; dataDir is required (the epochs and log must be durable). */
  server: ServerOptions & { dataDir: string };
  electionTransport?: ElectionTransport;
  logger?: (msg: string) => void;
  /** zoo.cfg reconfigEnabled (default: the server options' reconfigEnabled, else false). */
  reconfigEnabled?: boolean;
  /** The static zoo.cfg: with reconfig, the dynamic files are written beside it and it is rewritten. None: nothing written. */
  configFile?: string;
  /** The last config seen before a restart (zoo.cfg.dynamic.next), when newer than `verifier`. */
  lastSeenVerifier?: QuorumVerifier;
}

export type PeerState = 'looking' | 'leading' | 'following' | 'observing' | 'closed';

export class QuorumPeer {
  private state_: PeerState = 'looking';
  private closed = false;
  private host_?: LeaderHost | LearnerHost;
  private lastLogged: bigint;
  /** The newest logged txns, for DIFFs when this member leads (see recent-log.ts). */
  private readonly recent = new RecentLog();
  private acceptedEpoch = 0n;
  private currentEpoch = 0n;
  private readonly log: (msg: string) => void;
  readonly election: ElectionNode;
  /** The config in force and the newest one proposed (QuorumPeer's quorumVerifier / lastSeenQuorumVerifier). */
  private current: QuorumVerifier;
  private lastSeen: QuorumVerifier;
  /**
   * Apache's reconfigFlag with the vote updateVote set: a config put in force
   * changed our leader (the one it designated) or our role, and when the
   * role ends the next one is taken from it without an election.
   */
  private designated?: { leader: bigint; zxid: bigint };
  /** What `conf` prints about the quorum; a new config changes its membership and peerType. */
  private reportConf?: QuorumReport['conf'];

  private constructor(
    private readonly opts: QuorumPeerOptions,
    readonly server: ZooKeeperServer,
    private readonly store: FileTxnStore,
  ) {
    const tag = `[peer ${opts.myId}] `;
    const base = opts.logger ?? (() => undefined);
    this.log = (m) => base(tag + m);
    this.current = opts.verifier;
    this.lastSeen = opts.lastSeenVerifier && opts.lastSeenVerifier.version > opts.verifier.version ? opts.lastSeenVerifier : opts.verifier;
    this.lastLogged = server.recoveredState.lastZxid;
    this.recent.reset(server.recoveredState.txns);
    this.election = new ElectionNode({
      myId: opts.myId,
      verifier: opts.verifier,
      history: () => ({ lastLoggedZxid: this.lastLogged, currentEpoch: this.currentEpoch }),
      transport: opts.electionTransport,
      logger: this.log,
      adoptNewerConfigs: this.reconfigEnabled,
    });
    this.election.on('config', (qv: QuorumVerifier) => this.onConfig({ kind: 'activate', verifier: qv }));
  }

  static async start(opts: QuorumPeerOptions): Promise<QuorumPeer> {
    const me = opts.verifier.servers.get(opts.myId);
    // Apache's QuorumPeer.start refuses the same, in these words: a server the config in force does not
    // list (a joiner restarted before a reconfig added it, a removed one restarted) does not start.
    if (!me) throw new Error(`My id ${opts.myId} not in the peer list`);
    const server = await ZooKeeperServer.start({ ...opts.server, ensembleMember: true, serverId: Number(opts.myId) });
    const store = server.store;
    if (!(store instanceof FileTxnStore)) {
      await server.close();
      throw new Error('an ensemble member needs a file store (dataDir)');
    }
    server.setQuorumConfig(opts.verifier.toString(), opts.verifier.version);
    const peer = new QuorumPeer(opts, server, store);
    server.onZxidExhausted = () => peer.host?.stop('the zxid counter of this epoch is exhausted: a new election starts a new epoch');
    peer.reportConf = {
      initLimit: opts.initLimit,
      syncLimit: opts.syncLimit,
      electionAlg: 3,
      electionPort: me.electionPort,
      quorumPort: me.quorumPort,
      peerType: me.type === 'observer' ? 1 : 0,
      membership: opts.verifier.toString(),
    };
    server.setQuorumReport({
      conf: peer.reportConf,
      leader: () => (peer.host instanceof LeaderHost ? peer.host.stats() : undefined),
    });
    try {
      const epochs = await store.loadEpochs(server.recoveredState.lastZxid);
      peer.acceptedEpoch = epochs.acceptedEpoch;
      peer.currentEpoch = epochs.currentEpoch;
      await peer.election.start();
    } catch (e) {
      await peer.election.close().catch(() => undefined);
      await server.close().catch(() => undefined);
      throw e;
    }
    peer.run().catch((e: unknown) => peer.log(`the peer's loop failed: ${(e as Error)?.message ?? e}`));
    return peer;
  }

  get state(): PeerState {
    return this.state_;
  }

  /** The current term's host (undefined while looking). */
  get host(): LeaderHost | LearnerHost | undefined {
    return this.host_;
  }

  get myId(): bigint {
    return this.opts.myId;
  }

  /** The config in force. */
  get verifier(): QuorumVerifier {
    return this.current;
  }

  /** The newest config proposed (the one in force when none is pending). */
  get lastSeenVerifier(): QuorumVerifier {
    return this.lastSeen;
  }

  private get reconfigEnabled(): boolean {
    return this.opts.reconfigEnabled ?? this.opts.server.reconfigEnabled ?? false;
  }

  /**
   * A term's host reports a config: proposed (setLastSeenQuorumVerifier:
   * kept, `.next` written, its new members linked) or in force
   * (processReconfig: /zookeeper/config, the election's config, the dynamic
   * file and the static rewrite). File errors are logged, as Apache does.
   */
  private onConfig(c: { kind: 'lastSeen' | 'activate'; verifier: QuorumVerifier; designatedLeader?: bigint }): void {
    const qv = c.verifier;
    const file = this.opts.configFile;
    if (c.kind === 'lastSeen') {
      if (qv.version <= this.lastSeen.version) return;
      this.lastSeen = qv;
      this.election.addPeers(qv);
      if (file) {
        try {
          writeNextConfig(file, qv);
        } catch (e) {
          this.log(`cannot write the next dynamic config file: ${(e as Error).message}`);
        }
      }
      return;
    }
    if (qv.version <= this.current.version) return;
    const prev = this.current;
    this.current = qv;
    if (qv.version > this.lastSeen.version) this.lastSeen = qv;
    this.log(`config version 0x${qv.version.toString(16)} in force: ${qv.toString().replace(/\n/g, ' ')}`);
    this.server.setQuorumConfig(qv.toString(), qv.version);
    this.election.setVerifier(qv);
    const report = this.reportConf;
    if (report) {
      report.membership = qv.toString();
      // A server the config does not list (a joiner, or one a reconfig removed) is a non-voting
      // participant: Apache's updateLearnerType ("Becoming a non-voting participant").
      report.peerType = qv.servers.get(this.opts.myId)?.type === 'observer' ? 1 : 0;
    }
    if (file) {
      try {
        writeActiveConfig(file, this.opts.myId, qv, this.lastSeen);
      } catch (e) {
        this.log(`cannot write the dynamic config files: ${(e as Error).message}`);
      }
    }
    if (!sameConfig(prev, qv)) this.noteDesignated(prev, qv, c.designatedLeader);
  }

  /**
   * The end of Apache's processReconfig: a config put in force with a
   * designated leader (COMMITANDACTIVATE, INFORMANDACTIVATE, the leader's
   * own commit) sets the flag when that leader is not the one we are with
   * (updateVote) or our learner type changes (updateLearnerType); one put in
   * force without (NEWLEADER's, at UPTODATE) clears it: elect again.
   */
  private noteDesignated(prev: QuorumVerifier, qv: QuorumVerifier, designatedLeader: bigint | undefined): void {
    if (designatedLeader === undefined) {
      this.designated = undefined;
      return;
    }
    const observer = (v: QuorumVerifier) => v.servers.get(this.opts.myId)?.type === 'observer';
    const vote = this.election.fle.vote;
    if (designatedLeader !== vote.leader) this.designated = { leader: designatedLeader, zxid: qv.version };
    else if (observer(prev) !== observer(qv)) this.designated = { leader: vote.leader, zxid: vote.zxid };
  }

  /** A role starts from the last seen config: one whose reconfig txn this dataDir lost is dropped first (lastSeenIsStale). */
  private async dropStaleLastSeen(): Promise<void> {
    if (this.lastSeen.version <= this.current.version) return;
    let inHistory: boolean;
    try {
      inHistory = await this.store.loggedSinceSnapshot(this.lastSeen.version);
    } catch (e) {
      this.log(`cannot look for the txn of the last seen config 0x${this.lastSeen.version.toString(16)}, keeping it: ${(e as Error).message}`);
      return;
    }
    if (!lastSeenIsStale(this.current, this.lastSeen, inHistory)) return;
    this.log(`dropping the last seen config 0x${this.lastSeen.version.toString(16)}: its reconfig txn is not in this server's history`);
    this.lastSeen = this.current;
    const file = this.opts.configFile;
    if (file) {
      try {
        removeNextConfig(file);
      } catch (e) {
        this.log(`cannot remove the next dynamic config file: ${(e as Error).message}`);
      }
    }
  }

  private async run(): Promise<void> {
    while (!this.closed) {
      const readOnly = this.armReadOnly();
      const decision = await this.election.decided();
      clearTimeout(readOnly);
      if (this.closed) break;
      // Leaving read-only mode: its clients and local sessions go before the new role starts.
      this.server.stopServing('a leader was elected');
      await this.dropStaleLastSeen();
      const leaderSid = decision.vote.leader;
      let reason: string;
      try {
        reason = decision.state === ServerState.LEADING ? await this.lead() : await this.follow(leaderSid, decision.state === ServerState.OBSERVING);
      } catch (e) {
        reason = `role failed: ${(e as Error).message}`;
      }
      const host = this.host_;
      this.host_ = undefined;
      this.state_ = this.closed ? 'closed' : 'looking';
      this.log(`role ended: ${reason}`);
      this.server.stopServing(reason);
      if (host) await host.settled();
      if (this.closed) break;
      try {
        // The tree becomes what is on disk (the next vote claims only that): by applying what was
        // logged on top of it when the term left the two consistent, else by reading the disk again.
        const logged = host?.fastForwardEntries() ?? null;
        if (logged) this.server.fastForward(logged);
        else {
          await this.server.reload();
          this.lastLogged = this.server.recoveredState.lastZxid;
          this.recent.reset(this.server.recoveredState.txns);
        }
      } catch (e) {
        this.log(`cannot reload the data after the role ended, stopping: ${(e as Error).message}`);
        void this.close();
        break;
      }
      const designated = this.designated;
      this.designated = undefined;
      if (designated) {
        // Apache's updateServerState: a role a reconfig ended goes straight to the leader it designated
        // (or to ours in the new role); if that leader does not come up, the role's timeouts end it
        // and, the flag consumed here, the next turn elects.
        this.election.designate(designated.leader, designated.zxid);
      } else {
        // Also when the config in force does not list us (a joiner not added yet, or a server a reconfig
        // removed): the election then votes for nobody and follows the established leader as a
        // non-voting follower that serves its clients, until a reconfig adds it (Apache's QuorumPeer,
        // learnerType PARTICIPANT outside the view).
        this.election.lookForLeader();
      }
    }
  }

  /**
   * readonlymode.enabled: still LOOKING after max(2 s, tickTime), the member
   * serves read-only clients until an election ends (QuorumPeer's roZkMgr).
   */
  private armReadOnly(): NodeJS.Timeout | undefined {
    if (!this.opts.server.readOnlyModeEnabled) return undefined;
    const t = setTimeout(() => {
      if (!this.closed && this.election.decision === undefined) this.server.serveReadOnly();
    }, Math.max(2000, this.server.tickTime));
    t.unref();
    return t;
  }

  private common() {
    const o = this.opts;
    return {
      myId: o.myId,
      server: this.server,
      store: this.store,
      tickTime: this.server.tickTime,
      initLimit: o.initLimit,
      syncLimit: o.syncLimit,
      acceptedEpoch: this.acceptedEpoch,
      currentEpoch: this.currentEpoch,
      lastLoggedZxid: this.lastLogged,
      recent: this.recent,
      onDurable: (d: { lastLoggedZxid?: bigint; acceptedEpoch?: bigint; currentEpoch?: bigint }) => {
        if (d.lastLoggedZxid !== undefined) this.lastLogged = d.lastLoggedZxid;
        if (d.acceptedEpoch !== undefined) this.acceptedEpoch = d.acceptedEpoch;
        if (d.currentEpoch !== undefined) this.currentEpoch = d.currentEpoch;
      },
      // ZOOKEEPER-1732: a joiner compares the epoch we serve in, not the one we were elected with.
      onServing: (epoch: bigint) => this.election.updateElectionVote(epoch),
      reconfigEnabled: this.reconfigEnabled,
      verifier: this.current,
      lastSeenVerifier: this.lastSeen,
      onConfig: (c: { kind: 'lastSeen' | 'activate'; verifier: QuorumVerifier; designatedLeader?: bigint }) => this.onConfig(c),
      log: this.log,
    };
  }

  private lead(): Promise<string> {
    const me = this.current.servers.get(this.opts.myId)!;
    this.state_ = 'leading';
    const host = new LeaderHost({
      ...this.common(),
      verifier: this.current,
      host: me.host,
      port: me.quorumPort,
    });
    this.host_ = host;
    return host.run();
  }

  private follow(leaderSid: bigint, observer: boolean): Promise<string> {
    const leader = this.current.servers.get(leaderSid) ?? this.lastSeen.servers.get(leaderSid);
    if (!leader) return Promise.resolve(`elected leader ${leaderSid} is not in the configuration`);
    this.state_ = observer ? 'observing' : 'following';
    const host = new LearnerHost({ ...this.common(), leader, observer });
    this.host_ = host;
    return host.run();
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.host_?.stop('closing');
    await this.election.close();
    // The loop ends at its next step; the server's close waits for in-flight work.
    await this.server.close();
    this.state_ = 'closed';
  }
}
