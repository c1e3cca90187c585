/**
 * Seeded simulation of whole ensembles running our FLE state machine:
 * voters plus observers in one process, on a simulated clock and network
 * that drops, delays, duplicates and reorders messages, partitions the
 * servers and crashes and restarts them. A small ZAB oracle stands in for
 * ZAB here (ensemble-sim-world.ts runs the election with the real ZAB
 * machines, sharing this file's network faults and decision checks); the
 * oracle is what the election hands over to and gets back:
 * a leader is established once a quorum of voters follows it and is
 * reachable (new epoch = max acceptedEpoch + 1; learners take its log);
 * it then broadcasts txns, some of which reach only part of the quorum
 * when the leader crashes mid-broadcast; a leader without a quorum, or a
 * learner without its leader, goes back to LOOKING after syncLimit; a
 * leader that is not established within initLimit does too; a leader
 * refuses to establish with a learner ahead of it (Apache's
 * waitForEpochAck).
 *
 * Invariants checked (violations are collected, with the seed):
 * - one leader per round: in no election round do two different servers
 *   each decide LEADING with a quorum of voters deciding for them;
 * - a server decides LEADING in a round only on a vote that is its own durable
 *   (currentEpoch, lastZxid): the quorum compared itself against that;
 * - the leader has the highest (epoch, zxid) of the quorum it establishes
 *   with (else it steps down, as Apache's waitForEpochAck makes it), and it
 *   holds every txn a quorum ever had (committed): nothing committed is lost;
 * - at most one leader establishes each epoch;
 * - observers never lead and are never voted leader;
 * - liveness: after the faults stop, one established leader that every
 *   server follows or observes.
 *
 * Deterministic for a seed: same seed, same run.
 */
import { Notification, ServerState } from '../../src/server/quorum/election-wire';
import { ElectionOutput, FastLeaderElection, Vote } from '../../src/server/quorum/fast-leader-election';
import { MajorityQuorum, QuorumServer } from '../../src/server/quorum/quorum-verifier';
import { EventQueue } from './event-queue';

/** xoshiro128** : small, fast, good enough, and seedable from one 32-bit number. */
export class Rng {
  private s: Uint32Array;

  constructor(seed: number) {
    // splitmix32 to spread the seed over the state.
    let x = seed >>> 0;
    const next = () => {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s = new Uint32Array([next(), next(), next(), next()]);
  }

  private u32(): number {
    const s = this.s;
    const result = Math.imul(rotl(Math.imul(s[1], 5) >>> 0, 7), 9) >>> 0;
    const t = (s[1] << 9) >>> 0;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 11);
    return result;
  }

  /** Uniform in [0, 1). */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [lo, hi]. */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.next() * xs.length)];
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

export interface SimOptions {
  seed: number;
  voters: number;
  observers: number;
  /** Simulated time with faults. */
  faultMs?: number;
  /** Simulated time without faults at the end (liveness). */
  quietMs?: number;
  /** Keep a trace of events (for replaying a failing seed). */
  trace?: boolean;
}

export interface SimResult {
  seed: number;
  violations: string[];
  events: number;
  decisions: number;
  establishedEpochs: number;
  committedTxns: number;
  crashes: number;
  /** Times a leader stepped down because a learner was ahead of it (stale votes elected it). */
  refusals: number;
  trace: string[];
  faults: FaultProfile;
}

/** How the election network mistreats notifications (shared with ensemble-sim-world.ts). */
export interface NetFaults {
  dropRate: number;
  dupRate: number;
  minDelay: number;
  maxDelay: number;
  longDelayRate: number;
}

export function pickNetFaults(rng: Rng): NetFaults {
  return {
    dropRate: rng.pick([0, 0.02, 0.1, 0.3]),
    dupRate: rng.pick([0, 0.05, 0.2]),
    minDelay: rng.int(0, 5),
    maxDelay: rng.pick([5, 30, 150, 400]),
    longDelayRate: rng.pick([0, 0.02, 0.1]),
  };
}

