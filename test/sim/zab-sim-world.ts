/**
 * A seeded, in-memory world for the ZAB machines (src/server/quorum/zab-leader.ts,
 * zab-learner.ts), in two parts:
 *  - `ZabCluster`: the servers, disks, hosts and quorum links, shared by the
 *    ZAB simulation below and the whole-ensemble simulation
 *    (ensemble-sim-world.ts). Who leads and what is proposed is the caller's:
 *    the leader choice is pluggable.
 *  - `runZabSim`: the ZAB simulation, with an election oracle and synthetic
 *    txns.
 *
 * The cluster: N servers (voters plus observers) on a simulated clock, each with
 *   - DISK: txn log, acceptedEpoch, currentEpoch, snapshots (a snapshot is
 *     the applied history, as txn ids, at a zxid, plus the caller's state
 *     machine copy, `SimApp`). Only completed writes are on it: a crash
 *     loses the write in flight and everything queued.
 *   - MEMORY: the applied history (the "tree": txn ids, and the caller's
 *     state machine), the role and its machine.
 *
 * Hosts execute effects per the machines' header contracts:
 *   - learner: one serial queue; every effect waits for the previous one;
 *     disk effects (persist*, log, truncate, writeSnapshot) complete after a
 *     random fsync delay; a run of `log` effects (with the ACK sends and
 *     applies between them) shares one fsync, everything in it running after
 *     the fsync (group commit; without it an observer falls behind for good);
 *   - leader: one queue where persistAcceptedEpoch / persistCurrentEpoch
 *     block later effects until durable; `log` goes to a separate log writer
 *     (serial fsyncs, all queued entries in one) and its completion calls
 *     logged(lastZxid).
 * Faults: random crashes (memory and every unfinished write lost), "point"
 * crashes armed a few ms after an ACK / ACKEPOCH leaves or a leader starts
 * serving (the narrow windows of ZOOKEEPER-4643/4646), broken links,
 * partitions, fsync stalls, slow messages, background snapshots.
 * Messages go over per-learner links, in order per direction, with random
 * delays. A link breaks (fault, partition, crash, `drop`, `end`): both
 * machines are told (leader.disconnected, learner.abandon) and what is in
 * flight on it is lost. A learner's forwarded client request (`request`)
 * travels on its link like any other packet (lost with it).
 *
 * Each server may run on its own clock (`SimClock`: skew and offset): the
 * machines only ever see that server's local time.
 *
 * Host choices the machines leave open (documented here because a bug could
 * hide in them): a server starts each role from its DISK (memory is
 * reloaded: snapshot + the log after it), and only once its disk queues are
 * drained; the leader's committedLog is the log after its newest snapshot
 * (what Apache replays into ZKDatabase.committedLog); a leader's host
 * applies proposals to memory at `committed`; captureSnapshot copies the
 * leader's memory.
 *
 * Invariants (violations collected with the seed):
 *  - a leader serving an epoch holds every txn acknowledged so far (the
 *    acknowledged history is a prefix of its history), one leader per epoch;
 *  - acknowledged histories never diverge (each `committed` extends them);
 *  - every apply is the next zxid of that memory (no repeat, no reorder,
 *    no gap within an epoch) and, on a learner, keeps its memory a prefix
 *    of its leader's history;
 *  - disk logs are appended in zxid order; a TRUNC lands exactly on its zxid;
 *  - a learner's SYNC completes only after it applied every proposal the
 *    leader made before the sync was requested;
 *  - every commit, and every leader's start of service (NEWLEADER), had acks
 *    (as the harness saw them, not as the machine counted them) from a
 *    strict majority of the voters of each config it needed (the one in
 *    force, and a pending one): a server a config excludes never counts in
 *    its quorum;
 *  - at the end (`finalChecks`, once everything healed and synced): every
 *    acknowledged txn is in every server's memory and disk history, and all
 *    histories are prefixes of the final leader's; (`configChecks`) every
 *    config that was in force anywhere was committed.
 *
 * With reconfigEnabled each server keeps its config in force and its last
 * seen one on disk (the peer's dynamic files, written in order with the
 * effects) and starts each role from them; `activateConfig` decides its next
 * role (observer, participant, or non-voting follower when not listed).
 *
 * The ZAB simulation (`runZabSim`):
 *
 * Leader choice emulates FLE's outcome (an oracle; ensemble-sim-world.ts
 * runs the real FLE machine instead): looking servers first adopt the
 * newest config in force in their component (FLE's adoption from
 * notifications), then among the looking voters of that config in a
 * connected component that can form a quorum, a random quorum-sized (or
 * larger) subset elects its member with the highest (currentEpoch, last
 * zxid, sid) from disk; the rest of that subset follow. Looking servers in a
 * component with a leader join it (late joiners, observers). A machine's
 * `end` sends its server back to looking.
 *
 * Txns are synthetic (an id per txn, no payload) and proposed directly at
 * the serving leader; clients keep at most ~100 txns in flight.
 *
 * With `membership`, a joiner (outside the initial config) follows as a
 * non-voting member, and during the faults the serving leader proposes
 * reconfigs (real reconfig txns, from a stream of their own): add a voter,
 * remove one (the leader too), promote an observer, demote a voter.
 *
 * At the end (faults stopped, everything healed and restarted): a leader
 * serves with every server synced, a new proposal commits and reaches every
 * server within bounded time (liveness); then every acknowledged txn is in
 * every server's memory and disk history, and all histories are prefixes of
 * the final leader's.
 */
import { JuteWriter } from '../../src/jute';
import { TxnHeader } from '../../src/proto';
import { OpCode } from '../../src/proto/constants';
import { SetDataTxn } from '../../src/proto/generated/txn';
import { TxnLogWalk } from '../../src/server/persist/file-store';
import type { TxnEntry, TxnLogPosition } from '../../src/server/persist/types';
import { lastSeenIsStale, MajorityQuorum, QuorumServer, QuorumVerifier } from '../../src/server/quorum/quorum-verifier';
import { LeaderEffect, ZabLeader } from '../../src/server/quorum/zab-leader';
import { LearnerEffect, ZabLearner } from '../../src/server/quorum/zab-learner';
import { LeaderMessage, LearnerMessage, hex } from '../../src/server/quorum/zab-messages';
import { ZxidSource } from '../../src/server/request/commit-path';
import { epochOf, makeZxid } from '../../src/server/zxid';
import { Rng, SimOptions } from './election-sim';
import { EventQueue } from './event-queue';

export const TICK = 100;
export const INIT_LIMIT = 10;
export const SYNC_LIMIT = 5;

export interface ZabSimStats {
  events: number;
  crashes: number;
  linkBreaks: number;
  partitions: number;
  elections: number;
  established: number;
  proposed: number;
  acknowledged: number;
  diffs: number;
  truncs: number;
  snaps: number;
  lateJoins: number;
  syncs: number;
  roleEnds: number;
  /** Quiet-phase leader restarts because learners had accepted a newer epoch than it serves (see forceReelectionIfStuck). */
  forcedReelections: number;
  /** DIFFs whose txns came from a leader's txn log on disk (older than its committed log). */
  logSyncs: number;
  /**
   * Membership changes proposed (runZabSim's `membership`), and those the proposing leader
   * committed (the others in force came with a later leader's NEWLEADER).
   */
  reconfigs: number;
  reconfigsCommitted: number;
  /** Reconfigs that went into force, by kind of change (a leader removing itself hands over). */
  joins: number;
  removals: number;
  leaderRemovals: number;
  promotions: number;
  demotions: number;
}

export interface FaultProfile {
  minDelay: number;
  maxDelay: number;
  longDelayRate: number;
  fsyncMax: number;
  fsyncStallRate: number;
  crashEveryMs: number;
  linkBreakEveryMs: number;
  partitionEveryMs: number;
  clientEveryMs: number;
  committedLogLimit: number;
  snapshotEveryMs: number;
  /** Chance that a server crashes a few ms after an epoch write, a NEWLEADER ACK or (leader) serving: the narrow windows. */
  pointCrashRate: number;
  /**
   * reconfigEnabled on every machine: each new leader versions the config
   * (ZOOKEEPER-1783), NEWLEADER needs a quorum of both configs, learners
   * activate it at UPTODATE. Not drawn from the seed (the seeds' scenarios
   * stay as they were); runZabSim's `reconfigEnabled` sets it.
   */
  reconfigEnabled?: boolean;
  /**
   * Leaders sync a learner older than their committed log from the txn log
   * on disk (Apache's snapshotSizeFactor >= 0, no size limit): the lookup
   * queued behind the leader's appends, the DIFF's txns read from the disk
   * log when sent. Not drawn from the seed; runZabSim's `txnLogSync` sets it.
   */
  txnLogSync?: boolean;
}

/** A seed's fault profile for the quorum links, disks and crashes. */
export function pickZabFaults(rng: Rng): FaultProfile {
  return {
    minDelay: rng.int(0, 3),
    maxDelay: rng.pick([5, 20, 60]),
    longDelayRate: rng.pick([0, 0.005, 0.03]),
    fsyncMax: rng.pick([2, 15, 40]),
    fsyncStallRate: rng.pick([0, 0.01, 0.05]),
    crashEveryMs: rng.pick([0, 400, 1200, 3000]),
    linkBreakEveryMs: rng.pick([0, 500, 2000]),
    partitionEveryMs: rng.pick([0, 1500, 5000]),
    clientEveryMs: rng.pick([10, 40, 120]),
    committedLogLimit: rng.pick([3, 10, 500]),
    snapshotEveryMs: rng.pick([0, 300, 2000]),
    pointCrashRate: rng.pick([0, 0.05, 0.2]),
  };
}

