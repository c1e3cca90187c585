/**
 * A seeded, in-memory world for the ZAB machines (src/server/quorum/zab-leader.ts,
 * zab-learner.ts): N servers (voters plus observers) on a simulated clock,
 * each with
 *   - DISK: txn log, acceptedEpoch, currentEpoch, snapshots (a snapshot is
 *     the applied history, as txn ids, at a zxid). Only completed writes are
 *     on it: a crash loses the write in flight and everything queued.
 *   - MEMORY: the applied history (the "tree"), the role and its machine.
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
 * partitions, fsync stalls, slow messages, background snapshots; clients
 * keep at most ~100 txns in flight.
 * Messages go over per-learner links, in order per direction, with random
 * delays. A link breaks (fault, partition, crash, `drop`, `end`): both
 * machines are told (leader.disconnected, learner.abandon) and what is in
 * flight on it is lost.
 *
 * Host choices the machines leave open (documented here because a bug could
 * hide in them): a server starts each role from its DISK (memory is
 * reloaded: snapshot + the log after it), and only once its disk queues are
 * drained; the leader's committedLog is the log after its newest snapshot
 * (what Apache replays into ZKDatabase.committedLog); a leader's host
 * applies proposals to memory at `committed`; captureSnapshot copies the
 * leader's memory.
 *
 * Leader choice emulates FLE's outcome: among the looking voters of a
 * connected component that can form a quorum, a random quorum-sized (or
 * larger) subset elects its member with the highest (currentEpoch, last
 * zxid, sid) from disk; the rest of that subset follow. Looking servers in a
 * component with a leader join it (late joiners, observers). A machine's
 * `end` sends its server back to looking.
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
 *  - at the end (faults stopped, everything healed and restarted): a leader
 *    serves with every server synced, a new proposal commits and reaches
 *    every server within bounded time (liveness); then every acknowledged
 *    txn is in every server's memory and disk history, and all histories are
 *    prefixes of the final leader's.
 */
import { TxnHeader } from '../../src/proto';
import type { TxnEntry } from '../../src/server/persist/types';
import { MajorityQuorum, QuorumServer } from '../../src/server/quorum/quorum-verifier';
import { LeaderEffect, ZabLeader } from '../../src/server/quorum/zab-leader';
import { LearnerEffect, ZabLearner } from '../../src/server/quorum/zab-learner';
import { LeaderMessage, LearnerMessage, hex } from '../../src/server/quorum/zab-messages';
import { ZxidSource } from '../../src/server/request/commit-path';
import { epochOf } from '../../src/server/zxid';
import { Rng } from './election-sim';
import { EventQueue } from './event-queue';

export const TICK = 100;
export const INIT_LIMIT = 10;
export const SYNC_LIMIT = 5;

export interface ZabSimOptions {
  seed: number;
  voters: number;
  observers: number;
  /** Simulated time with faults. */
  faultMs?: number;
  /** Simulated time allowed, after the faults stop, for the liveness goal. */
  quietMs?: number;
  trace?: boolean;
}

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
  /** Quiet-phase leader restarts because learners had accepted a newer epoch than it serves (see below). */
  forcedReelections: number;
}

export interface ZabSimResult {
  seed: number;
  voters: number;
  violations: string[];
  trace: string[];
  stats: ZabSimStats;
  faults: FaultProfile;
  endedAt: number;
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
}

interface Snapshot {
  zxid: bigint;
  hist: number[];
}

interface Disk {
  log: TxnEntry[];
  acceptedEpoch: bigint;
  currentEpoch: bigint;
  /** Ascending by zxid; the empty one at 0 is always there. */
  snapshots: Snapshot[];
}

interface Task {
  label: string;
  disk: boolean;
  run: () => void;
}

interface LeaderRole {
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
}