/**
 * The delivery delays of one notification: none (dropped), one, or two
 * (duplicated); independent delays reorder. Without faults: one copy, 0-3 ms.
 */
export function notificationDelays(rng: Rng, f: NetFaults, faultsOn: boolean): number[] {
  if (faultsOn && rng.chance(f.dropRate)) return [];
  const copies = faultsOn && rng.chance(f.dupRate) ? 2 : 1;
  const delays: number[] = [];
  for (let i = 0; i < copies; i++) {
    let delay = faultsOn ? rng.int(f.minDelay, f.maxDelay) : rng.int(0, 3);
    if (faultsOn && rng.chance(f.longDelayRate)) delay += rng.int(200, 1200);
    delays.push(delay);
  }
  return delays;
}

/**
 * The invariants of FLE decisions (shared with ensemble-sim-world.ts):
 * observers never lead and are never voted leader; in no round do two
 * servers each decide LEADING with a quorum of voters deciding for them;
 * a server decides LEADING in a round only on a vote that is its own
 * durable (currentEpoch, lastZxid).
 */
export class DecisionChecks {
  // round -> sid -> { leader, state } (first decision of each server in each round)
  private readonly roundDecisions = new Map<bigint, Map<bigint, { leader: bigint; state: ServerState }>>();

  constructor(
    private readonly qv: MajorityQuorum,
    private readonly violate: (s: string) => void,
  ) {}

  private isObserver(sid: bigint): boolean {
    return this.qv.servers.get(sid)?.type === 'observer';
  }

  decided(sid: bigint, state: ServerState, vote: Vote, via: 'round' | 'join', durable: { currentEpoch: bigint; lastZxid: bigint }): void {
    const leader = vote.leader;
    const round = vote.electionEpoch;
    if (this.isObserver(sid) && state === ServerState.LEADING) this.violate(`observer ${sid} decided LEADING`);
    if (this.isObserver(leader)) this.violate(`${sid} decided for observer ${leader} as leader`);
    if (!this.qv.servers.has(leader)) this.violate(`${sid} decided for unknown leader ${leader}`);
    let perRound = this.roundDecisions.get(round);
    if (!perRound) this.roundDecisions.set(round, (perRound = new Map()));
    if (!perRound.has(sid)) perRound.set(sid, { leader, state });
    this.checkRound(round, perRound);
    if (state === ServerState.LEADING && via === 'round' && (vote.zxid !== durable.lastZxid || vote.peerEpoch !== durable.currentEpoch)) {
      // A leader's vote must describe what it durably has: the vote is how a quorum compared it with themselves.
      this.violate(`${sid} decided LEADING on vote (epoch ${vote.peerEpoch}, zxid 0x${vote.zxid.toString(16)}) but has (epoch ${durable.currentEpoch}, zxid 0x${durable.lastZxid.toString(16)})`);
    }
  }

  private checkRound(round: bigint, perRound: Map<bigint, { leader: bigint; state: ServerState }>): void {
    const backers = new Map<bigint, bigint[]>();
    for (const [sid, d] of perRound) {
      if (this.isObserver(sid)) continue;
      const list = backers.get(d.leader) ?? [];
      list.push(sid);
      backers.set(d.leader, list);
    }
    const winners = [...backers].filter(([leader, sids]) => perRound.get(leader)?.state === ServerState.LEADING && this.qv.containsQuorum(sids));
    if (winners.length > 1) {
      this.violate(`round ${round}: two leaders with a quorum each: ${winners.map(([l, s]) => `${l} <- [${s.join(',')}]`).join('; ')}`);
    }
  }
}

interface FaultProfile extends NetFaults {
  partitionEveryMs: number;
  crashEveryMs: number;
  midBroadcastCrashRate: number;
}

type Role = 'looking' | 'leading' | 'following' | 'observing';