/**
 * The replicated state machine a world keeps in each server's memory next
 * to the txn ids (the ZAB simulation keeps none). `apply` must be
 * deterministic: every server applies the same txns in the same order.
 */
export interface SimApp<T> {
  init(): T;
  apply(state: T, txn: TxnEntry): void;
  copy(state: T): T;
}

export const noApp: SimApp<null> = { init: () => null, apply: () => undefined, copy: () => null };

/** A server's local clock: `local(t)` for global time t; `global(l)`: the first global time whose local time is >= l. */
export interface SimClock {
  local(t: number): number;
  global(local: number): number;
}

export const exactClock: SimClock = { local: (t) => t, global: (l) => l };

export interface Snapshot<T = unknown> {
  zxid: bigint;
  hist: number[];
  app: T;
}

export interface Disk<T = unknown> {
  log: TxnEntry[];
  acceptedEpoch: bigint;
  currentEpoch: bigint;
  /** Ascending by zxid; the empty one at 0 is always there. */
  snapshots: Snapshot<T>[];
  /**
   * The config in force and the last one seen (zoo.cfg.dynamic.<version>
   * and .next): written in order with the host's effects, as the peer
   * does, and kept across crashes. Only read with reconfigEnabled.
   */
  config: QuorumVerifier;
  nextConfig: QuorumVerifier;
}

interface Task {
  label: string;
  disk: boolean;
  run: () => void;
}

export interface LeaderRole {
  kind: 'leader';
  gen: number;
  m: ZabLeader;
  /** The leader's memory history (shared with the server's while it lives). */
  hist: number[];
  serving: boolean;
  zxids?: ZxidSource;
  proposed: Map<bigint, TxnEntry>;
  tickAt: number;
  links: Map<bigint, Link>;
  /** The newest zxid in its history or proposed (what a sync must wait for). */
  lastProposed: bigint;
  /**
   * Who acked each zxid of this term (NEWLEADER's included; the leader once
   * its own log has it), and the configs each proposal needed a quorum of:
   * the harness's own count of every commit (see checkQuorum).
   */
  acks: Map<bigint, Set<bigint>>;
  quorumsOf: Map<bigint, QuorumVerifier[]>;
  /** The configs NEWLEADER needed a quorum of (in force and last seen at the start). */
  startQuorums: QuorumVerifier[];
}

export interface LearnerRole {
  kind: 'learner';
  gen: number;
  m: ZabLearner;
  leaderSid: bigint;
  leaderRole: LeaderRole;
  link: Link;
  serving: boolean;
  tickAt: number;
  /** Forwarded syncs, oldest first: the leader's last proposed zxid when each was asked. */
  syncs: bigint[];
}

export type Role = LeaderRole | LearnerRole;

export interface Link {
  id: number;
  leader: bigint;
  learner: bigint;
  alive: boolean;
  lastToLearner: number;
  lastToLeader: number;
}

export interface Server<T = unknown> {
  sid: bigint;
  observer: boolean;
  up: boolean;
  incarnation: number;
  disk: Disk<T>;
  mem: number[];
  memZxid: bigint;
  /** The world's state machine at memZxid. */
  app: T;
  role?: Role;
  lookingSince: number;
  queue: Task[];
  busy: boolean;
  logQueue: Task[];
  logBusy: boolean;
}

/** A learner's forwarded client request, on its link to the leader (REQUEST); opaque here. */
export interface RequestMessage {
  kind: 'request';
  req: unknown;
}

type ToLeader = LearnerMessage | RequestMessage;

type ClusterEvent<W> =
  | { kind: 'deliver'; link: Link; toLeader: boolean; msg: LeaderMessage | ToLeader }
  | { kind: 'diskDone'; sid: bigint; incarnation: number; log: boolean; task: Task }
  | { kind: 'tick'; sid: bigint; gen: number }
  | { kind: 'crash' }
  | { kind: 'pointCrash'; sid: bigint; incarnation: number }
  | { kind: 'restart'; sid: bigint }
  | { kind: 'linkBreak' }
  | { kind: 'partition' }
  | { kind: 'heal' }
  | { kind: 'bgSnapshot' }
  | { kind: 'forwardSync' }
  | { kind: 'quiet' }
  | { kind: 'world'; ev: W };

/** What a world hears from the hosts. */
export interface ClusterHooks<T> {
  /** A live server's role ended (or a learner never got one): it is looking now. */
  looking?(n: Server<T>, why: string): void;
  crashed?(n: Server<T>): void;
  restarted?(n: Server<T>): void;
  /** A leader's `serve` or a learner's `serve` effect ran. */
  serving?(n: Server<T>, role: Role, epoch: bigint): void;
  /** A committed txn was applied to n's memory (leader at `committed`, learner at `apply`). */
  applied?(n: Server<T>, txn: TxnEntry): void;
  /** A forwarded request reached the current leader role over a live link. */
  request?(n: Server<T>, role: LeaderRole, from: bigint, req: unknown): void;
}

export interface ClusterOptions<T> {
  voters: number;
  observers: number;
  /** Servers outside the initial config (after the observers): non-voting followers until a reconfig adds them. */
  joiners?: number;
  trace?: boolean;
  rng: Rng;
  faults: FaultProfile;
  app?: SimApp<T>;
  hooks?: ClusterHooks<T>;
  /** Per-server clocks (default: exact). */
  clocks?: Map<bigint, SimClock>;
}

/** Is `a` a prefix of `b`? */
export function isPrefix(a: readonly number[], b: readonly number[]): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function msgText(m: LeaderMessage | ToLeader): string {
  switch (m.kind) {
    case 'leaderInfo':
      return `LEADERINFO(${m.newEpoch})`;
    case 'learnerInfo':
      return `${m.observer ? 'OBSERVERINFO' : 'FOLLOWERINFO'}(${m.acceptedEpoch})`;
    case 'ackEpoch':
      return `ACKEPOCH(${hex(m.lastZxid)},${m.currentEpoch})`;
    case 'proposal':
    case 'inform':
      return `${m.kind.toUpperCase()}(${hex(m.txn.header.zxid)}#${m.txn.header.cxid})`;
    case 'ping':
    case 'diff':
    case 'trunc':
    case 'snap':
    case 'commit':
    case 'newLeader':
    case 'ack':
      return `${m.kind.toUpperCase()}(${hex(m.zxid)})`;
    default:
      return m.kind.toUpperCase();
  }
}

const byZxid = (a: Snapshot, b: Snapshot) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0);

/**
 * The cluster: servers, their hosts and the quorum links, driven by one
 * event queue; a world pushes its own events (`at`) and runs the loop (`run`).
 */
export class ZabCluster<T = null, W = never> {
  readonly qv: MajorityQuorum;
  readonly nodes = new Map<bigint, Server<T>>();
  readonly q = new EventQueue<ClusterEvent<W>>();
  readonly violations: string[] = [];
  readonly trace: string[] = [];
  readonly stats: ZabSimStats = {
    events: 0, crashes: 0, linkBreaks: 0, partitions: 0, elections: 0, established: 0, proposed: 0, acknowledged: 0,
    diffs: 0, truncs: 0, snaps: 0, lateJoins: 0, syncs: 0, roleEnds: 0, forcedReelections: 0, logSyncs: 0,
    reconfigs: 0, reconfigsCommitted: 0, joins: 0, removals: 0, leaderRemovals: 0, promotions: 0, demotions: 0,
  };
  /** Every server, joiners included, as a config line lists it (a participant unless an initial observer). */
  readonly members = new Map<bigint, QuorumServer>();
  /** Every config put in force anywhere, by version: each must be committed (configChecks). */
  readonly activated = new Map<bigint, { verifier: QuorumVerifier; sid: bigint; at: number; via: string }>();
  now = 0;
  quiet = false;
  quietSince = Infinity;
  /** zxid of each txn id, and the id each zxid was proposed with (one txn per zxid, ever). */
  readonly zxidOfId = new Map<number, bigint>();
  readonly idOfZxid = new Map<bigint, number>();
  /** The acknowledged history: the longest history any leader acknowledged (committed or established). */
  acked: number[] = [];
  readonly acknowledgedIds = new Set<number>();
  private readonly servedEpochs = new Map<bigint, bigint>();
  /** The versions of the configs serving leaders had in force (see configChecks). */
  private readonly servedConfigs = new Set<bigint>();
  private readonly rng: Rng;
  private readonly faults: FaultProfile;
  private readonly app: SimApp<T>;
  private readonly hooks: ClusterHooks<T>;
  private readonly clocks: Map<bigint, SimClock>;
  /** Partition group per server (same group: can talk). */
  private readonly group = new Map<bigint, number>();
  private nextGen = 1;
  private nextLinkId = 1;
  private nextTxnId = 1;
  private lastForced = -Infinity;