interface LearnerRole {
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

type Role = LeaderRole | LearnerRole;

interface Link {
  id: number;
  leader: bigint;
  learner: bigint;
  alive: boolean;
  lastToLearner: number;
  lastToLeader: number;
}

interface Server {
  sid: bigint;
  observer: boolean;
  up: boolean;
  incarnation: number;
  disk: Disk;
  mem: number[];
  memZxid: bigint;
  role?: Role;
  lookingSince: number;
  queue: Task[];
  busy: boolean;
  logQueue: Task[];
  logBusy: boolean;
}

type SimEvent =
  | { kind: 'deliver'; link: Link; toLeader: boolean; msg: LeaderMessage | LearnerMessage }
  | { kind: 'diskDone'; sid: bigint; incarnation: number; log: boolean; task: Task }
  | { kind: 'tick'; sid: bigint; gen: number }
  | { kind: 'elect' }
  | { kind: 'client' }
  | { kind: 'crash' }
  | { kind: 'pointCrash'; sid: bigint; incarnation: number }
  | { kind: 'restart'; sid: bigint }
  | { kind: 'linkBreak' }
  | { kind: 'partition' }
  | { kind: 'heal' }
  | { kind: 'bgSnapshot' }
  | { kind: 'forwardSync' }
  | { kind: 'quiet' };

/** Is `a` a prefix of `b`? */
function isPrefix(a: readonly number[], b: readonly number[]): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function msgText(m: LeaderMessage | LearnerMessage): string {
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

export function runZabSim(opts: ZabSimOptions): ZabSimResult {
  const rng = new Rng(opts.seed * 7919 + opts.voters);
  const faultMs = opts.faultMs ?? 12_000;
  const quietMs = opts.quietMs ?? 25_000;
  const faults: FaultProfile = {
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
  const servers: QuorumServer[] = [];
  const total = opts.voters + opts.observers;
  for (let i = 1; i <= total; i++) {
    servers.push({ sid: BigInt(i), host: '127.0.0.1', quorumPort: 2000 + i, electionPort: 3000 + i, type: i > opts.voters ? 'observer' : 'participant' });
  }
  const qv = new MajorityQuorum(servers);
  const nodes = new Map<bigint, Server>();
  const q = new EventQueue<SimEvent>();
  const violations: string[] = [];
  const trace: string[] = [];
  const stats: ZabSimStats = {
    events: 0, crashes: 0, linkBreaks: 0, partitions: 0, elections: 0, established: 0, proposed: 0, acknowledged: 0,
    diffs: 0, truncs: 0, snaps: 0, lateJoins: 0, syncs: 0, roleEnds: 0, forcedReelections: 0,
  };
  let now = 0;
  let quiet = false;
  let nextGen = 1;
  let nextLinkId = 1;
  let nextTxnId = 1;
  /** Partition group per server (same group: can talk). */
  const group = new Map<bigint, number>();
  /** zxid of each txn id, and the id each zxid was proposed with (one txn per zxid, ever). */
  const zxidOfId = new Map<number, bigint>();
  const idOfZxid = new Map<bigint, number>();
  /** The acknowledged history: the longest history any leader acknowledged (committed or established). */
  let acked: number[] = [];
  const acknowledgedIds = new Set<number>();
  const servedEpochs = new Map<bigint, bigint>();
  /** Liveness goal: the txn proposed once everything is synced after the faults. */
  let finalTxn: number | undefined;
  let finalRole: { n: Server; role: LeaderRole } | undefined;
  let quietSince = Infinity;
  let lastForced = -Infinity;
  let done = false;

  const log = (s: string) => {
    if (opts.trace) trace.push(`${now} ${s}`);
  };
  const violate = (s: string) => {
    violations.push(`t=${now}: ${s}`);
    log(`VIOLATION ${s}`);
  };
  const idOf = (t: TxnEntry): number => t.header.cxid;
  const histText = (h: readonly number[]) => (h.length > 8 ? `[...${h.slice(-8).map((i) => `${hex(zxidOfId.get(i)!)}#${i}`).join(',')}]` : `[${h.map((i) => `${hex(zxidOfId.get(i)!)}#${i}`).join(',')}]`);

  for (const s of servers) {
    group.set(s.sid, 0);
    nodes.set(s.sid, {
      sid: s.sid,
      observer: s.type === 'observer',
      up: true,
      incarnation: 0,
      disk: { log: [], acceptedEpoch: 0n, currentEpoch: 0n, snapshots: [{ zxid: 0n, hist: [] }] },
      mem: [],
      memZxid: 0n,
      lookingSince: 0,
      queue: [],
      busy: false,
      logQueue: [],
      logBusy: false,
    });
  }

  // ---- disk -----------------------------------------------------------------

  /** What a restart would load: the newest snapshot and the log after it. */
  function loadDisk(n: Server): { hist: number[]; zxid: bigint; replayed: TxnEntry[] } {
    const snap = n.disk.snapshots[n.disk.snapshots.length - 1];
    const hist = snap.hist.slice();
    const replayed: TxnEntry[] = [];
    let last = snap.zxid;
    for (const t of n.disk.log) {
      const z = t.header.zxid;
      if (z <= snap.zxid) continue;
      if (epochOf(z) === epochOf(last) && z !== last + 1n) violate(`server ${n.sid}'s disk has a hole: ${hex(z)} follows ${hex(last)}`);
      hist.push(idOf(t));
      replayed.push(t);
      last = z;
    }
    return { hist, zxid: last, replayed };
  }

  function reloadMemory(n: Server): void {
    const d = loadDisk(n);
    n.mem = d.hist;
    n.memZxid = d.zxid;
  }

  function fsyncDelay(): number {
    return rng.chance(quiet ? 0 : faults.fsyncStallRate) ? rng.int(100, 700) : rng.int(1, faults.fsyncMax);
  }

  function appendLog(n: Server, entries: readonly TxnEntry[]): void {
    for (const t of entries) {
      const last = n.disk.log.length > 0 ? n.disk.log[n.disk.log.length - 1].header.zxid : -1n;
      if (t.header.zxid <= last) violate(`server ${n.sid} appends ${hex(t.header.zxid)} after ${hex(last)} in its log`);
      n.disk.log.push(t);
    }
  }

  // ---- host queues ----------------------------------------------------------

  function enqueue(n: Server, tasks: Task[]): void {
    n.queue.push(...tasks);
    pump(n);
  }

  function pump(n: Server): void {
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
        q.push(now + fsyncDelay(), { kind: 'diskDone', sid: n.sid, incarnation: n.incarnation, log: false, task: t });
        return;
      }
      t.run();
    }
  }

  function pumpLog(n: Server): void {
    if (!n.up || n.logBusy || n.logQueue.length === 0) return;
    // The leader's log writer: everything queued goes in one append and fsync (group commit).
    const group = n.logQueue.splice(0);
    const t: Task = group.length === 1 ? group[0] : { label: 'leaderLog', disk: true, run: () => group.forEach((g) => g.run()) };
    n.logBusy = true;
    q.push(now + fsyncDelay(), { kind: 'diskDone', sid: n.sid, incarnation: n.incarnation, log: true, task: t });
  }

  const drained = (n: Server) => !n.busy && n.queue.length === 0 && !n.logBusy && n.logQueue.length === 0;
  const current = (n: Server, role: Role) => n.up && n.role === role;

  // ---- network --------------------------------------------------------------

  function canTalk(a: bigint, b: bigint): boolean {
    return group.get(a) === group.get(b);
  }

  function msgDelay(): number {
    if (!quiet && rng.chance(faults.longDelayRate)) return rng.int(200, 900);
    return rng.int(faults.minDelay, faults.maxDelay);
  }

  function transmit(link: Link, toLeader: boolean, msg: LeaderMessage | LearnerMessage): void {
    if (!link.alive) return;
    const at = Math.max(now + msgDelay(), toLeader ? link.lastToLeader : link.lastToLearner);
    if (toLeader) link.lastToLeader = at;
    else link.lastToLearner = at;
    q.push(at, { kind: 'deliver', link, toLeader, msg });
  }

  function breakLink(link: Link, reason: string): void {
    if (!link.alive) return;
    link.alive = false;
    log(`link ${link.leader}-${link.learner} broken: ${reason}`);
    const l = nodes.get(link.leader)!;
    if (l.up && l.role?.kind === 'leader' && l.role.links.get(link.learner) === link) {
      l.role.links.delete(link.learner);
      leaderEffects(l, l.role, l.role.m.disconnected(link.learner));
    }
    const f = nodes.get(link.learner)!;
    if (f.up && f.role?.kind === 'learner' && f.role.link === link) learnerEffects(f, f.role, f.role.m.abandon(`connection closed: ${reason}`));
  }

  // ---- ticks ----------------------------------------------------------------

  function scheduleTick(n: Server, role: Role): void {
    const at = role.kind === 'leader' ? role.m.nextTickAt(now) : role.m.nextTickAt();
    if (!Number.isFinite(at) || at >= role.tickAt) return;
    role.tickAt = Math.max(at, now);
    q.push(role.tickAt, { kind: 'tick', sid: n.sid, gen: role.gen });
  }

  // ---- roles ----------------------------------------------------------------

  function goLooking(n: Server, why: string): void {
    log(`server ${n.sid} LOOKING (${why})`);
    n.role = undefined;
    n.lookingSince = now;
    stats.roleEnds++;
  }

  function startLeader(n: Server): LeaderRole {
    reloadMemory(n);
    const d = loadDisk(n);
    const role: LeaderRole = {
      kind: 'leader',
      gen: nextGen++,
      hist: n.mem,
      serving: false,
      proposed: new Map(),
      tickAt: Infinity,
      links: new Map(),
      lastProposed: n.memZxid,
      m: undefined as unknown as ZabLeader,
    };
    role.m = new ZabLeader({
      myId: n.sid,
      verifier: qv,
      tickTime: TICK,
      initLimit: INIT_LIMIT,
      syncLimit: SYNC_LIMIT,
      acceptedEpoch: n.disk.acceptedEpoch,
      currentEpoch: n.disk.currentEpoch,
      lastZxid: d.zxid,
      committedLog: d.replayed,
      committedLogLimit: faults.committedLogLimit,
      captureSnapshot: () => ({ zxid: n.memZxid, snapshot: { zxid: n.memZxid, hist: n.mem.slice() } as Snapshot }),
    });
    n.role = role;
    log(`server ${n.sid} LEADING (accepted ${n.disk.acceptedEpoch}, current ${n.disk.currentEpoch}, last ${hex(d.zxid)})`);
    leaderEffects(n, role, role.m.start(now));
    return role;
  }

  function startLearner(n: Server, leader: Server, lrole: LeaderRole): void {
    reloadMemory(n);
    const link: Link = { id: nextLinkId++, leader: leader.sid, learner: n.sid, alive: true, lastToLeader: 0, lastToLearner: 0 };
    lrole.links.get(n.sid)?.alive && breakLink(lrole.links.get(n.sid)!, 'replaced');
    lrole.links.set(n.sid, link);
    const role: LearnerRole = {
      kind: 'learner',
      gen: nextGen++,
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
      }),
    };
    n.role = role;
    log(`server ${n.sid} ${n.observer ? 'OBSERVING' : 'FOLLOWING'} ${leader.sid} (accepted ${n.disk.acceptedEpoch}, current ${n.disk.currentEpoch}, last ${hex(n.memZxid)})`);
    learnerEffects(n, role, role.m.start(now));
  }