interface Node {
  sid: bigint;
  observer: boolean;
  up: boolean;
  incarnation: number;
  fle: FastLeaderElection;
  tickGen: number;
  // Durable.
  log: bigint[];
  acceptedEpoch: bigint;
  currentEpoch: bigint;
  // ZAB oracle view.
  role: Role;
  leader?: bigint;
  decidedAt: number;
  established: boolean;
  epoch: bigint;
  troubleSince?: number;
}

type SimEvent =
  | { kind: 'deliver'; from: bigint; to: bigint; incarnation: number; n: Notification }
  | { kind: 'tick'; sid: bigint; gen: number; incarnation: number }
  | { kind: 'zab' }
  | { kind: 'txn' }
  | { kind: 'partition' }
  | { kind: 'crash' }
  | { kind: 'restart'; sid: bigint }
  | { kind: 'quiet' };

const TICK = 200;
const INIT_LIMIT = 10 * TICK;
const SYNC_LIMIT = 5 * TICK;

const lastZxid = (n: Node): bigint => (n.log.length ? n.log[n.log.length - 1] : 0n);
const newerThan = (a: Node, b: Node): boolean =>
  a.currentEpoch > b.currentEpoch || (a.currentEpoch === b.currentEpoch && lastZxid(a) > lastZxid(b));