  constructor(private readonly opts: ClusterOptions<T>) {
    this.rng = opts.rng;
    this.faults = opts.faults;
    this.app = opts.app ?? (noApp as unknown as SimApp<T>);
    this.hooks = opts.hooks ?? {};
    this.clocks = opts.clocks ?? new Map();
    const servers: QuorumServer[] = [];
    const total = opts.voters + opts.observers;
    for (let i = 1; i <= total + (opts.joiners ?? 0); i++) {
      const s: QuorumServer = { sid: BigInt(i), host: '127.0.0.1', quorumPort: 2000 + i, electionPort: 3000 + i, type: i > opts.voters && i <= total ? 'observer' : 'participant' };
      this.members.set(s.sid, s);
      if (i <= total) servers.push(s);
    }
    this.qv = new MajorityQuorum(servers);
    for (const s of this.members.values()) {
      this.group.set(s.sid, 0);
      this.nodes.set(s.sid, {
        sid: s.sid,
        observer: s.type === 'observer' && this.qv.servers.has(s.sid),
        up: true,
        incarnation: 0,
        disk: { log: [], acceptedEpoch: 0n, currentEpoch: 0n, snapshots: [{ zxid: 0n, hist: [], app: this.app.init() }], config: this.qv, nextConfig: this.qv },
        mem: [],
        memZxid: 0n,
        app: this.app.init(),
        lookingSince: 0,
        queue: [],
        busy: false,
        logQueue: [],
        logBusy: false,
      });
    }
  }

  log(s: string): void {
    if (this.opts.trace) this.trace.push(`${this.now} ${s}`);
  }

  violate(s: string): void {
    this.violations.push(`t=${this.now}: ${s}`);
    this.log(`VIOLATION ${s}`);
  }

  histText(h: readonly number[]): string {
    const item = (i: number) => `${hex(this.zxidOfId.get(i)!)}#${i}`;
    return h.length > 8 ? `[...${h.slice(-8).map(item).join(',')}]` : `[${h.map(item).join(',')}]`;
  }

  /** A world event at global time `at`. */
  at(at: number, ev: W): void {
    this.q.push(at, { kind: 'world', ev });
  }

  /** This server's local time now. */
  localNow(n: Server<T>): number {
    return (this.clocks.get(n.sid) ?? exactClock).local(this.now);
  }

  /** The global time at which n's clock reads `local` (may be in the past). */
  globalAt(n: Server<T>, local: number): number {
    return (this.clocks.get(n.sid) ?? exactClock).global(local);
  }

  // ---- disk -----------------------------------------------------------------

  /** What a restart would load: the newest snapshot and the log after it. */
  loadDisk(n: Server<T>): { hist: number[]; zxid: bigint; replayed: TxnEntry[]; snap: Snapshot<T> } {
    const snap = n.disk.snapshots[n.disk.snapshots.length - 1];
    const hist = snap.hist.slice();
    const replayed: TxnEntry[] = [];
    let last = snap.zxid;
    for (const t of n.disk.log) {
      const z = t.header.zxid;
      if (z <= snap.zxid) continue;
      if (epochOf(z) === epochOf(last) && z !== last + 1n) this.violate(`server ${n.sid}'s disk has a hole: ${hex(z)} follows ${hex(last)}`);
      hist.push(this.idOf(t));
      replayed.push(t);
      last = z;
    }
    return { hist, zxid: last, replayed, snap };
  }

  /** The last zxid on n's disk (what its vote may claim). */
  diskLastZxid(n: Server<T>): bigint {
    const snap = n.disk.snapshots[n.disk.snapshots.length - 1];
    const log = n.disk.log;
    const last = log.length > 0 ? log[log.length - 1].header.zxid : -1n;
    return last > snap.zxid ? last : snap.zxid;
  }

  private reloadMemory(n: Server<T>): void {
    const d = this.loadDisk(n);
    n.mem = d.hist;
    n.memZxid = d.zxid;
    n.app = this.app.copy(d.snap.app);
    for (const t of d.replayed) this.app.apply(n.app, t);
  }

  private snapshotOf(n: Server<T>): Snapshot<T> {
    return { zxid: n.memZxid, hist: n.mem.slice(), app: this.app.copy(n.app) };
  }

  private fsyncDelay(): number {
    return this.rng.chance(this.quiet ? 0 : this.faults.fsyncStallRate) ? this.rng.int(100, 700) : this.rng.int(1, this.faults.fsyncMax);
  }

  private appendLog(n: Server<T>, entries: readonly TxnEntry[]): void {
    for (const t of entries) {
      const last = n.disk.log.length > 0 ? n.disk.log[n.disk.log.length - 1].header.zxid : -1n;
      if (t.header.zxid <= last) this.violate(`server ${n.sid} appends ${hex(t.header.zxid)} after ${hex(last)} in its log`);
      n.disk.log.push(t);
    }
  }

  idOf(t: TxnEntry): number {
    return t.header.cxid;
  }

  // ---- host queues ----------------------------------------------------------

  private enqueue(n: Server<T>, tasks: Task[]): void {
    n.queue.push(...tasks);
    this.pump(n);
  }

  private pump(n: Server<T>): void {
    while (n.up && !n.busy && n.queue.length > 0) {
      let t = n.queue.shift()!;
      if (t.disk) {
        if (t.label === 'log') {
          // Group commit, as the contract allows ("consecutive log effects may be merged into one
          // fsync"): a run of logs with the ACK sends and applies between them shares one fsync, and
          // every such send or apply still happens after it (so after its own log is durable). Without
          // it an observer (log, apply per INFORM) falls behind a busy leader for good.
          const group: Task[] = [t];
          while (n.queue.length > 0 && ['log', 'sendAck', 'apply'].includes(n.queue[0].label)) group.push(n.queue.shift()!);
          if (group.length > 1) t = { label: 'log', disk: true, run: () => group.forEach((g) => g.run()) };
        }
        n.busy = true;
        this.q.push(this.now + this.fsyncDelay(), { kind: 'diskDone', sid: n.sid, incarnation: n.incarnation, log: false, task: t });
        return;
      }
      t.run();
    }
  }

  private pumpLog(n: Server<T>): void {
    if (!n.up || n.logBusy || n.logQueue.length === 0) return;
    // The leader's log writer: everything queued goes in one append and fsync (group commit).
    const group = n.logQueue.splice(0);
    const t: Task = group.length === 1 ? group[0] : { label: 'leaderLog', disk: true, run: () => group.forEach((g) => g.run()) };
    n.logBusy = true;
    this.q.push(this.now + this.fsyncDelay(), { kind: 'diskDone', sid: n.sid, incarnation: n.incarnation, log: true, task: t });
  }

  drained(n: Server<T>): boolean {
    return !n.busy && n.queue.length === 0 && !n.logBusy && n.logQueue.length === 0;
  }

  current(n: Server<T>, role: Role): boolean {
    return n.up && n.role === role;
  }

  // ---- network --------------------------------------------------------------

  canTalk(a: bigint, b: bigint): boolean {
    return this.group.get(a) === this.group.get(b);
  }

  private msgDelay(): number {
    if (!this.quiet && this.rng.chance(this.faults.longDelayRate)) return this.rng.int(200, 900);
    return this.rng.int(this.faults.minDelay, this.faults.maxDelay);
  }

  private transmit(link: Link, toLeader: boolean, msg: LeaderMessage | ToLeader): void {
    if (!link.alive) return;
    const at = Math.max(this.now + this.msgDelay(), toLeader ? link.lastToLeader : link.lastToLearner);
    if (toLeader) link.lastToLeader = at;
    else link.lastToLearner = at;
    this.q.push(at, { kind: 'deliver', link, toLeader, msg });
  }

  /** A serving learner forwards a client request to its leader (REQUEST on its link). */
  forward(n: Server<T>, role: LearnerRole, req: unknown): void {
    if (!this.current(n, role)) return;
    this.transmit(role.link, true, { kind: 'request', req });
  }

  private breakLink(link: Link, reason: string): void {
    if (!link.alive) return;
    link.alive = false;
    this.log(`link ${link.leader}-${link.learner} broken: ${reason}`);
    const l = this.nodes.get(link.leader)!;
    if (l.up && l.role?.kind === 'leader' && l.role.links.get(link.learner) === link) {
      l.role.links.delete(link.learner);
      this.leaderEffects(l, l.role, l.role.m.disconnected(link.learner));
    }
    const f = this.nodes.get(link.learner)!;
    if (f.up && f.role?.kind === 'learner' && f.role.link === link) this.learnerEffects(f, f.role, f.role.m.abandon(`connection closed: ${reason}`));
  }

  // ---- ticks ----------------------------------------------------------------

  private scheduleTick(n: Server<T>, role: Role): void {
    const local = role.kind === 'leader' ? role.m.nextTickAt(this.localNow(n)) : role.m.nextTickAt();
    if (!Number.isFinite(local)) return;
    const at = this.globalAt(n, local);
    if (at >= role.tickAt) return;
    role.tickAt = Math.max(at, this.now);
    this.q.push(role.tickAt, { kind: 'tick', sid: n.sid, gen: role.gen });
  }

  // ---- roles ----------------------------------------------------------------

  private goLooking(n: Server<T>, why: string): void {
    this.log(`server ${n.sid} LOOKING (${why})`);
    n.role = undefined;
    n.lookingSince = this.now;
    this.stats.roleEnds++;
    this.hooks.looking?.(n, why);
  }