  // ---- leader host ------------------------------------------------------------

  function leaderEffects(n: Server, role: LeaderRole, effects: LeaderEffect[]): void {
    const tasks: Task[] = [];
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          tasks.push({
            label: 'send',
            disk: false,
            run: () => {
              if (!current(n, role)) return;
              const link = role.links.get(e.to);
              if (!link) return;
              const k = e.message.kind;
              if (k === 'diff') stats.diffs++;
              else if (k === 'trunc') stats.truncs++;
              else if (k === 'snap') stats.snaps++;
              log(`${n.sid} -> ${e.to}: ${msgText(e.message)}`);
              transmit(link, false, e.message);
            },
          });
          break;
        case 'persistAcceptedEpoch':
          tasks.push({ label: 'persistAcceptedEpoch', disk: true, run: () => void (n.disk.acceptedEpoch = e.epoch) });
          break;
        case 'persistCurrentEpoch':
          tasks.push({ label: 'persistCurrentEpoch', disk: true, run: () => void (n.disk.currentEpoch = e.epoch) });
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
                  appendLog(n, e.entries);
                  if (current(n, role)) leaderEffects(n, role, role.m.logged(e.entries[e.entries.length - 1].header.zxid));
                },
              });
              pumpLog(n);
            },
          });
          break;
        case 'serve':
          tasks.push({
            label: 'serve',
            disk: false,
            run: () => {
              if (!current(n, role)) return;
              log(`server ${n.sid} SERVES epoch ${e.epoch} with history ${histText(role.hist)}`);
              stats.established++;
              const prev = servedEpochs.get(e.epoch);
              if (prev !== undefined) violate(`epoch ${e.epoch} established twice (by ${prev} and ${n.sid})`);
              servedEpochs.set(e.epoch, n.sid);
              if (n.disk.currentEpoch !== e.epoch) violate(`leader ${n.sid} serves epoch ${e.epoch} with currentEpoch ${n.disk.currentEpoch} on disk`);
              // Everything acknowledged so far must be in the new leader's history.
              if (!isPrefix(acked, role.hist)) {
                const missing = acked.filter((id) => !role.hist.includes(id));
                violate(`leader ${n.sid} serves epoch ${e.epoch} without acknowledged txns ${missing.slice(0, 5).map((i) => `${hex(zxidOfId.get(i)!)}#${i}`).join(',')} (acked ${histText(acked)}, its history ${histText(role.hist)})`);
              } else {
                acked = role.hist.slice();
              }
              role.serving = true;
              maybePointCrash(n, 'serving');
              role.zxids = new ZxidSource();
              role.zxids.startEpoch(e.epoch);
            },
          });
          break;
        case 'committed':
          tasks.push({
            label: 'committed',
            disk: false,
            run: () => {
              if (!current(n, role)) return;
              const due = [...role.proposed.keys()].filter((z) => z <= e.zxid).sort((a, b) => (a < b ? -1 : 1));
              for (const z of due) {
                const t = role.proposed.get(z)!;
                role.proposed.delete(z);
                applyTo(n, t, 'leader');
                acknowledgedIds.add(idOf(t));
              }
              if (n.memZxid !== e.zxid) violate(`leader ${n.sid} committed ${hex(e.zxid)} but its memory is at ${hex(n.memZxid)}`);
              if (isPrefix(acked, role.hist)) acked = role.hist.slice();
              else if (!isPrefix(role.hist, acked)) violate(`leader ${n.sid}'s acknowledged history ${histText(role.hist)} diverges from ${histText(acked)}`);
              log(`leader ${n.sid} committed through ${hex(e.zxid)}`);
            },
          });
          break;
        case 'drop':
          tasks.push({
            label: 'drop',
            disk: false,
            run: () => {
              const link = role.links.get(e.sid);
              log(`leader ${n.sid} drops ${e.sid}: ${e.reason}`);
              if (link) breakLink(link, `dropped: ${e.reason}`);
            },
          });
          break;
        case 'end':
          tasks.push({
            label: 'end',
            disk: false,
            run: () => {
              if (!current(n, role)) return;
              log(`leader ${n.sid} ends: ${e.reason}`);
              for (const link of [...role.links.values()]) breakLink(link, 'leader ended');
              goLooking(n, e.reason);
            },
          });
          break;
      }
    }
    if (tasks.length > 0) enqueue(n, tasks);
    if (current(n, role)) scheduleTick(n, role);
  }

  // ---- learner host -----------------------------------------------------------

  function applyTo(n: Server, t: TxnEntry, who: string): void {
    const z = t.header.zxid;
    const id = idOf(t);
    if (z <= n.memZxid) violate(`${who} ${n.sid} applies ${hex(z)}#${id} at or below its last applied ${hex(n.memZxid)} (twice or out of order)`);
    else if (epochOf(z) === epochOf(n.memZxid) && z !== n.memZxid + 1n) violate(`${who} ${n.sid} applies ${hex(z)} after ${hex(n.memZxid)}: a gap`);
    if (idOfZxid.get(z) !== id) violate(`${who} ${n.sid} applies ${hex(z)}#${id}, which was never proposed`);
    if (n.mem.includes(id)) violate(`${who} ${n.sid} applies #${id} twice`);
    n.mem.push(id);
    n.memZxid = z;
  }

  function learnerEffects(n: Server, role: LearnerRole, effects: LearnerEffect[]): void {
    const tasks: Task[] = [];
    const who = n.observer ? 'observer' : 'follower';
    for (const e of effects) {
      switch (e.kind) {
        case 'send':
          tasks.push({
            label: e.message.kind === 'ack' ? 'sendAck' : 'send',
            disk: false,
            run: () => {
              if (!current(n, role)) return;
              log(`${n.sid} -> ${role.leaderSid}: ${msgText(e.message)}`);
              transmit(role.link, true, e.message);
              if (e.message.kind === 'ack' || e.message.kind === 'ackEpoch') maybePointCrash(n, `sent ${msgText(e.message)}`);
            },
          });
          break;
        case 'persistAcceptedEpoch':
          tasks.push({ label: 'persistAcceptedEpoch', disk: true, run: () => void (n.disk.acceptedEpoch = e.epoch) });
          break;
        case 'persistCurrentEpoch':
          tasks.push({ label: 'persistCurrentEpoch', disk: true, run: () => void (n.disk.currentEpoch = e.epoch) });
          break;
        case 'truncate':
          tasks.push({
            label: 'truncate',
            disk: true,
            run: () => {
              n.disk.log = n.disk.log.filter((t) => t.header.zxid <= e.zxid);
              n.disk.snapshots = n.disk.snapshots.filter((s) => s.zxid <= e.zxid);
              reloadMemory(n);
              if (n.memZxid !== e.zxid && current(n, role)) {
                // The history on disk does not reach the TRUNC point (what was there came in a SNAP whose
                // snapshot the truncation removed): the host ends the role, as learner-host does, and the
                // next sync starts from what is really there.
                log(`${who} ${n.sid} truncated to ${hex(e.zxid)} but its history ends at ${hex(n.memZxid)}: ends its role`);
                n.queue.length = 0;
                breakLink(role.link, `${who} ended`);
                goLooking(n, 'truncation fell short');
              }
            },
          });
          break;
        case 'loadSnapshot':
          tasks.push({
            label: 'loadSnapshot',
            disk: false,
            run: () => {
              const s = e.snapshot as Snapshot;
              if (s.zxid !== e.zxid) violate(`SNAP at ${hex(e.zxid)} carries a capture at ${hex(s.zxid)}`);
              n.mem = s.hist.slice();
              n.memZxid = s.zxid;
            },
          });
          break;
        case 'writeSnapshot':
          tasks.push({
            label: 'writeSnapshot',
            disk: true,
            run: () => {
              n.disk.snapshots.push({ zxid: n.memZxid, hist: n.mem.slice() });
              n.disk.snapshots.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
            },
          });
          break;
        case 'log':
          tasks.push({ label: 'log', disk: true, run: () => appendLog(n, e.entries) });
          break;
        case 'apply':
          tasks.push({
            label: 'apply',
            disk: false,
            run: () => {
              applyTo(n, e.txn, who);
              if (!isPrefix(n.mem, role.leaderRole.hist)) violate(`${who} ${n.sid}'s history ${histText(n.mem)} is not a prefix of its leader ${role.leaderSid}'s ${histText(role.leaderRole.hist)}`);
            },
          });
          break;
        case 'syncDone':
          tasks.push({
            label: 'syncDone',
            disk: false,
            run: () => {
              const after = role.syncs.shift();
              if (after === undefined) violate(`${who} ${n.sid} got a SYNC it never asked for`);
              else if (n.memZxid < after) violate(`${who} ${n.sid}'s sync completed at ${hex(n.memZxid)} before ${hex(after)}, proposed before it, was applied`);
              else stats.syncs++;
            },
          });
          break;
        case 'serve':
          tasks.push({ label: 'serve', disk: false, run: () => void (role.serving = true) });
          break;
        case 'end':
          tasks.push({
            label: 'end',
            disk: false,
            run: () => {
              if (!current(n, role)) return;
              log(`${who} ${n.sid} ends: ${e.reason}`);
              breakLink(role.link, `${who} ended`);
              goLooking(n, e.reason);
            },
          });
          break;
      }
    }
    if (tasks.length > 0) enqueue(n, tasks);
    if (current(n, role)) scheduleTick(n, role);
  }

  // ---- election emulation -----------------------------------------------------

  function components(): Server[][] {
    const byGroup = new Map<number, Server[]>();
    for (const n of nodes.values()) {
      if (!n.up) continue;
      const g = group.get(n.sid)!;
      if (!byGroup.has(g)) byGroup.set(g, []);
      byGroup.get(g)!.push(n);
    }
    return [...byGroup.values()];
  }

  function diskRank(n: Server): [bigint, bigint, bigint] {
    return [n.disk.currentEpoch, loadDisk(n).zxid, n.sid];
  }

  function rankLess(a: [bigint, bigint, bigint], b: [bigint, bigint, bigint]): boolean {
    for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] < b[i];
    return false;
  }

  function elect(): void {
    for (const comp of components()) {
      const ready = comp.filter((n) => !n.role && drained(n) && now - n.lookingSince >= 30);
      if (ready.length === 0) continue;
      const leaders = comp.filter((n) => n.role?.kind === 'leader' && n.role.m.state !== 'ended');
      if (leaders.length > 0) {
        const l = rng.pick(leaders);
        for (const n of ready) {
          stats.lateJoins++;
          startLearner(n, l, l.role as LeaderRole);
        }
        continue;
      }
      const voters = ready.filter((n) => !n.observer);
      if (!qv.containsQuorum(voters.map((n) => n.sid))) continue;
      // A quorum-sized or larger random subset decides (FLE may decide before slow votes arrive).
      const shuffled = voters.slice().sort(() => rng.next() - 0.5);
      const need = Math.floor(opts.voters / 2) + 1;
      const size = rng.chance(0.5) ? shuffled.length : rng.int(need, shuffled.length);
      const chosen = shuffled.slice(0, size);
      let best = chosen[0];
      for (const n of chosen) if (rankLess(diskRank(best), diskRank(n))) best = n;
      stats.elections++;
      log(`election in {${comp.map((n) => n.sid).join(',')}}: {${chosen.map((n) => n.sid).join(',')}} elect ${best.sid}`);
      const role = startLeader(best);
      for (const n of chosen) if (n !== best) startLearner(n, best, role);
    }
  }

  // ---- faults -----------------------------------------------------------------

  /** A crash soon after this point (within a typical fsync), while the window it opens is still open. */
  function maybePointCrash(n: Server, why: string): void {
    if (quiet || !rng.chance(faults.pointCrashRate)) return;
    const inc = n.incarnation;
    log(`point crash of ${n.sid} armed (${why})`);
    q.push(now + rng.int(0, 25), { kind: 'pointCrash', sid: n.sid, incarnation: inc });
  }

  function crash(n: Server): void {
    if (!n.up) return;
    stats.crashes++;
    log(`CRASH ${n.sid} (${n.role?.kind ?? 'looking'}; queue ${n.queue.map((t) => t.label).join(',')}${n.busy ? ' +busy' : ''}; log writer ${n.logQueue.length}${n.logBusy ? ' +busy' : ''})`);
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
    if (role?.kind === 'leader') for (const link of [...role.links.values()]) breakLink(link, `leader ${n.sid} crashed`);
    if (role?.kind === 'learner') breakLink(role.link, `learner ${n.sid} crashed`);
    q.push(now + (quiet ? 1 : rng.int(50, 1500)), { kind: 'restart', sid: n.sid });
  }

  function restart(n: Server): void {
    if (n.up) return;
    n.up = true;
    reloadMemory(n);
    n.lookingSince = now;
    log(`RESTART ${n.sid}: accepted ${n.disk.acceptedEpoch}, current ${n.disk.currentEpoch}, last ${hex(n.memZxid)}`);
  }

  function allLinks(): Link[] {
    const out: Link[] = [];
    for (const n of nodes.values()) if (n.up && n.role?.kind === 'leader') out.push(...n.role.links.values());
    return out.filter((l) => l.alive);
  }

  function servingLeader(): { n: Server; role: LeaderRole } | undefined {
    for (const n of nodes.values()) {
      if (n.up && n.role?.kind === 'leader' && n.role.serving && n.role.m.state === 'broadcast') return { n, role: n.role };
    }
    return undefined;
  }

  function propose(n: Server, role: LeaderRole, count: number): number[] {
    const batch: TxnEntry[] = [];
    for (let i = 0; i < count; i++) {
      const zxid = role.zxids!.peek();
      role.zxids!.take(zxid);
      const id = nextTxnId++;
      if (idOfZxid.has(zxid)) violate(`zxid ${hex(zxid)} proposed twice (#${idOfZxid.get(zxid)} and #${id})`);
      idOfZxid.set(zxid, id);
      zxidOfId.set(id, zxid);
      batch.push({ header: new TxnHeader({ clientId: BigInt(id), cxid: id, zxid, time: BigInt(now), type: 5 }), body: Buffer.from(`txn #${id}`) });
    }
    for (const t of batch) role.proposed.set(t.header.zxid, t);
    role.lastProposed = batch[batch.length - 1].header.zxid;
    stats.proposed += batch.length;
    log(`leader ${n.sid} proposes ${batch.map((t) => `${hex(t.header.zxid)}#${t.header.cxid}`).join(',')}`);
    leaderEffects(n, role, role.m.propose(batch));
    return batch.map(idOf);
  }

  /** After the faults: every server synced with one serving leader? */
  function allSynced(): { n: Server; role: LeaderRole } | undefined {
    const l = servingLeader();
    if (!l) return undefined;
    for (const n of nodes.values()) {
      if (n === l.n) continue;
      if (!n.up || n.role?.kind !== 'learner' || n.role.leaderRole !== l.role || !n.role.serving) return undefined;
    }
    return l;
  }

  // ---- run ----------------------------------------------------------------------

  q.push(0, { kind: 'elect' });
  q.push(rng.int(0, 50), { kind: 'client' });
  if (faults.crashEveryMs > 0) q.push(rng.int(0, faults.crashEveryMs), { kind: 'crash' });
  if (faults.linkBreakEveryMs > 0) q.push(rng.int(0, faults.linkBreakEveryMs), { kind: 'linkBreak' });
  if (faults.partitionEveryMs > 0) q.push(rng.int(0, faults.partitionEveryMs), { kind: 'partition' });
  if (faults.snapshotEveryMs > 0) q.push(rng.int(0, faults.snapshotEveryMs), { kind: 'bgSnapshot' });
  q.push(rng.int(0, 500), { kind: 'forwardSync' });
  q.push(faultMs, { kind: 'quiet' });
  const deadline = faultMs + quietMs;
  const maxEvents = 2_000_000;

  while (!done) {
    const item = q.pop();
    if (!item) {
      violate('event queue ran dry');
      break;
    }
    if (item.at > deadline) break;
    if (++stats.events > maxEvents) {
      violate(`more than ${maxEvents} events`);
      break;
    }
    now = item.at;
    const ev = item.ev;
    switch (ev.kind) {
      case 'deliver': {
        const { link } = ev;
        if (!link.alive) break;
        if (ev.toLeader) {
          const l = nodes.get(link.leader)!;
          if (l.up && l.role?.kind === 'leader' && l.role.links.get(link.learner) === link) {
            leaderEffects(l, l.role, l.role.m.receive(link.learner, ev.msg as LearnerMessage, now));
          }
        } else {
          const f = nodes.get(link.learner)!;
          if (f.up && f.role?.kind === 'learner' && f.role.link === link) learnerEffects(f, f.role, f.role.m.receive(ev.msg as LeaderMessage, now));
        }
        break;
      }
      case 'diskDone': {
        const n = nodes.get(ev.sid)!;
        if (n.incarnation !== ev.incarnation || !n.up) break; // crashed meanwhile: the write is lost
        ev.task.run();
        if (ev.log) {
          n.logBusy = false;
          pumpLog(n);
        } else {
          n.busy = false;
          pump(n);
        }
        break;
      }
      case 'tick': {
        const n = nodes.get(ev.sid)!;
        const role = n.role;
        if (!n.up || !role || role.gen !== ev.gen || now < role.tickAt) break;
        role.tickAt = Infinity;
        if (role.kind === 'leader') leaderEffects(n, role, role.m.tick(now));
        else learnerEffects(n, role, role.m.tick(now));
        if (current(n, role)) scheduleTick(n, role);
        break;
      }
      case 'elect':
        elect();
        q.push(now + rng.int(20, 80), { kind: 'elect' });
        break;
      case 'client': {
        const l = servingLeader();
        if (finalTxn !== undefined && finalRole && !acknowledgedIds.has(finalTxn) && !(finalRole.n.up && finalRole.n.role === finalRole.role)) {
          // Its leader's term ended before the goal txn committed: it may rightly be lost. Try again.
          log(`liveness goal #${finalTxn} dropped with its leader's term; a new one follows`);
          finalTxn = undefined;
        }
        if (quiet && l && now - quietSince > 5000 && now - lastForced > 5000 && !allSynced()) {
          // A learner that accepted a newer epoch (a discovery that failed elsewhere) can never join a
          // leader serving an older one: LEADERINFO is below its acceptedEpoch, it goes back to looking,
          // rejoins, forever (Apache behaves the same). An operator would restart the leader; so does the
          // simulation, counted in stats.forcedReelections rather than reported.
          const newer = [...nodes.values()].filter((n) => n.up && n.disk.acceptedEpoch > l.role.m.newEpoch);
          if (newer.length > 0) {
            lastForced = now;
            stats.forcedReelections++;
            log(`forced re-election: ${newer.map((n) => `${n.sid} accepted ${n.disk.acceptedEpoch}`).join(', ')} > epoch ${l.role.m.newEpoch}`);
            crash(l.n);
          }
        }
        // Clients wait for replies: at most ~100 txns in flight, so a slow disk is not buried for good.
        if (l && finalTxn === undefined && l.role.proposed.size < 100) {
          if (quiet && allSynced()) {
            finalTxn = propose(l.n, l.role, 1)[0];
            finalRole = l;
            log(`liveness goal: #${finalTxn} must commit and reach every server`);
          } else if (!quiet) {
            propose(l.n, l.role, rng.int(1, 3));
          }
        }
        q.push(now + rng.int(1, faults.clientEveryMs), { kind: 'client' });
        break;
      }
      case 'crash': {
        if (quiet) break;
        const up = [...nodes.values()].filter((n) => n.up);
        const leaders = up.filter((n) => n.role?.kind === 'leader');
        const victim = leaders.length > 0 && rng.chance(0.4) ? rng.pick(leaders) : rng.pick(up);
        if (victim) crash(victim);
        q.push(now + rng.int(1, 2 * faults.crashEveryMs), { kind: 'crash' });
        break;
      }
      case 'restart':
        restart(nodes.get(ev.sid)!);
        break;
      case 'pointCrash': {
        const n = nodes.get(ev.sid)!;
        if (!quiet && n.incarnation === ev.incarnation) crash(n);
        break;
      }
      case 'linkBreak': {
        if (quiet) break;
        const links = allLinks();
        if (links.length > 0) {
          stats.linkBreaks++;
          breakLink(rng.pick(links), 'network fault');
        }
        q.push(now + rng.int(1, 2 * faults.linkBreakEveryMs), { kind: 'linkBreak' });
        break;
      }
      case 'partition': {
        if (quiet) break;
        stats.partitions++;
        for (const sid of nodes.keys()) group.set(sid, rng.int(0, 1));
        log(`PARTITION ${[...group].map(([s, g]) => `${s}:${g}`).join(' ')}`);
        for (const link of allLinks()) if (!canTalk(link.leader, link.learner)) breakLink(link, 'partition');
        q.push(now + rng.int(300, 3000), { kind: 'heal' });
        q.push(now + rng.int(1, 2 * faults.partitionEveryMs), { kind: 'partition' });
        break;
      }
      case 'heal':
        for (const sid of nodes.keys()) group.set(sid, 0);
        log('HEAL');
        break;
      case 'bgSnapshot': {
        if (quiet) break;
        // A server that serves snapshots its (committed, applied) tree now and then, as Apache's
        // SyncRequestProcessor does every snapCount txns.
        const serving = [...nodes.values()].filter((n) => n.up && n.role && n.role.serving);
        if (serving.length > 0) {
          const n = rng.pick(serving);
          enqueue(n, [{ label: 'bgSnapshot', disk: true, run: () => {
            n.disk.snapshots.push({ zxid: n.memZxid, hist: n.mem.slice() });
            n.disk.snapshots.sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
          } }]);
        }
        q.push(now + rng.int(1, 2 * faults.snapshotEveryMs), { kind: 'bgSnapshot' });
        break;
      }
      case 'forwardSync': {
        // A serving learner forwards a client's sync; the leader orders the reply.
        const l = servingLeader();
        if (l) {
          const learners = [...nodes.values()].filter(
            (n) => n.up && n.role?.kind === 'learner' && n.role.leaderRole === l.role && n.role.serving && n.role.link.alive,
          );
          if (learners.length > 0) {
            const f = rng.pick(learners);
            const role = f.role as LearnerRole;
            role.syncs.push(l.role.lastProposed);
            leaderEffects(l.n, l.role, l.role.m.sync(f.sid));
          }
        }
        q.push(now + rng.int(20, 400), { kind: 'forwardSync' });
        break;
      }
      case 'quiet':
        quiet = true;
        quietSince = now;
        log('QUIET: faults stop, partitions heal, everyone restarts');
        for (const sid of nodes.keys()) group.set(sid, 0);
        for (const n of nodes.values()) if (!n.up) q.push(now + 1, { kind: 'restart', sid: n.sid });
        break;
    }
    if (finalTxn !== undefined) {
      // Done when the final txn is applied everywhere.
      const z = zxidOfId.get(finalTxn)!;
      if ([...nodes.values()].every((n) => n.up && n.memZxid >= z && drained(n))) done = true;
    }
  }

  // ---- final checks ---------------------------------------------------------------

  if (!done) {
    const l = servingLeader();
    const state = [...nodes.values()].map((n) => `${n.sid}:${n.up ? n.role?.kind ?? 'looking' : 'down'}${n.role?.kind === 'learner' ? `(${n.role.m.state})` : n.role?.kind === 'leader' ? `(${n.role.m.state})` : ''}@${hex(n.memZxid)}${n.queue.length || n.busy ? ` queue ${n.queue.length}${n.busy ? '+busy' : ''} (${n.queue.slice(0, 3).map((t) => t.label).join(',')})` : ''}`).join(' ');
    violate(
      `liveness: ${quietMs} ms after the faults stopped ${finalTxn === undefined ? (l ? 'not every server is synced with the leader' : 'no leader serves') : `#${finalTxn} has not reached every server`} [${state}]`,
    );
  } else {
    const l = servingLeader();
    const final = l ? l.role.hist : [...nodes.values()].map((n) => n.mem).sort((a, b) => b.length - a.length)[0];
    for (const id of acknowledgedIds) {
      if (!final.includes(id)) violate(`acknowledged txn ${hex(zxidOfId.get(id)!)}#${id} is not in the final history`);
    }
    if (!isPrefix(acked, final)) violate(`the acknowledged history ${histText(acked)} is not a prefix of the final one ${histText(final)}`);
    for (const n of nodes.values()) {
      if (!isPrefix(n.mem, final)) violate(`server ${n.sid}'s memory ${histText(n.mem)} is not a prefix of the final history ${histText(final)}`);
      const d = loadDisk(n).hist;
      if (!isPrefix(d, final)) violate(`server ${n.sid}'s disk history ${histText(d)} is not a prefix of the final history ${histText(final)}`);
      for (const id of acknowledgedIds) {
        if (!n.mem.includes(id)) violate(`server ${n.sid} lacks acknowledged txn ${hex(zxidOfId.get(id)!)}#${id}`);
      }
    }
  }
  stats.acknowledged = acknowledgedIds.size;
  return { seed: opts.seed, voters: opts.voters, violations, trace, stats, faults, endedAt: now };
}