/** Runs one seed; never throws for a protocol problem (those are in `violations`). */
export function runElectionSim(opts: SimOptions): SimResult {
  const rng = new Rng(opts.seed);
  const faultMs = opts.faultMs ?? 30_000;
  const quietMs = opts.quietMs ?? 200_000;
  const faults: FaultProfile = {
    ...pickNetFaults(rng),
    partitionEveryMs: rng.pick([0, 1500, 4000]),
    crashEveryMs: rng.pick([0, 2000, 6000]),
    midBroadcastCrashRate: rng.pick([0, 0.02, 0.1]),
  };
  const servers: QuorumServer[] = [];
  const total = opts.voters + opts.observers;
  for (let i = 1; i <= total; i++) {
    servers.push({ sid: BigInt(i), host: '127.0.0.1', quorumPort: 2000 + i, electionPort: 3000 + i, type: i > opts.voters ? 'observer' : 'participant' });
  }
  const qv = new MajorityQuorum(servers);
  const nodes = new Map<bigint, Node>();
  const q = new EventQueue<SimEvent>();
  const violations: string[] = [];
  const trace: string[] = [];
  let now = 0;
  let events = 0;
  let decisions = 0;
  let crashes = 0;
  let refusals = 0;
  let faultsOn = true;
  let group = new Map<bigint, number>(); // partition id per sid
  const committed = new Set<bigint>();
  const epochLeader = new Map<bigint, bigint>();

  const log = (s: string) => {
    if (opts.trace) trace.push(`${String(now).padStart(7)} ${s}`);
  };
  const violate = (s: string) => {
    violations.push(`t=${now}: ${s}`);
    log(`VIOLATION ${s}`);
  };
  const checks = new DecisionChecks(qv, violate);

  const connected = (a: bigint, b: bigint): boolean => {
    const na = nodes.get(a)!;
    const nb = nodes.get(b)!;
    return na.up && nb.up && (group.get(a) ?? 0) === (group.get(b) ?? 0);
  };

  const history = (n: Node) => ({ lastLoggedZxid: lastZxid(n), currentEpoch: n.currentEpoch });

  function newFle(n: Node): FastLeaderElection {
    return new FastLeaderElection({ myId: n.sid, verifier: qv, history: history(n) });
  }

  function apply(n: Node, out: ElectionOutput): void {
    for (const m of out.messages) send(n.sid, m.to, m.notification);
    n.tickGen++;
    if (out.nextTickAt !== undefined) q.push(Math.max(out.nextTickAt, now), { kind: 'tick', sid: n.sid, gen: n.tickGen, incarnation: n.incarnation });
    if (out.decided) onDecided(n, out.decided.state, out.decided.vote, out.decided.via);
  }

  function send(from: bigint, to: bigint, n: Notification): void {
    const target = nodes.get(to);
    if (!target || !connected(from, to)) return;
    for (const delay of notificationDelays(rng, faults, faultsOn)) q.push(now + delay, { kind: 'deliver', from, to, incarnation: target.incarnation, n });
  }

  function lookForLeader(n: Node, why: string): void {
    log(`${n.sid} LOOKING (${why})`);
    n.role = 'looking';
    n.leader = undefined;
    n.established = false;
    n.troubleSince = undefined;
    apply(n, n.fle.lookForLeader(now, history(n)));
  }

  function onDecided(n: Node, state: ServerState, vote: Vote, via: 'round' | 'join'): void {
    const leader = vote.leader;
    const round = vote.electionEpoch;
    decisions++;
    log(`${n.sid} decided ${ServerState[state]} (${via}) leader=${leader} round=${round} (epoch ${n.currentEpoch}, zxid 0x${lastZxid(n).toString(16)})`);
    checks.decided(n.sid, state, vote, via, { currentEpoch: n.currentEpoch, lastZxid: lastZxid(n) });
    n.role = state === ServerState.LEADING ? 'leading' : state === ServerState.FOLLOWING ? 'following' : 'observing';
    n.leader = leader;
    n.decidedAt = now;
    n.established = false;
    n.troubleSince = undefined;
  }

  function establish(l: Node, quorum: Node[]): void {
    let newEpoch = l.acceptedEpoch;
    for (const m of quorum) if (m.acceptedEpoch > newEpoch) newEpoch = m.acceptedEpoch;
    newEpoch += 1n;
    const logSet = new Set(l.log);
    for (const z of committed) if (!logSet.has(z)) violate(`leader ${l.sid} (epoch ${newEpoch}) lacks committed txn 0x${z.toString(16)}`);
    const prev = epochLeader.get(newEpoch);
    if (prev !== undefined && prev !== l.sid) violate(`epoch ${newEpoch} established by ${prev} and ${l.sid}`);
    epochLeader.set(newEpoch, l.sid);
    log(`${l.sid} ESTABLISHED epoch ${newEpoch} with [${quorum.map((m) => m.sid).join(',')}]`);
    for (const m of [l, ...quorum]) {
      m.acceptedEpoch = newEpoch;
      m.currentEpoch = newEpoch;
      m.log = [...l.log];
      m.established = true;
      m.epoch = newEpoch;
      m.troubleSince = undefined;
      m.fle.updateElectionVote(newEpoch);
    }
  }

  function joinEstablished(l: Node, m: Node): void {
    if (!m.observer) {
      m.acceptedEpoch = l.epoch;
      m.currentEpoch = l.epoch;
    }
    m.log = [...l.log];
    m.established = true;
    m.epoch = l.epoch;
    m.troubleSince = undefined;
    m.fle.updateElectionVote(l.epoch);
    log(`${m.sid} joined leader ${l.sid} in epoch ${l.epoch}`);
  }

  function zabStep(): void {
    for (const n of nodes.values()) {
      if (!n.up || n.role === 'looking') continue;
      if (n.role === 'leading') {
        const followers = [...nodes.values()].filter((m) => m !== n && !m.observer && m.role === 'following' && m.leader === n.sid && connected(n.sid, m.sid));
        if (!n.established) {
          if (now - n.decidedAt > INIT_LIMIT) {
            lookForLeader(n, 'no quorum of followers within initLimit');
            continue;
          }
          if (qv.containsQuorum([n.sid, ...followers.map((f) => f.sid)])) {
            const ahead = followers.find((f) => newerThan(f, n));
            if (ahead) {
              refusals++;
              lookForLeader(n, `learner ${ahead.sid} is ahead of the leader`);
              continue;
            }
            establish(n, followers);
          }
          continue;
        }
        const synced = followers.filter((f) => f.established && f.epoch === n.epoch);
        if (qv.containsQuorum([n.sid, ...synced.map((f) => f.sid)])) n.troubleSince = undefined;
        else if (n.troubleSince === undefined) n.troubleSince = now;
        else if (now - n.troubleSince > SYNC_LIMIT) lookForLeader(n, 'lost its quorum');
        continue;
      }
      // Following or observing.
      const l = nodes.get(n.leader!);
      if (!l) {
        lookForLeader(n, `unknown leader ${n.leader}`);
        continue;
      }
      const leaderOk = connected(n.sid, l.sid) && l.role === 'leading';
      if (!n.established) {
        if (leaderOk && l.established) {
          // A learner that joins an established leader is synced to it (DIFF/TRUNC/SNAP).
          joinEstablished(l, n);
        } else if (now - n.decidedAt > INIT_LIMIT) {
          lookForLeader(n, `leader ${l.sid} never established`);
        }
        continue;
      }
      if (leaderOk && l.established && l.epoch === n.epoch) n.troubleSince = undefined;
      else if (n.troubleSince === undefined) n.troubleSince = now;
      else if (now - n.troubleSince > SYNC_LIMIT) lookForLeader(n, `lost leader ${l.sid}`);
    }
  }

  function broadcastTxn(): void {
    for (const l of nodes.values()) {
      if (!l.up || l.role !== 'leading' || !l.established) continue;
      const last = lastZxid(l);
      const counter = last >> 32n === l.epoch ? (last & 0xffffffffn) + 1n : 1n;
      const zxid = (l.epoch << 32n) | counter;
      const learners = [...nodes.values()].filter((m) => m !== l && m.up && m.established && m.leader === l.sid && m.epoch === l.epoch);
      const crashMid = faultsOn && rng.chance(faults.midBroadcastCrashRate);
      l.log.push(zxid);
      const got: bigint[] = [l.sid];
      for (const m of learners) {
        if (!connected(l.sid, m.sid)) {
          // The TCP link broke: this learner cannot continue with a hole in its log.
          lookForLeader(m, `missed txn 0x${zxid.toString(16)}`);
          continue;
        }
        if (crashMid && rng.chance(0.5)) continue;
        m.log.push(zxid);
        if (!m.observer) got.push(m.sid);
      }
      if (qv.containsQuorum(got)) committed.add(zxid);
      log(`${l.sid} txn 0x${zxid.toString(16)} on [${got.join(',')}]${qv.containsQuorum(got) ? ' committed' : ''}`);
      if (crashMid) {
        crash(l);
        // Learners that did not get it have a hole: they drop the (dead) leader.
        for (const m of learners) if (m.up && lastZxid(m) !== zxid && m.role !== 'looking') lookForLeader(m, 'leader died mid-broadcast');
      }
    }
  }

  function crash(n: Node): void {
    if (!n.up) return;
    crashes++;
    n.up = false;
    n.incarnation++;
    n.role = 'looking';
    n.established = false;
    log(`${n.sid} CRASH`);
    q.push(now + rng.int(200, 5000), { kind: 'restart', sid: n.sid });
  }

  function restart(n: Node): void {
    if (n.up) return;
    n.up = true;
    n.incarnation++;
    n.fle = newFle(n);
    log(`${n.sid} RESTART`);
    lookForLeader(n, 'restart');
  }

  function repartition(): void {
    const sids = [...nodes.keys()];
    const r = rng.next();
    group = new Map();
    if (r < 0.4) {
      log('PARTITION healed');
    } else if (r < 0.7) {
      const lone = rng.pick(sids);
      group.set(lone, 1);
      log(`PARTITION isolate ${lone}`);
    } else {
      for (const s of sids) group.set(s, rng.int(0, 1));
      log(`PARTITION split ${sids.map((s) => `${s}:${group.get(s) ?? 0}`).join(' ')}`);
    }
  }

  // Start every server within the first 300 ms, in random order.
  for (const s of servers) {
    const n: Node = {
      sid: s.sid,
      observer: s.type === 'observer',
      up: false,
      incarnation: 0,
      fle: undefined as unknown as FastLeaderElection,
      tickGen: 0,
      log: [],
      acceptedEpoch: 0n,
      currentEpoch: 0n,
      role: 'looking',
      decidedAt: 0,
      established: false,
      epoch: 0n,
    };
    nodes.set(s.sid, n);
    q.push(rng.int(0, 300), { kind: 'restart', sid: s.sid });
  }
  q.push(50, { kind: 'zab' });
  q.push(500, { kind: 'txn' });
  if (faults.partitionEveryMs) q.push(rng.int(0, faults.partitionEveryMs), { kind: 'partition' });
  if (faults.crashEveryMs) q.push(rng.int(500, faults.crashEveryMs), { kind: 'crash' });
  q.push(faultMs, { kind: 'quiet' });

  const end = faultMs + quietMs;
  for (;;) {
    const item = q.pop();
    if (!item || item.at > end) break;
    now = item.at;
    events++;
    if (events > 5_000_000) {
      violate('event budget exhausted (livelock?)');
      break;
    }
    const ev = item.ev;
    switch (ev.kind) {
      case 'deliver': {
        const to = nodes.get(ev.to)!;
        if (!to.up || to.incarnation !== ev.incarnation || !connected(ev.from, ev.to)) break;
        apply(to, to.fle.step(ev.from, ev.n, now));
        break;
      }
      case 'tick': {
        const n = nodes.get(ev.sid)!;
        if (!n.up || n.incarnation !== ev.incarnation || n.tickGen !== ev.gen) break;
        apply(n, n.fle.tick(now));
        break;
      }
      case 'zab':
        zabStep();
        q.push(now + 50, { kind: 'zab' });
        break;
      case 'txn':
        broadcastTxn();
        q.push(now + (faultsOn ? rng.int(50, 400) : 1000), { kind: 'txn' });
        break;
      case 'partition':
        if (!faultsOn) break;
        repartition();
        q.push(now + rng.int(200, faults.partitionEveryMs * 2), { kind: 'partition' });
        break;
      case 'crash': {
        if (!faultsOn) break;
        const upNodes = [...nodes.values()].filter((n) => n.up);
        // Prefer the leader half the time: that is what forces new elections.
        const leaderNode = upNodes.find((n) => n.role === 'leading');
        if (upNodes.length > 0) crash(leaderNode && rng.chance(0.5) ? leaderNode : rng.pick(upNodes));
        q.push(now + rng.int(faults.crashEveryMs / 2, faults.crashEveryMs * 2), { kind: 'crash' });
        break;
      }
      case 'restart':
        restart(nodes.get(ev.sid)!);
        break;
      case 'quiet':
        faultsOn = false;
        group = new Map();
        log('QUIET: faults off, partitions healed, crashed servers restart');
        for (const n of nodes.values()) restart(n);
        break;
    }
  }

  // Liveness: one established leader, everybody with it.
  const leaders = [...nodes.values()].filter((n) => n.up && n.role === 'leading' && n.established);
  if (leaders.length !== 1) {
    violate(`after ${quietMs} ms without faults: ${leaders.length} established leaders (roles: ${[...nodes.values()].map((n) => `${n.sid}=${n.role}${n.established ? '*' : ''}->${n.leader ?? '-'}`).join(' ')})`);
  } else {
    const l = leaders[0];
    for (const n of nodes.values()) {
      if (n === l) continue;
      const want = n.observer ? 'observing' : 'following';
      if (n.role !== want || n.leader !== l.sid || !n.established) violate(`after the quiet period ${n.sid} is ${n.role} ${n.leader ?? '-'} (established ${n.established}), not ${want} ${l.sid}`);
    }
  }

  return {
    seed: opts.seed,
    violations,
    events,
    decisions,
    establishedEpochs: epochLeader.size,
    committedTxns: committed.size,
    crashes,
    refusals,
    trace,
    faults,
  };
}