  startLeader(n: Server<T>): LeaderRole {
    this.reloadMemory(n);
    const d = this.loadDisk(n);
    const role: LeaderRole = {
      kind: 'leader',
      gen: this.nextGen++,
      hist: n.mem,
      serving: false,
      proposed: new Map(),
      tickAt: Infinity,
      links: new Map(),
      lastProposed: n.memZxid,
      acks: new Map(),
      quorumsOf: new Map(),
      startQuorums: [],
      m: undefined as unknown as ZabLeader,
    };
    this.dropStaleNext(n);
    const { verifier, lastSeen } = this.configsOf(n);
    role.startQuorums = lastSeen.version > verifier.version ? [verifier, lastSeen] : [verifier];
    role.m = new ZabLeader({
      myId: n.sid,
      verifier,
      lastSeenVerifier: lastSeen,
      tickTime: TICK,
      initLimit: INIT_LIMIT,
      syncLimit: SYNC_LIMIT,
      acceptedEpoch: n.disk.acceptedEpoch,
      currentEpoch: n.disk.currentEpoch,
      lastZxid: d.zxid,
      committedLog: d.replayed,
      committedLogLimit: this.faults.committedLogLimit,
      reconfigEnabled: this.faults.reconfigEnabled,
      txnLogSync: this.faults.txnLogSync,
      captureSnapshot: () => ({ zxid: n.memZxid, snapshot: this.snapshotOf(n) }),
    });
    n.role = role;
    this.log(`server ${n.sid} LEADING (accepted ${n.disk.acceptedEpoch}, current ${n.disk.currentEpoch}, last ${hex(d.zxid)})`);
    this.leaderEffects(n, role, role.m.start(this.localNow(n)));
    return role;
  }

  startLearner(n: Server<T>, leader: Server<T>, lrole: LeaderRole): void {
    this.reloadMemory(n);
    this.dropStaleNext(n);
    const link: Link = { id: this.nextLinkId++, leader: leader.sid, learner: n.sid, alive: true, lastToLeader: 0, lastToLearner: 0 };
    lrole.links.get(n.sid)?.alive && this.breakLink(lrole.links.get(n.sid)!, 'replaced');
    lrole.links.set(n.sid, link);
    const role: LearnerRole = {
      kind: 'learner',
      gen: this.nextGen++,
      leaderSid: leader.sid,
      leaderRole: lrole,
      link,
      serving: false,
      tickAt: Infinity,
      syncs: [],
      m: new ZabLearner({
        observer: n.observer,
        tickTime: TICK,
        initLimit: INIT_LIMIT,
        syncLimit: SYNC_LIMIT,
        acceptedEpoch: n.disk.acceptedEpoch,
        currentEpoch: n.disk.currentEpoch,
        lastZxid: n.memZxid,
        configVersion: this.faults.reconfigEnabled ? n.disk.config.version : undefined,
        reconfig: this.faults.reconfigEnabled ? { myId: n.sid, leaderId: leader.sid, ...this.configsOf(n) } : undefined,
      }),
    };
    n.role = role;
    this.log(`server ${n.sid} ${n.observer ? 'OBSERVING' : 'FOLLOWING'} ${leader.sid} (accepted ${n.disk.acceptedEpoch}, current ${n.disk.currentEpoch}, last ${hex(n.memZxid)})`);
    this.learnerEffects(n, role, role.m.start(this.localNow(n)));
  }

  // ---- configs (reconfigEnabled) ------------------------------------------------

  /** The config in force and the last seen one a role starts from: the server's own (its files) with reconfig, else the static one. */
  configsOf(n: Server<T>): { verifier: QuorumVerifier; lastSeen: QuorumVerifier } {
    if (!this.faults.reconfigEnabled) return { verifier: this.qv, lastSeen: this.qv };
    return { verifier: n.disk.config, lastSeen: n.disk.nextConfig };
  }

  /** The peer's dropStaleLastSeen when a role starts: a .next whose reconfig txn this server's disk lost goes. */
  private dropStaleNext(n: Server<T>): void {
    if (!this.faults.reconfigEnabled) return;
    const { config, nextConfig } = n.disk;
    const newestSnapshot = n.disk.snapshots.reduce((z, s) => (s.zxid > z ? s.zxid : z), -1n);
    const inHistory = newestSnapshot < nextConfig.version && n.disk.log.some((t) => t.header.zxid === nextConfig.version);
    if (!lastSeenIsStale(config, nextConfig, inHistory)) return;
    this.log(`server ${n.sid}: dropping the last seen config ${hex(nextConfig.version)}: its reconfig txn is not in its history`);
    n.disk.nextConfig = config;
  }

  /**
   * A config proposed (last seen) or put in force, as the peer's onConfig
   * writes it: only a newer version counts. In force, it also decides the
   * server's next role (observer when the config says so; a server it does
   * not list is a non-voting follower).
   */
  setConfig(n: Server<T>, kind: 'lastSeen' | 'activate', qv: QuorumVerifier, via = 'election'): void {
    if (qv.version > n.disk.nextConfig.version) n.disk.nextConfig = qv;
    if (kind === 'lastSeen' || qv.version <= n.disk.config.version) return;
    n.disk.config = qv;
    n.observer = qv.servers.get(n.sid)?.type === 'observer';
    if (!this.activated.has(qv.version)) this.activated.set(qv.version, { verifier: qv, sid: n.sid, at: this.now, via });
    this.log(`server ${n.sid}: config ${hex(qv.version)} in force (voters ${qv.voters().join(',')}${[...qv.servers.values()].some((s) => s.type === 'observer') ? `, observers ${[...qv.servers.values()].filter((s) => s.type === 'observer').map((s) => s.sid).join(',')}` : ''})`);
  }

  private configTask(n: Server<T>, role: Role, e: { kind: 'lastSeenConfig' | 'activateConfig'; verifier: QuorumVerifier; designatedLeader?: bigint }): Task {
    // How it came to be in force, for the reports: a leader at serve or at a commit; a learner at
    // UPTODATE (NEWLEADER's config) or at COMMITANDACTIVATE / INFORMANDACTIVATE.
    const via = role.kind === 'leader' ? (role.serving ? 'its leader committing it' : 'its leader serving') : e.designatedLeader === undefined ? "UPTODATE (NEWLEADER's config)" : 'COMMITANDACTIVATE/INFORMANDACTIVATE';
    return { label: 'config', disk: false, run: () => this.setConfig(n, e.kind === 'lastSeenConfig' ? 'lastSeen' : 'activate', e.verifier, via) };
  }

  /**
   * The harness's own count, not the machine's: the acks it saw for `zxid`
   * (the leader's own once logged) hold a strict majority of the voters of
   * each config in `quorums`. A server a config excludes (removed, or an
   * observer of it) is not counted in it.
   */
  private checkQuorum(n: Server<T>, role: LeaderRole, zxid: bigint, quorums: readonly QuorumVerifier[], what: string): void {
    const acks = role.acks.get(zxid) ?? new Set<bigint>();
    for (const qv of quorums) {
      const voters = [...qv.servers.values()].filter((s) => s.type === 'participant').map((s) => s.sid);
      const counted = voters.filter((sid) => acks.has(sid));
      if (2 * counted.length <= voters.length) {
        this.violate(`leader ${n.sid} ${what} ${hex(zxid)} with acks from {${[...acks].join(',')}}: not a quorum of config ${hex(qv.version)} (voters ${voters.join(',')})`);
      }
    }
  }

  private noteAck(role: LeaderRole, zxid: bigint, sid: bigint): void {
    let s = role.acks.get(zxid);
    if (!s) role.acks.set(zxid, (s = new Set()));
    s.add(sid);
  }

  // ---- leader host ------------------------------------------------------------

  private leaderEffects(n: Server<T>, role: LeaderRole, effects: LeaderEffect[]): void {
    const tasks: Task[] = [];
    for (const e of effects) {
      if (e.kind === 'persistAcceptedEpoch' || e.kind === 'persistCurrentEpoch') {
        tasks.push(this.persistEpoch(n, e));
        continue;
      }
      if (e.kind === 'lastSeenConfig' || e.kind === 'activateConfig') {
        tasks.push(this.configTask(n, role, e));
        continue;
      }
      switch (e.kind) {
        case 'send':
          tasks.push({
            label: 'send',
            disk: false,
            run: () => {
              if (!this.current(n, role)) return;
              const link = role.links.get(e.to);
              if (!link) return;
              const k = e.message.kind;
              if (k === 'diff') this.stats.diffs++;
              else if (k === 'trunc') this.stats.truncs++;
              else if (k === 'snap') this.stats.snaps++;
              this.log(`${n.sid} -> ${e.to}: ${msgText(e.message)}`);
              this.transmit(link, false, e.message);
            },
          });
          break;
        case 'log':
          // Not awaited: the log writer appends and fsyncs, then reports logged().
          tasks.push({
            label: 'dispatchLog',
            disk: false,
            run: () => {
              n.logQueue.push({
                label: 'leaderLog',
                disk: true,
                run: () => {
                  this.appendLog(n, e.entries);
                  for (const t of e.entries) this.noteAck(role, t.header.zxid, n.sid);
                  if (this.current(n, role)) this.leaderEffects(n, role, role.m.logged(e.entries[e.entries.length - 1].header.zxid));
                },
              });
              this.pumpLog(n);
            },
          });
          break;
        case 'serve':
          tasks.push({ label: 'serve', disk: false, run: () => this.leaderServes(n, role, e.epoch) });
          break;
        case 'findInLog':
          // Read behind the appends queued so far (the host waits for the appends started before it).
          tasks.push({
            label: 'dispatchFindInLog',
            disk: false,
            run: () => {
              n.logQueue.push({
                label: 'findInLog',
                disk: true,
                run: () => {
                  if (!this.current(n, role)) return;
                  const walk = new TxnLogWalk(e.zxid, e.through, n.disk.snapshots.map((x) => x.zxid));
                  let at: TxnLogPosition | null | undefined;
                  for (const t of n.disk.log) if ((at = walk.next(t.header.zxid)) !== undefined) break;
                  this.log(`leader ${n.sid} looked up ${hex(e.zxid)} in its log for ${e.sid}: ${at ? JSON.stringify({ found: at.found, before: hex(at.before), after: at.after && hex(at.after) }) : 'not usable'}`);
                  this.leaderEffects(n, role, role.m.logPosition(e.sid, e.zxid, at ?? null));
                },
              });
              this.pumpLog(n);
            },
          });
          break;
        case 'sendLog':
          tasks.push({
            label: 'sendLog',
            disk: true,
            run: () => {
              if (!this.current(n, role)) return;
              const link = role.links.get(e.to);
              if (!link) return;
              const txns = n.disk.log.filter((t) => t.header.zxid > e.after && t.header.zxid <= e.through);
              if (txns[txns.length - 1]?.header.zxid !== e.through) {
                // The host's stream fails the same way: the learner's link closes and it syncs again.
                this.breakLink(link, `txn log of ${n.sid} does not reach ${hex(e.through)}`);
                return;
              }
              this.stats.logSyncs++;
              this.log(`${n.sid} -> ${e.to}: ${txns.length} txns from the txn log (${hex(e.after)}..${hex(e.through)}]`);
              for (const txn of txns) {
                this.transmit(link, false, { kind: 'proposal', txn });
                this.transmit(link, false, { kind: 'commit', zxid: txn.header.zxid });
              }
            },
          });
          break;
        case 'committed':
          tasks.push({
            label: 'committed',
            disk: false,
            run: () => {
              if (!this.current(n, role)) return;
              const due = [...role.proposed.keys()].filter((z) => z <= e.zxid).sort((a, b) => (a < b ? -1 : 1));
              for (const z of due) {
                const t = role.proposed.get(z)!;
                role.proposed.delete(z);
                this.checkQuorum(n, role, z, role.quorumsOf.get(z) ?? [], 'committed');
                if (t.header.type === OpCode.reconfig) this.stats.reconfigsCommitted++;
                this.applyTo(n, t, 'leader');
                this.acknowledgedIds.add(this.idOf(t));
              }
              if (n.memZxid !== e.zxid) this.violate(`leader ${n.sid} committed ${hex(e.zxid)} but its memory is at ${hex(n.memZxid)}`);
              if (isPrefix(this.acked, role.hist)) this.acked = role.hist.slice();
              else if (!isPrefix(role.hist, this.acked)) this.violate(`leader ${n.sid}'s acknowledged history ${this.histText(role.hist)} diverges from ${this.histText(this.acked)}`);
              this.log(`leader ${n.sid} committed through ${hex(e.zxid)}`);
            },
          });
          break;
        case 'drop':
          tasks.push({
            label: 'drop',
            disk: false,
            run: () => {
              const link = role.links.get(e.sid);
              this.log(`leader ${n.sid} drops ${e.sid}: ${e.reason}`);
              if (link) this.breakLink(link, `dropped: ${e.reason}`);
            },
          });
          break;
        case 'end':
          tasks.push({
            label: 'end',
            disk: false,
            run: () => {
              if (!this.current(n, role)) return;
              this.log(`leader ${n.sid} ends: ${e.reason}`);
              for (const link of [...role.links.values()]) this.breakLink(link, 'leader ended');
              this.goLooking(n, e.reason);
            },
          });
          break;
      }
    }
    if (tasks.length > 0) this.enqueue(n, tasks);
    if (this.current(n, role)) this.scheduleTick(n, role);
  }

  private persistEpoch(n: Server<T>, e: { kind: 'persistAcceptedEpoch' | 'persistCurrentEpoch'; epoch: bigint }): Task {
    return {
      label: e.kind,
      disk: true,
      run: () => {
        if (e.kind === 'persistAcceptedEpoch') n.disk.acceptedEpoch = e.epoch;
        else n.disk.currentEpoch = e.epoch;
      },
    };
  }

  private leaderServes(n: Server<T>, role: LeaderRole, epoch: bigint): void {
    if (!this.current(n, role)) return;
    this.log(`server ${n.sid} SERVES epoch ${epoch} with history ${this.histText(role.hist)}`);
    this.stats.established++;
    const prev = this.servedEpochs.get(epoch);
    if (prev !== undefined) this.violate(`epoch ${epoch} established twice (by ${prev} and ${n.sid})`);
    this.servedEpochs.set(epoch, n.sid);
    this.servedConfigs.add(role.m.verifier.version);
    if (n.disk.currentEpoch !== epoch) this.violate(`leader ${n.sid} serves epoch ${epoch} with currentEpoch ${n.disk.currentEpoch} on disk`);
    this.noteAck(role, makeZxid(epoch, 0n), n.sid);
    this.checkQuorum(n, role, makeZxid(epoch, 0n), role.startQuorums, 'serves after NEWLEADER acks for');
    // Everything acknowledged so far must be in the new leader's history.
    if (!isPrefix(this.acked, role.hist)) {
      const missing = this.acked.filter((id) => !role.hist.includes(id));
      this.violate(`leader ${n.sid} serves epoch ${epoch} without acknowledged txns ${missing.slice(0, 5).map((i) => `${hex(this.zxidOfId.get(i)!)}#${i}`).join(',')} (acked ${this.histText(this.acked)}, its history ${this.histText(role.hist)})`);
    } else {
      this.acked = role.hist.slice();
    }
    role.serving = true;
    this.maybePointCrash(n, 'serving');
    role.zxids = new ZxidSource();
    role.zxids.startEpoch(epoch);
    this.hooks.serving?.(n, role, epoch);
  }

  // ---- learner host -----------------------------------------------------------

  private applyTo(n: Server<T>, t: TxnEntry, who: string): void {
    const z = t.header.zxid;
    const id = this.idOf(t);
    if (z <= n.memZxid) this.violate(`${who} ${n.sid} applies ${hex(z)}#${id} at or below its last applied ${hex(n.memZxid)} (twice or out of order)`);
    else if (epochOf(z) === epochOf(n.memZxid) && z !== n.memZxid + 1n) this.violate(`${who} ${n.sid} applies ${hex(z)} after ${hex(n.memZxid)}: a gap`);
    if (this.idOfZxid.get(z) !== id) this.violate(`${who} ${n.sid} applies ${hex(z)}#${id}, which was never proposed`);
    if (n.mem.includes(id)) this.violate(`${who} ${n.sid} applies #${id} twice`);
    n.mem.push(id);
    n.memZxid = z;
    this.app.apply(n.app, t);
    this.hooks.applied?.(n, t);
  }

  private learnerEffects(n: Server<T>, role: LearnerRole, effects: LearnerEffect[]): void {
    const tasks: Task[] = [];
    const who = n.observer ? 'observer' : 'follower';
    for (const e of effects) {
      if (e.kind === 'persistAcceptedEpoch' || e.kind === 'persistCurrentEpoch') {
        tasks.push(this.persistEpoch(n, e));
        continue;
      }
      if (e.kind === 'lastSeenConfig' || e.kind === 'activateConfig') {
        tasks.push(this.configTask(n, role, e));
        continue;
      }
      switch (e.kind) {
        case 'send':
          tasks.push({
            label: e.message.kind === 'ack' ? 'sendAck' : 'send',
            disk: false,
            run: () => {
              if (!this.current(n, role)) return;
              this.log(`${n.sid} -> ${role.leaderSid}: ${msgText(e.message)}`);
              this.transmit(role.link, true, e.message);
              if (e.message.kind === 'ack' || e.message.kind === 'ackEpoch') this.maybePointCrash(n, `sent ${msgText(e.message)}`);
            },
          });
          break;
        case 'truncate':
          tasks.push({
            label: 'truncate',
            disk: true,
            run: () => {
              n.disk.log = n.disk.log.filter((t) => t.header.zxid <= e.zxid);
              n.disk.snapshots = n.disk.snapshots.filter((s) => s.zxid <= e.zxid);
              this.reloadMemory(n);
              if (n.memZxid !== e.zxid && this.current(n, role)) {
                // The history on disk does not reach the TRUNC point (what was there came in a SNAP whose
                // snapshot the truncation removed): the host ends the role, as learner-host does, and the
                // next sync starts from what is really there.
                this.log(`${who} ${n.sid} truncated to ${hex(e.zxid)} but its history ends at ${hex(n.memZxid)}: ends its role`);
                n.queue.length = 0;
                this.breakLink(role.link, `${who} ended`);
                this.goLooking(n, 'truncation fell short');
              }
            },
          });
          break;
        case 'loadSnapshot':
          tasks.push({
            label: 'loadSnapshot',
            disk: false,
            run: () => {
              const s = e.snapshot as Snapshot<T>;
              if (s.zxid !== e.zxid) this.violate(`SNAP at ${hex(e.zxid)} carries a capture at ${hex(s.zxid)}`);
              n.mem = s.hist.slice();
              n.memZxid = s.zxid;
              n.app = this.app.copy(s.app);
            },
          });
          break;
        case 'writeSnapshot':
          tasks.push({ label: 'writeSnapshot', disk: true, run: () => this.writeSnapshot(n) });
          break;
        case 'log':
          tasks.push({ label: 'log', disk: true, run: () => this.appendLog(n, e.entries) });
          break;
        case 'apply':
          tasks.push({
            label: 'apply',
            disk: false,
            run: () => {
              this.applyTo(n, e.txn, who);
              if (!isPrefix(n.mem, role.leaderRole.hist)) this.violate(`${who} ${n.sid}'s history ${this.histText(n.mem)} is not a prefix of its leader ${role.leaderSid}'s ${this.histText(role.leaderRole.hist)}`);
            },
          });
          break;
        case 'syncDone':
          tasks.push({
            label: 'syncDone',
            disk: false,
            run: () => {
              const after = role.syncs.shift();
              if (after === undefined) this.violate(`${who} ${n.sid} got a SYNC it never asked for`);
              else if (n.memZxid < after) this.violate(`${who} ${n.sid}'s sync completed at ${hex(n.memZxid)} before ${hex(after)}, proposed before it, was applied`);
              else this.stats.syncs++;
            },
          });
          break;
        case 'serve':
          tasks.push({
            label: 'serve',
            disk: false,
            run: () => {
              role.serving = true;
              if (this.current(n, role)) this.hooks.serving?.(n, role, e.epoch);
            },
          });
          break;
        case 'end':
          tasks.push({
            label: 'end',
            disk: false,
            run: () => {
              if (!this.current(n, role)) return;
              this.log(`${who} ${n.sid} ends: ${e.reason}`);
              this.breakLink(role.link, `${who} ended`);
              this.goLooking(n, e.reason);
            },
          });
          break;
      }
    }
    if (tasks.length > 0) this.enqueue(n, tasks);
    if (this.current(n, role)) this.scheduleTick(n, role);
  }

  private writeSnapshot(n: Server<T>): void {
    n.disk.snapshots.push(this.snapshotOf(n));
    n.disk.snapshots.sort(byZxid);
  }

  // ---- topology -------------------------------------------------------------

  /** The live servers, grouped by partition. */
  components(): Server<T>[][] {
    const byGroup = new Map<number, Server<T>[]>();
    for (const n of this.nodes.values()) {
      if (!n.up) continue;
      const g = this.group.get(n.sid)!;
      if (!byGroup.has(g)) byGroup.set(g, []);
      byGroup.get(g)!.push(n);
    }
    return [...byGroup.values()];
  }

  // ---- faults -----------------------------------------------------------------

  /** Schedules the periodic faults of the profile (call once, before running). */
  scheduleFaults(): void {
    const { rng, faults } = this;
    if (faults.crashEveryMs > 0) this.q.push(rng.int(0, faults.crashEveryMs), { kind: 'crash' });
    if (faults.linkBreakEveryMs > 0) this.q.push(rng.int(0, faults.linkBreakEveryMs), { kind: 'linkBreak' });
    if (faults.partitionEveryMs > 0) this.q.push(rng.int(0, faults.partitionEveryMs), { kind: 'partition' });
    if (faults.snapshotEveryMs > 0) this.q.push(rng.int(0, faults.snapshotEveryMs), { kind: 'bgSnapshot' });
    this.q.push(rng.int(0, 500), { kind: 'forwardSync' });
  }

  /** When the faults stop: partitions heal, crashed servers restart. */
  scheduleQuiet(at: number): void {
    this.q.push(at, { kind: 'quiet' });
  }

  /** Brings a server that is down up at `at` (a world that starts its servers one by one). */
  scheduleRestart(n: Server<T>, at: number): void {
    this.q.push(at, { kind: 'restart', sid: n.sid });
  }

  /** A crash soon after this point (within a typical fsync), while the window it opens is still open. */
  private maybePointCrash(n: Server<T>, why: string): void {
    if (this.quiet || !this.rng.chance(this.faults.pointCrashRate)) return;
    const inc = n.incarnation;
    this.log(`point crash of ${n.sid} armed (${why})`);
    this.q.push(this.now + this.rng.int(0, 25), { kind: 'pointCrash', sid: n.sid, incarnation: inc });
  }

  crash(n: Server<T>): void {
    if (!n.up) return;
    this.stats.crashes++;
    this.log(`CRASH ${n.sid} (${n.role?.kind ?? 'looking'}; queue ${n.queue.map((t) => t.label).join(',')}${n.busy ? ' +busy' : ''}; log writer ${n.logQueue.length}${n.logBusy ? ' +busy' : ''})`);
    const role = n.role;
    n.up = false;
    n.incarnation++;
    n.queue = [];
    n.busy = false;
    n.logQueue = [];
    n.logBusy = false;
    n.role = undefined;
    n.mem = [];
    n.memZxid = 0n;
    n.app = this.app.init();
    if (role?.kind === 'leader') for (const link of [...role.links.values()]) this.breakLink(link, `leader ${n.sid} crashed`);
    if (role?.kind === 'learner') this.breakLink(role.link, `learner ${n.sid} crashed`);
    this.hooks.crashed?.(n);
    this.q.push(this.now + (this.quiet ? 1 : this.rng.int(50, 1500)), { kind: 'restart', sid: n.sid });
  }

  private restart(n: Server<T>): void {
    if (n.up) return;
    n.up = true;
    this.reloadMemory(n);
    n.lookingSince = this.now;
    this.log(`RESTART ${n.sid}: accepted ${n.disk.acceptedEpoch}, current ${n.disk.currentEpoch}, last ${hex(n.memZxid)}`);
    this.hooks.restarted?.(n);
  }

  private allLinks(): Link[] {
    const out: Link[] = [];
    for (const n of this.nodes.values()) if (n.up && n.role?.kind === 'leader') out.push(...n.role.links.values());
    return out.filter((l) => l.alive);
  }

  servingLeader(): { n: Server<T>; role: LeaderRole } | undefined {
    for (const n of this.nodes.values()) {
      if (n.up && n.role?.kind === 'leader' && n.role.serving && n.role.m.state === 'broadcast') return { n, role: n.role };
    }
    return undefined;
  }

  /** Proposes `count` txns at a serving leader; `make` gives each its client id, type and body (default: synthetic). */
  propose(n: Server<T>, role: LeaderRole, count: number, make?: (id: number) => { clientId: bigint; type: number; body: Buffer }): TxnEntry[] {
    const batch: TxnEntry[] = [];
    for (let i = 0; i < count; i++) {
      const zxid = role.zxids!.peek();
      role.zxids!.take(zxid);
      const id = this.nextTxnId++;
      if (this.idOfZxid.has(zxid)) this.violate(`zxid ${hex(zxid)} proposed twice (#${this.idOfZxid.get(zxid)} and #${id})`);
      this.idOfZxid.set(zxid, id);
      this.zxidOfId.set(id, zxid);
      const m = make ? make(id) : { clientId: BigInt(id), type: 5, body: Buffer.from(`txn #${id}`) };
      batch.push({ header: new TxnHeader({ clientId: m.clientId, cxid: id, zxid, time: BigInt(this.now), type: m.type }), body: m.body });
    }
    for (const t of batch) role.proposed.set(t.header.zxid, t);
    role.lastProposed = batch[batch.length - 1].header.zxid;
    this.stats.proposed += batch.length;
    this.log(`leader ${n.sid} proposes ${batch.map((t) => `${hex(t.header.zxid)}#${t.header.cxid}`).join(',')}`);
    const effects = role.m.propose(batch);
    // What each needs a quorum of: the config in force, and a pending one (the machine's view once proposed).
    const quorums = role.m.lastSeenVerifier.version > role.m.verifier.version ? [role.m.verifier, role.m.lastSeenVerifier] : [role.m.verifier];
    for (const t of batch) role.quorumsOf.set(t.header.zxid, quorums);
    this.leaderEffects(n, role, effects);
    return batch;
  }

  /** After the faults: every server synced with one serving leader? */
  allSynced(): { n: Server<T>; role: LeaderRole } | undefined {
    const l = this.servingLeader();
    if (!l) return undefined;
    for (const n of this.nodes.values()) {
      if (n === l.n) continue;
      if (!n.up || n.role?.kind !== 'learner' || n.role.leaderRole !== l.role || !n.role.serving) return undefined;
    }
    return l;
  }

  /**
   * A learner that accepted a newer epoch (a discovery that failed elsewhere) can never join a leader
   * serving an older one: LEADERINFO is below its acceptedEpoch, it goes back to looking, rejoins,
   * forever (Apache behaves the same). An operator would restart the leader; so does the simulation,
   * in the quiet phase, counted in stats.forcedReelections rather than reported.
   */
  forceReelectionIfStuck(): void {
    const l = this.servingLeader();
    if (!(this.quiet && l && this.now - this.quietSince > 5000 && this.now - this.lastForced > 5000 && !this.allSynced())) return;
    const newer = [...this.nodes.values()].filter((n) => n.up && n.disk.acceptedEpoch > l.role.m.newEpoch);
    if (newer.length === 0) return;
    this.lastForced = this.now;
    this.stats.forcedReelections++;
    this.log(`forced re-election: ${newer.map((n) => `${n.sid} accepted ${n.disk.acceptedEpoch}`).join(', ')} > epoch ${l.role.m.newEpoch}`);
    this.crash(l.n);
  }

  /** One line per server for liveness reports. */
  stateText(): string {
    return [...this.nodes.values()]
      .map((n) => `${n.sid}:${n.up ? n.role?.kind ?? 'looking' : 'down'}${n.role ? `(${n.role.m.state})` : ''}@${hex(n.memZxid)}${n.queue.length || n.busy ? ` queue ${n.queue.length}${n.busy ? '+busy' : ''} (${n.queue.slice(0, 3).map((t) => t.label).join(',')})` : ''}`)
      .join(' ');
  }

  // ---- run ----------------------------------------------------------------------

  /** Runs events until `afterEvent` says done (true), the deadline, or the event budget. */
  run(world: { deadline: number; maxEvents: number; onWorld(ev: W): void; afterEvent(): boolean }): boolean {
    for (;;) {
      const item = this.q.pop();
      if (!item) {
        this.violate('event queue ran dry');
        return false;
      }
      if (item.at > world.deadline) return false;
      if (++this.stats.events > world.maxEvents) {
        this.violate(`more than ${world.maxEvents} events`);
        return false;
      }
      this.now = item.at;
      const ev = item.ev;
      if (ev.kind === 'world') world.onWorld(ev.ev);
      else this.handle(ev);
      if (world.afterEvent()) return true;
    }
  }

  private handle(ev: Exclude<ClusterEvent<W>, { kind: 'world' }>): void {
    const { rng, faults } = this;
    switch (ev.kind) {
      case 'deliver': {
        const { link } = ev;
        if (!link.alive) break;
        if (ev.toLeader) {
          const l = this.nodes.get(link.leader)!;
          if (l.up && l.role?.kind === 'leader' && l.role.links.get(link.learner) === link) {
            if (ev.msg.kind === 'request') {
              l.role.m.heard(link.learner, this.localNow(l));
              this.hooks.request?.(l, l.role, link.learner, ev.msg.req);
            } else {
              if (ev.msg.kind === 'ack') this.noteAck(l.role, ev.msg.zxid, link.learner);
              this.leaderEffects(l, l.role, l.role.m.receive(link.learner, ev.msg as LearnerMessage, this.localNow(l)));
            }
          }
        } else {
          const f = this.nodes.get(link.learner)!;
          if (f.up && f.role?.kind === 'learner' && f.role.link === link) this.learnerEffects(f, f.role, f.role.m.receive(ev.msg as LeaderMessage, this.localNow(f)));
        }
        break;
      }
      case 'diskDone': {
        const n = this.nodes.get(ev.sid)!;
        if (n.incarnation !== ev.incarnation || !n.up) break; // crashed meanwhile: the write is lost
        ev.task.run();
        if (ev.log) {
          n.logBusy = false;
          this.pumpLog(n);
        } else {
          n.busy = false;
          this.pump(n);
        }
        break;
      }
      case 'tick': {
        const n = this.nodes.get(ev.sid)!;
        const role = n.role;
        if (!n.up || !role || role.gen !== ev.gen || this.now < role.tickAt) break;
        role.tickAt = Infinity;
        if (role.kind === 'leader') this.leaderEffects(n, role, role.m.tick(this.localNow(n)));
        else this.learnerEffects(n, role, role.m.tick(this.localNow(n)));
        if (this.current(n, role)) this.scheduleTick(n, role);
        break;
      }
      case 'crash': {
        if (this.quiet) break;
        const up = [...this.nodes.values()].filter((n) => n.up);
        const leaders = up.filter((n) => n.role?.kind === 'leader');
        const victim = leaders.length > 0 && rng.chance(0.4) ? rng.pick(leaders) : rng.pick(up);
        if (victim) this.crash(victim);
        this.q.push(this.now + rng.int(1, 2 * faults.crashEveryMs), { kind: 'crash' });
        break;
      }
      case 'restart':
        this.restart(this.nodes.get(ev.sid)!);
        break;
      case 'pointCrash': {
        const n = this.nodes.get(ev.sid)!;
        if (!this.quiet && n.incarnation === ev.incarnation) this.crash(n);
        break;
      }
      case 'linkBreak': {
        if (this.quiet) break;
        const links = this.allLinks();
        if (links.length > 0) {
          this.stats.linkBreaks++;
          this.breakLink(rng.pick(links), 'network fault');
        }
        this.q.push(this.now + rng.int(1, 2 * faults.linkBreakEveryMs), { kind: 'linkBreak' });
        break;
      }
      case 'partition': {
        if (this.quiet) break;
        this.stats.partitions++;
        for (const sid of this.nodes.keys()) this.group.set(sid, rng.int(0, 1));
        this.log(`PARTITION ${[...this.group].map(([s, g]) => `${s}:${g}`).join(' ')}`);
        for (const link of this.allLinks()) if (!this.canTalk(link.leader, link.learner)) this.breakLink(link, 'partition');
        this.q.push(this.now + rng.int(300, 3000), { kind: 'heal' });
        this.q.push(this.now + rng.int(1, 2 * faults.partitionEveryMs), { kind: 'partition' });
        break;
      }
      case 'heal':
        for (const sid of this.nodes.keys()) this.group.set(sid, 0);
        this.log('HEAL');
        break;
      case 'bgSnapshot': {
        if (this.quiet) break;
        // A server that serves snapshots its (committed, applied) tree now and then, as Apache's
        // SyncRequestProcessor does every snapCount txns.
        const serving = [...this.nodes.values()].filter((n) => n.up && n.role && n.role.serving);
        if (serving.length > 0) {
          const n = rng.pick(serving);
          this.enqueue(n, [{ label: 'bgSnapshot', disk: true, run: () => this.writeSnapshot(n) }]);
        }
        this.q.push(this.now + rng.int(1, 2 * faults.snapshotEveryMs), { kind: 'bgSnapshot' });
        break;
      }
      case 'forwardSync': {
        // A serving learner forwards a client's sync; the leader orders the reply.
        const l = this.servingLeader();
        if (l) {
          const learners = [...this.nodes.values()].filter(
            (n) => n.up && n.role?.kind === 'learner' && n.role.leaderRole === l.role && n.role.serving && n.role.link.alive,
          );
          if (learners.length > 0) {
            const f = rng.pick(learners);
            const role = f.role as LearnerRole;
            role.syncs.push(l.role.lastProposed);
            this.leaderEffects(l.n, l.role, l.role.m.sync(f.sid));
          }
        }
        this.q.push(this.now + rng.int(20, 400), { kind: 'forwardSync' });
        break;
      }
      case 'quiet':
        this.quiet = true;
        this.quietSince = this.now;
        this.log('QUIET: faults stop, partitions heal, everyone restarts');
        for (const sid of this.nodes.keys()) this.group.set(sid, 0);
        for (const n of this.nodes.values()) if (!n.up) this.q.push(this.now + 1, { kind: 'restart', sid: n.sid });
        break;
    }
  }

  // ---- final checks ---------------------------------------------------------------

  /**
   * Once everything is synced after the faults: every acknowledged txn is in every server's memory and
   * disk history, and every history is a prefix of the final one (the serving leader's).
   */
  finalChecks(): number[] {
    const l = this.servingLeader();
    const final = l ? l.role.hist : [...this.nodes.values()].map((n) => n.mem).sort((a, b) => b.length - a.length)[0];
    const finalSet = new Set(final);
    for (const id of this.acknowledgedIds) {
      if (!finalSet.has(id)) this.violate(`acknowledged txn ${hex(this.zxidOfId.get(id)!)}#${id} is not in the final history`);
    }
    if (!isPrefix(this.acked, final)) this.violate(`the acknowledged history ${this.histText(this.acked)} is not a prefix of the final one ${this.histText(final)}`);
    for (const n of this.nodes.values()) {
      if (!isPrefix(n.mem, final)) this.violate(`server ${n.sid}'s memory ${this.histText(n.mem)} is not a prefix of the final history ${this.histText(final)}`);
      const d = this.loadDisk(n).hist;
      if (!isPrefix(d, final)) this.violate(`server ${n.sid}'s disk history ${this.histText(d)} is not a prefix of the final history ${this.histText(final)}`);
      const mem = new Set(n.mem);
      for (const id of this.acknowledgedIds) {
        if (!mem.has(id)) this.violate(`server ${n.sid} lacks acknowledged txn ${hex(this.zxidOfId.get(id)!)}#${id}`);
      }
    }
    this.stats.acknowledged = this.acknowledgedIds.size;
    return final;
  }

  /**
   * Every config put in force anywhere was committed: a reconfig's (version
   * = its zxid) is in the acknowledged history; one versioned at an epoch's
   * start (ZOOKEEPER-1783) was in force at a leader that served (agreed by
   * its NEWLEADER quorum, maybe a later term's). (The acknowledged history
   * only grows, so checking at the end covers every moment.)
   */
  configChecks(): void {
    for (const [version, a] of this.activated) {
      if (version === 0n) continue;
      const where = `config ${hex(version)} (voters ${a.verifier.voters().join(',')}), first in force on ${a.sid} at t=${a.at} by ${a.via},`;
      if ((version & 0xffffffffn) === 0n) {
        if (!this.servedConfigs.has(version)) this.violate(`${where} is versioned at an epoch's start but no serving leader had it in force`);
        continue;
      }
      const id = this.idOfZxid.get(version);
      if (id === undefined || !this.acked.includes(id)) this.violate(`${where} was never committed (its reconfig ${hex(version)}${id === undefined ? ' was never proposed' : `#${id} is not in the acknowledged history`})`);
    }
  }
}

// ==== the ZAB simulation: an election oracle and synthetic txns ====

/**
 * quietMs: the simulated time allowed, after the faults stop, for the liveness goal.
 * membership: reconfigEnabled plus one joiner (outside the initial config,
 * following as a non-voting member) and, during the faults, reconfigs that
 * change who votes (see `reconfigure`).
 */
export type ZabSimOptions = SimOptions & { reconfigEnabled?: boolean; txnLogSync?: boolean; membership?: boolean };

export interface ZabSimResult {
  seed: number;
  voters: number;
  violations: string[];
  trace: string[];
  stats: ZabSimStats;
  faults: FaultProfile;
  endedAt: number;
}

/** The command that replays one seed with its trace (zab-sim.test.ts reads these variables). */
export function replayCommand(seed: number, voters: number, reconfig = false, membership = false): string {
  return `ZK_SIM_SEED=${seed} ZK_SIM_VOTERS=${voters}${reconfig ? ' ZK_SIM_RECONFIG=1' : ''}${membership ? ' ZK_SIM_MEMBERSHIP=1' : ''} ZK_SIM_TRACE=1 npx jest test/sim/zab-sim.test.ts`;
}

type Rank = [bigint, bigint, bigint];

function rankLess(a: Rank, b: Rank): boolean {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i];
  return false;
}

export function runZabSim(opts: ZabSimOptions): ZabSimResult {
  const rng = new Rng(opts.seed * 7919 + opts.voters);
  const faultMs = opts.faultMs ?? 12_000;
  const quietMs = opts.quietMs ?? 25_000;
  const faults = pickZabFaults(rng);
  if (opts.reconfigEnabled || opts.membership) faults.reconfigEnabled = true;
  if (opts.txnLogSync) faults.txnLogSync = true;
  // Its own stream, so that the seeds' fault scenarios stay what they are without membership changes.
  const reconfigRng = new Rng(opts.seed * 104_729 + opts.voters);
  const c = new ZabCluster<null, 'elect' | 'client' | 'reconfig'>({ voters: opts.voters, observers: opts.observers, joiners: opts.membership ? 1 : 0, trace: opts.trace, rng, faults });
  const { stats } = c;
  /** Liveness goal: the txn proposed once everything is synced after the faults. */
  let finalTxn: number | undefined;
  let finalRole: { n: Server<null>; role: LeaderRole } | undefined;

  const diskRank = (n: Server<null>): Rank => [n.disk.currentEpoch, c.loadDisk(n).zxid, n.sid];

  function elect(): void {
    for (const comp of c.components()) {
      const ready = comp.filter((n) => !n.role && c.drained(n) && c.now - n.lookingSince >= 30);
      if (ready.length === 0) continue;
      // FLE while LOOKING adopts a newer config in force from any notification it gets (the peer's
      // adoptedConfig; members in a role answer with theirs), then counts votes in it.
      let qv: QuorumVerifier = c.qv;
      if (faults.reconfigEnabled) {
        for (const n of comp) if (n.disk.config.version > qv.version) qv = n.disk.config;
        for (const n of ready) c.setConfig(n, 'activate', qv);
      }
      const leaders = comp.filter((n) => n.role?.kind === 'leader' && n.role.m.state !== 'ended');
      if (leaders.length > 0) {
        const l = rng.pick(leaders);
        for (const n of ready) {
          stats.lateJoins++;
          c.startLearner(n, l, l.role as LeaderRole);
        }
        continue;
      }
      // Observers and servers the config does not list (joiners, removed servers) only join a leader.
      const voters = ready.filter((n) => qv.isVoter(n.sid));
      if (!qv.containsQuorum(voters.map((n) => n.sid))) continue;
      // A quorum-sized or larger random subset decides (FLE may decide before slow votes arrive).
      const shuffled = voters.slice().sort(() => rng.next() - 0.5);
      const need = Math.floor(qv.voters().length / 2) + 1;
      const size = rng.chance(0.5) ? shuffled.length : rng.int(need, shuffled.length);
      const chosen = shuffled.slice(0, size);
      let best = chosen[0];
      for (const n of chosen) if (rankLess(diskRank(best), diskRank(n))) best = n;
      stats.elections++;
      c.log(`election in {${comp.map((n) => n.sid).join(',')}}: {${chosen.map((n) => n.sid).join(',')}} elect ${best.sid}`);
      const role = c.startLeader(best);
      for (const n of chosen) if (n !== best) c.startLearner(n, best, role);
    }
  }

  function client(): void {
    const l = c.servingLeader();
    if (finalTxn !== undefined && finalRole && !c.acknowledgedIds.has(finalTxn) && !(finalRole.n.up && finalRole.n.role === finalRole.role)) {
      // Its leader's term ended before the goal txn committed: it may rightly be lost. Try again.
      c.log(`liveness goal #${finalTxn} dropped with its leader's term; a new one follows`);
      finalTxn = undefined;
    }
    c.forceReelectionIfStuck();
    // Clients wait for replies: at most ~100 txns in flight, so a slow disk is not buried for good.
    if (l && finalTxn === undefined && l.role.proposed.size < 100) {
      if (c.quiet && c.allSynced()) {
        finalTxn = c.idOf(c.propose(l.n, l.role, 1)[0]);
        finalRole = l;
        c.log(`liveness goal: #${finalTxn} must commit and reach every server`);
      } else if (!c.quiet) {
        c.propose(l.n, l.role, rng.int(1, 3));
      }
    }
  }

  /** The kind of change each reconfig proposed (by zxid = version), counted once it is in force. */
  const reconfigKinds = new Map<bigint, 'join' | 'removal' | 'leaderRemoval' | 'promotion' | 'demotion'>();

  /**
   * A membership change at the serving leader, as a client's reconfig would
   * get it proposed (prep-request-processor: none while one is pending,
   * at least 2 voters, NewConfigNoQuorum unless the leader and its synced
   * followers make a quorum of the new config): add a voter (the joiner,
   * or a server removed before), remove one (the leader too: it designates
   * a successor and ends its term), turn an observer into a participant
   * or a participant into an observer.
   */
  function reconfigure(): void {
    const l = c.servingLeader();
    if (!l || l.role.m.lastSeenVerifier.version !== l.role.m.verifier.version) return;
    const cur = l.role.m.verifier;
    const voters = cur.voters();
    const outside = [...c.members.keys()].filter((sid) => !cur.servers.has(sid));
    const observers = [...cur.servers.values()].filter((s) => s.type === 'observer').map((s) => s.sid);
    type Change = { kind: 'join' | 'removal' | 'leaderRemoval' | 'promotion' | 'demotion'; sid: bigint };
    const options: Change[] = [...outside.map((sid): Change => ({ kind: 'join', sid })), ...observers.map((sid): Change => ({ kind: 'promotion', sid }))];
    if (voters.length > 2) {
      for (const sid of voters) {
        options.push({ kind: sid === l.n.sid ? 'leaderRemoval' : 'removal', sid }, { kind: 'demotion', sid });
      }
    }
    if (options.length === 0) return;
    const ch = reconfigRng.pick(options);
    const servers = new Map(cur.servers);
    if (ch.kind === 'removal' || ch.kind === 'leaderRemoval') servers.delete(ch.sid);
    else servers.set(ch.sid, { ...c.members.get(ch.sid)!, type: ch.kind === 'demotion' ? 'observer' : 'participant' });
    const zxid = l.role.zxids!.peek();
    const next = new MajorityQuorum(servers.values(), zxid);
    if (!l.role.m.isQuorumSynced(next)) {
      c.log(`reconfig (${ch.kind} ${ch.sid}) refused: NewConfigNoQuorum`);
      return;
    }
    stats.reconfigs++;
    reconfigKinds.set(zxid, ch.kind);
    c.log(`reconfig at ${l.n.sid}: ${ch.kind} ${ch.sid} -> voters ${next.voters().join(',')}`);
    const w = new JuteWriter(256);
    new SetDataTxn({ path: '/zookeeper/config', data: Buffer.from(next.toString()), version: -1 }).serialize(w);
    c.propose(l.n, l.role, 1, () => ({ clientId: 1n, type: OpCode.reconfig, body: w.toBuffer() }));
  }

  c.at(0, 'elect');
  c.at(rng.int(0, 50), 'client');
  if (opts.membership) c.at(reconfigRng.int(100, 1000), 'reconfig');
  c.scheduleFaults();
  c.scheduleQuiet(faultMs);
  const done = c.run({
    deadline: faultMs + quietMs,
    maxEvents: 2_000_000,
    onWorld: (ev) => {
      if (ev === 'elect') {
        elect();
        c.at(c.now + rng.int(20, 80), 'elect');
      } else if (ev === 'client') {
        client();
        c.at(c.now + rng.int(1, faults.clientEveryMs), 'client');
      } else if (!c.quiet) {
        reconfigure();
        c.at(c.now + reconfigRng.int(200, 1500), 'reconfig');
      }
    },
    // Done when the final txn is applied everywhere.
    afterEvent: () => finalTxn !== undefined && [...c.nodes.values()].every((n) => n.up && n.memZxid >= c.zxidOfId.get(finalTxn!)! && c.drained(n)),
  });

  if (!done) {
    const l = c.servingLeader();
    c.violate(
      `liveness: ${quietMs} ms after the faults stopped ${finalTxn === undefined ? (l ? 'not every server is synced with the leader' : 'no leader serves') : `#${finalTxn} has not reached every server`} [${c.stateText()}]`,
    );
  } else {
    c.finalChecks();
  }
  c.configChecks();
  for (const [version, kind] of reconfigKinds) if (c.activated.has(version)) stats[`${kind}s`]++;
  stats.acknowledged = c.acknowledgedIds.size;
  return { seed: opts.seed, voters: opts.voters, violations: c.violations, trace: c.trace, stats, faults, endedAt: c.now };
}
