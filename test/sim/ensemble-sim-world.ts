/**
 * Seeded simulation of whole ensembles in one process: 3 or 5 voters and an
 * observer running our real Fast Leader Election machine
 * (src/server/quorum/fast-leader-election.ts) and our real ZAB machines
 * (zab-leader.ts, zab-learner.ts) together, with no oracle on either side,
 * and clients whose histories are checked for linearizability.
 *
 * What is modelled:
 * - Servers, disks, hosts, quorum links and their faults are zab-sim-world.ts's ZabCluster
 *   (crashes lose every unfinished write: an unsynced log tail is lost;
 *   fsync delays and stalls; group commit on learners; broken links;
 *   partitions; background snapshots; crashes aimed just after ACKs).
 * - Election: a LOOKING server runs the FLE machine, its vote built from
 *   its DISK (currentEpoch and last logged zxid, as quorum-peer.ts does:
 *   it claims only what is durable), and only once its disk queues are
 *   drained (quorum-peer waits for the term's writes, `settled`). Its
 *   notifications cross a simulated election network that drops, delays,
 *   duplicates and reorders them (election-sim.ts's `notificationDelays`)
 *   and follows the same partitions as the quorum links. The machine lives
 *   on while the server has a role, answering LOOKING peers with its
 *   decision; a `serve` (leader or learner) calls updateElectionVote with
 *   the served epoch (ZOOKEEPER-1732, quorum-peer's onServing). A decision
 *   starts the role: LEADING at once; FOLLOWING / OBSERVING connects to the
 *   leader's quorum port, retrying (10 ms doubling to 1 s) within initLimit
 *   ticks as learner-host.ts does: a connection succeeds when the chosen
 *   server is up, reachable and has a leader role. A role's end (or a
 *   failed connection) sends the server back to LOOKING with a vote
 *   rebuilt from disk; a crash loses the machine, a restart makes a new one.
 * - Clocks: each server's machines (FLE timeouts, ZAB ticks) read a local
 *   clock `floor(offset + rate * t)`, rate within +-3 %, offset < 100 s.
 * - Clients: sessions attached to one server at a time, one op in flight
 *   each, with small network delays both ways. A session attaches to a
 *   serving server only if that server has applied at least the session's
 *   lastZxidSeen (Apache's client sends it at connect; a server behind it
 *   refuses the session); it re-attaches elsewhere when its server crashes,
 *   its role ends, an op times out (3 s), or now and then by choice. Reads
 *   (getData on registers, getChildren on the sequence parent, exists on
 *   ephemerals) are answered from the server's applied memory with its
 *   last applied zxid. Writes (setData, setData with an expected version =
 *   compare-and-set, sequential create under /seq, ephemeral create and
 *   delete, closeSession) are submitted at the attached server; a learner
 *   forwards them to its leader on its quorum link (lost if the link or
 *   either end dies). The leader "preps" each one against its latest
 *   PROPOSED state (Apache's PrepRequestProcessor with its outstanding
 *   changes): the version check, the sequence number (parent cversion),
 *   NodeExists / NoNode; a failed check becomes an error txn, proposed and
 *   committed like any other (Apache does the same). The client's reply is
 *   sent when its own server APPLIES the committed txn (leader: at
 *   commit; learner: at its apply), with what that apply computed. A write
 *   whose server dies, whose role ends, or that times out before the reply
 *   is `unknown`.
 * - Data: a small tree (path -> data, version, cversion, ephemeralOwner)
 *   with three registers, /seq and /eph. A txn is the machines' TxnEntry:
 *   header.cxid is the simulation's unique txn id, header.clientId the
 *   session, header.type Apache's opcode (1 create, 2 delete, 5 setData,
 *   -11 closeSession, -1 error) and the body the JSON of `TxnBody` below:
 *   everything the apply needs, plus which server/session/op to answer.
 *
 * Checks (violations collected with the seed):
 * - linearizability (linearizability.ts) of the writes, including CAS
 *   failures (BadVersion), NodeExists and NoNode: registerModel per
 *   register, sequenceModel for /seq, ephemeralModel per session;
 *   `inconclusive` is a failure. Reads are not linearizable in ZooKeeper
 *   (a follower may lag), so they are checked per session instead:
 * - a session never sees an older zxid than one it saw before (reads and
 *   replies, across re-attaching: read-your-writes, monotonic reads);
 * - every read returned the state of the final committed history at the
 *   zxid it was served at (servers only ever serve committed prefixes);
 * - FLE: observers never lead; no two leaders with a quorum each in one
 *   round; a server decides LEADING only on its own durable vote
 *   (election-sim.ts's DecisionChecks);
 * - ZAB (ZabCluster, zab-sim-world.ts): at most one leader established per epoch,
 *   committed histories agree (prefixes), nothing acknowledged lost;
 * - at the end (faults off, partitions healed, everyone restarted): one
 *   leader serves with every server synced, a new client write is answered
 *   within bounded simulated time (liveness), and every write a client got
 *   a reply for is in every server's memory and disk history.
 *
 * What is not modelled, and why: session creation, expiry and SESSIONMOVED
 * (sessions exist from the start and end only by closeSession: the
 * leader-side session tracker is not in the machines under test);
 * forwarded syncs before reads (sync + read is not linearizable in
 * ZooKeeper either); client-side partitions (clients reach every live
 * server); reconfiguration; pipelined ops within a session (one in flight
 * keeps the per-session checks exact); the hosts' real code (leader-host,
 * learner-host, quorum-peer: this models their contracts, not their code).
 * The FLE notification interval is capped at 2 s (Apache's default cap is
 * 60 s) so that the quiet phase stays short; the code path is the same.
 *
 * Deterministic for a seed: one seeded Rng drives everything.
 */
import { Notification, ServerState } from '../../src/server/quorum/election-wire';
import { ElectionDecision, ElectionOutput, FastLeaderElection } from '../../src/server/quorum/fast-leader-election';
import type { TxnEntry } from '../../src/server/persist/types';
import { hex } from '../../src/server/quorum/zab-messages';
import { DecisionChecks, NetFaults, Rng, notificationDelays, pickNetFaults } from './election-sim';
import { HistoryOp, Model, checkHistory, ephemeralModel, registerModel, sequenceModel } from './linearizability';
import { FaultProfile, INIT_LIMIT, LeaderRole, Role, Server, SimApp, SimClock, TICK, ZabCluster, ZabSimStats, pickZabFaults } from './zab-sim-world';

export interface EnsembleVariant {
  /** Known-bad: the client's reply leaves when the leader proposes, not when its server applies the commit. */
  replyAtProposal?: boolean;
  /** Known-bad: a server accepts a session whose lastZxidSeen is ahead of it. */
  acceptSessionsAhead?: boolean;
  /** Known-bad: the leader answers reads from its proposed state (uncommitted changes included). */
  readsSeeProposals?: boolean;
}

export interface EnsembleSimOptions {
  seed: number;
  voters: number;
  observers?: number;
  /** Simulated time with faults (default 10 s). */
  faultMs?: number;
  /** Simulated time allowed after the faults stop for the liveness goal (default 30 s). */
  quietMs?: number;
  trace?: boolean;
  variant?: EnsembleVariant;
}

export interface EnsembleFaults {
  zab: FaultProfile;
  net: NetFaults;
  maxSkew: number;
  clients: number;
  clientEveryMs: number;
  clientDelayMax: number;
}

export interface EnsembleStats extends ZabSimStats {
  decisions: number;
  leadingDecisions: number;
  joins: number;
  connectFailures: number;
  notifications: number;
  reads: number;
  ackedSet: number;
  ackedCas: number;
  ackedCreateSeq: number;
  ackedCreateEph: number;
  ackedDeleteEph: number;
  ackedClose: number;
  casFailed: number;
  nodeExists: number;
  noNode: number;
  unknown: number;
  refusedBehind: number;
  refusedNotServing: number;
  reattaches: number;
  requestsLost: number;
  linearizabilityOps: number;
  /** Simulated ms from the end of the faults to the liveness write's reply. */
  goalMs: number;
}

export interface EnsembleSimResult {
  seed: number;
  voters: number;
  violations: string[];
  trace: string[];
  stats: EnsembleStats;
  faults: EnsembleFaults;
  endedAt: number;
}

// ---- the data tree ---------------------------------------------------------------

interface ZNode {
  data: string;
  version: number;
  cversion: number;
  /** Ephemeral owner (session id), 0 for persistent nodes. */
  owner: number;
}

export interface Tree {
  nodes: Map<string, ZNode>;
  closed: Set<number>;
}

export const REGISTERS = ['/reg/0', '/reg/1', '/reg/2'];
const SEQ = '/seq';
const EPH = '/eph';

/** [server that took the request, session, op id]: who is answered at apply. */
type ReqId = [number, number, number];

/** A txn's payload (JSON in TxnEntry.body). */
export type TxnBody =
  | { op: 'set'; path: string; data: string; version: number; req: ReqId }
  | { op: 'create'; path: string; owner: number; req: ReqId }
  | { op: 'delete'; path: string; req: ReqId }
  | { op: 'close'; session: number; req: ReqId }
  | { op: 'error'; code: number; req: ReqId };

const OPCODE = { set: 5, create: 1, delete: 2, close: -11, error: -1 } as const;
const BAD_VERSION = -103;
const NODE_EXISTS = -110;
const NO_NODE = -101;
const SESSION_EXPIRED = -112;

const bodies = new WeakMap<TxnEntry, TxnBody>();
export function txnBody(t: TxnEntry): TxnBody {
  let b = bodies.get(t);
  if (!b) bodies.set(t, (b = JSON.parse(t.body.toString()) as TxnBody));
  return b;
}

const parentOf = (path: string) => path.slice(0, path.lastIndexOf('/'));
const ephPath = (session: number) => `${EPH}/s${session}`;
const seqPath = (n: number) => `${SEQ}/n-${String(n).padStart(10, '0')}`;

function removeNode(t: Tree, path: string): void {
  if (!t.nodes.delete(path)) return;
  const p = t.nodes.get(parentOf(path));
  if (p) p.cversion++;
}

/** The tree as a replicated state machine (apply is total: a txn that cannot apply changes nothing). */
export const treeApp: SimApp<Tree> = {
  init() {
    const nodes = new Map<string, ZNode>();
    for (const p of ['/reg', SEQ, EPH, ...REGISTERS]) nodes.set(p, { data: '', version: 0, cversion: 0, owner: 0 });
    return { nodes, closed: new Set() };
  },
  copy: (t) => ({ nodes: new Map([...t.nodes].map(([k, v]) => [k, { ...v }])), closed: new Set(t.closed) }),
  apply(t, txn) {
    const b = txnBody(txn);
    switch (b.op) {
      case 'set': {
        const node = t.nodes.get(b.path);
        if (node) {
          node.data = b.data;
          node.version = b.version;
        }
        return;
      }
      case 'create': {
        const p = t.nodes.get(parentOf(b.path));
        if (t.nodes.has(b.path) || !p) return;
        t.nodes.set(b.path, { data: '', version: 0, cversion: 0, owner: b.owner });
        p.cversion++;
        return;
      }
      case 'delete':
        return removeNode(t, b.path);
      case 'close':
        for (const [path, node] of [...t.nodes]) if (node.owner === b.session) removeNode(t, path);
        t.closed.add(b.session);
        return;
      case 'error':
        return;
    }
  },
};

// ---- clients -----------------------------------------------------------------------

type OpSpec =
  | { f: 'get'; path: string }
  | { f: 'children' }
  | { f: 'exists'; path: string }
  | { f: 'set'; path: string; data: string }
  | { f: 'cas'; path: string; data: string; expected: number }
  | { f: 'createSeq' }
  | { f: 'createEph' }
  | { f: 'deleteEph' }
  | { f: 'close' };

type ReadSpec = Extract<OpSpec, { f: 'get' | 'children' | 'exists' }>;
type WriteSpec = Exclude<OpSpec, ReadSpec>;

/** What a reply carries: a read's value, or a write's result (error code for an error txn). */
type Result = { value: string } | { code: number; version?: number; seq?: number };

interface Session {
  id: number;
  lastZxid: bigint;
}

interface Pending {
  opId: number;
  spec: OpSpec;
  token: number;
  hist?: HistoryOp;
  /** The liveness goal's write. */
  goal?: boolean;
}

interface Client {
  id: number;
  probe: boolean;
  session: Session;
  attach?: { sid: bigint; gen: number; token: number };
  attaching?: number;
  pending?: Pending;
  /** The newest version this client saw per register (its CAS expectation). */
  seen: Map<string, number>;
}

interface Request {
  origin: number;
  client: number;
  session: number;
  opId: number;
  spec: WriteSpec;
}

interface ReadRecord {
  zxid: bigint;
  spec: ReadSpec;
  value: string;
  sid: bigint;
  session: number;
}

// ---- election state per server ---------------------------------------------------------

interface Elector {
  fle?: FastLeaderElection;
  tickGen: number;
  phase: 'down' | 'settling' | 'looking' | 'connecting' | 'role';
  leader?: bigint;
  connectGen: number;
  connectDeadline: number;
  connectWait: number;
}

type EnsEvent =
  | { kind: 'fleDeliver'; from: bigint; to: bigint; incarnation: number; n: Notification }
  | { kind: 'fleTick'; sid: bigint; gen: number; incarnation: number }
  | { kind: 'settle'; sid: bigint; incarnation: number }
  | { kind: 'connect'; sid: bigint; gen: number; incarnation: number }
  | { kind: 'client'; c: number }
  | { kind: 'attach'; c: number; sid: bigint; token: number }
  | { kind: 'arrive'; c: number; token: number; opId: number }
  | { kind: 'reply'; c: number; token: number; opId: number; zxid: bigint; result: Result; txnId?: number }
  | { kind: 'opTimeout'; c: number; opId: number };

const OP_TIMEOUT = 3000;
const FLE_MAX_INTERVAL = 2000;

/** A local clock running at `rate` from `offset`. */
export function skewedClock(rate: number, offset: number): SimClock {
  const local = (t: number) => Math.floor(offset + rate * t);
  return {
    local,
    global(l: number) {
      let t = Math.ceil((l - offset) / rate);
      while (local(t) < l) t++;
      while (local(t - 1) >= l) t--;
      return t;
    },
  };
}

/** Ops and replies of one kind, as stats fields. */
const ACKED: Record<WriteSpec['f'], keyof EnsembleStats> = {
  set: 'ackedSet',
  cas: 'ackedCas',
  createSeq: 'ackedCreateSeq',
  createEph: 'ackedCreateEph',
  deleteEph: 'ackedDeleteEph',
  close: 'ackedClose',
};

const isWrite = (s: OpSpec): s is WriteSpec => s.f !== 'get' && s.f !== 'children' && s.f !== 'exists';

/** What a read returns from a tree (a string, compared as is). */
function readValue(t: Tree, spec: ReadSpec): string {
  switch (spec.f) {
    case 'get': {
      const n = t.nodes.get(spec.path);
      return n ? `${n.data}@v${n.version}` : 'NoNode';
    }
    case 'children':
      return [...t.nodes.keys()].filter((p) => parentOf(p) === SEQ).sort().join(',');
    case 'exists':
      return String(t.nodes.has(spec.path));
  }
}

/** PrepRequestProcessor for one write against the leader's latest proposed state: its txn (an error txn when a check fails). */
function prepBody(state: Tree, req: Request): TxnBody {
  const reqId: ReqId = [req.origin, req.session, req.opId];
  const spec = req.spec;
  const err = (code: number): TxnBody => ({ op: 'error', code, req: reqId });
  switch (spec.f) {
    case 'set':
    case 'cas': {
      const node = state.nodes.get(spec.path)!;
      if (spec.f === 'cas' && node.version !== spec.expected) return err(BAD_VERSION);
      return { op: 'set', path: spec.path, data: spec.data, version: node.version + 1, req: reqId };
    }
    case 'createSeq':
      return { op: 'create', path: seqPath(state.nodes.get(SEQ)!.cversion), owner: 0, req: reqId };
    case 'createEph': {
      const path = ephPath(req.session);
      if (state.closed.has(req.session)) return err(SESSION_EXPIRED);
      return state.nodes.has(path) ? err(NODE_EXISTS) : { op: 'create', path, owner: req.session, req: reqId };
    }
    case 'deleteEph': {
      const path = ephPath(req.session);
      return state.nodes.has(path) ? { op: 'delete', path, req: reqId } : err(NO_NODE);
    }
    case 'close':
      return { op: 'close', session: req.session, req: reqId };
  }
}

/** Register histories have no reads here: the state is the version alone (values are never observed). */
function versionRegister(): Model<unknown> {
  const m = registerModel();
  return { ...m, hash: (s) => String((s as { version: number }).version) } as Model<unknown>;
}

export function runEnsembleSim(opts: EnsembleSimOptions): EnsembleSimResult {
  const rng = new Rng(opts.seed * 104729 + opts.voters * 13 + 1);
  const observers = opts.observers ?? 1;
  const faultMs = opts.faultMs ?? 10_000;
  const quietMs = opts.quietMs ?? 30_000;
  const variant = opts.variant ?? {};
  const zab = pickZabFaults(rng);
  // Elections take a few hundred ms: crashes every 400 ms would leave no term long enough to commit.
  zab.crashEveryMs = rng.pick([0, 800, 2000, 4000]);
  const faults: EnsembleFaults = {
    zab,
    net: pickNetFaults(rng),
    maxSkew: rng.pick([0, 0.01, 0.03]),
    clients: rng.int(3, 6),
    clientEveryMs: rng.pick([5, 20, 60]),
    clientDelayMax: rng.pick([2, 10, 40]),
  };
  const clocks = new Map<bigint, SimClock>();
  for (let i = 1; i <= opts.voters + observers; i++) {
    clocks.set(BigInt(i), skewedClock(1 + (rng.next() * 2 - 1) * faults.maxSkew, rng.int(0, 100_000)));
  }
  const electors = new Map<bigint, Elector>();
  const clients: Client[] = [];
  const prepState = new WeakMap<LeaderRole, Tree>();
  const txns = new Map<number, TxnEntry>();
  const history: HistoryOp[] = [];
  const reads: ReadRecord[] = [];
  /** Txn ids whose client got a reply (ok or an error txn's failure). */
  const replied = new Set<number>();
  let nextOpId = 1;
  let nextSession = 1;
  let nextToken = 1;
  let goalDone = false;

  const c: ZabCluster<Tree, EnsEvent> = new ZabCluster<Tree, EnsEvent>({
    voters: opts.voters,
    observers,
    trace: opts.trace,
    rng,
    faults: zab,
    app: treeApp,
    clocks,
    hooks: {
      looking: (n, why) => {
        detachAll(n, `role ended: ${why}`);
        settle(n);
      },
      crashed: (n) => {
        detachAll(n, 'server crashed');
        const e = electors.get(n.sid)!;
        e.phase = 'down';
        e.fle = undefined;
      },
      restarted: (n) => {
        electors.get(n.sid)!.fle = new FastLeaderElection({ myId: n.sid, verifier: c.qv, history: durable(n), maxNotificationIntervalMs: FLE_MAX_INTERVAL });
        settle(n);
      },
      serving: (n, role, epoch) => {
        // ZOOKEEPER-1732: joiners compare the epoch we serve in (quorum-peer's onServing).
        electors.get(n.sid)!.fle?.updateElectionVote(epoch);
        if (role.kind === 'leader') prepState.set(role, treeApp.copy(n.app));
        c.log(`server ${n.sid} serves clients in epoch ${epoch} at ${hex(n.memZxid)}`);
      },
      applied: (n, txn) => answerAtApply(n, txn),
      request: (n, role, _from, req) => prep(n, role, req as Request),
    },
  });
  const stats: EnsembleStats = Object.assign(c.stats, {
    decisions: 0, leadingDecisions: 0, joins: 0, connectFailures: 0, notifications: 0, reads: 0,
    ackedSet: 0, ackedCas: 0, ackedCreateSeq: 0, ackedCreateEph: 0, ackedDeleteEph: 0, ackedClose: 0,
    casFailed: 0, nodeExists: 0, noNode: 0, unknown: 0, refusedBehind: 0, refusedNotServing: 0, reattaches: 0,
    requestsLost: 0, linearizabilityOps: 0, goalMs: 0,
  });
  const checks = new DecisionChecks(c.qv, (s) => c.violate(s));

  // ---- election --------------------------------------------------------------------------

  function durable(n: Server<Tree>): { lastLoggedZxid: bigint; currentEpoch: bigint } {
    return { lastLoggedZxid: c.diskLastZxid(n), currentEpoch: n.disk.currentEpoch };
  }

  /** Back to LOOKING once the disk queues drained (quorum-peer's host.settled()). */
  function settle(n: Server<Tree>): void {
    electors.get(n.sid)!.phase = 'settling';
    c.at(c.now + 1, { kind: 'settle', sid: n.sid, incarnation: n.incarnation });
  }

  function onSettle(n: Server<Tree>): void {
    const e = electors.get(n.sid)!;
    if (e.phase !== 'settling' || n.role) return;
    if (!c.drained(n)) {
      c.at(c.now + 2, { kind: 'settle', sid: n.sid, incarnation: n.incarnation });
      return;
    }
    e.phase = 'looking';
    const h = durable(n);
    c.log(`server ${n.sid} lookForLeader (epoch ${h.currentEpoch}, zxid ${hex(h.lastLoggedZxid)})`);
    fleOut(n, e, e.fle!.lookForLeader(c.localNow(n), h));
  }

  function fleOut(n: Server<Tree>, e: Elector, out: ElectionOutput): void {
    for (const m of out.messages) notify(n.sid, m.to, m.notification);
    e.tickGen++;
    if (out.nextTickAt !== undefined) {
      c.at(Math.max(c.now, c.globalAt(n, out.nextTickAt)), { kind: 'fleTick', sid: n.sid, gen: e.tickGen, incarnation: n.incarnation });
    }
    if (out.decided) onDecided(n, e, out.decided);
  }

  function notify(from: bigint, to: bigint, note: Notification): void {
    const target = c.nodes.get(to)!;
    if (!target.up || !c.canTalk(from, to)) return;
    stats.notifications++;
    for (const d of notificationDelays(rng, faults.net, !c.quiet)) c.at(c.now + d, { kind: 'fleDeliver', from, to, incarnation: target.incarnation, n: note });
  }

  function onDecided(n: Server<Tree>, e: Elector, d: ElectionDecision): void {
    stats.decisions++;
    const h = durable(n);
    c.log(`server ${n.sid} decided ${ServerState[d.state]} (${d.via}) leader=${d.vote.leader} round=${d.vote.electionEpoch} vote=(${d.vote.peerEpoch}, ${hex(d.vote.zxid)})`);
    checks.decided(n.sid, d.state, d.vote, d.via, { currentEpoch: h.currentEpoch, lastZxid: h.lastLoggedZxid });
    if (d.state === ServerState.LEADING) {
      stats.leadingDecisions++;
      stats.elections++;
      e.phase = 'role';
      c.startLeader(n);
      return;
    }
    e.phase = 'connecting';
    e.leader = d.vote.leader;
    e.connectGen++;
    e.connectDeadline = c.localNow(n) + INIT_LIMIT * TICK;
    e.connectWait = 10;
    connect(n, e);
  }

  /** Learner.connectToLeader: retry within initLimit ticks (learner-host.ts: 10 ms doubling to 1 s). */
  function connect(n: Server<Tree>, e: Elector): void {
    if (e.phase !== 'connecting') return;
    const l = c.nodes.get(e.leader!)!;
    if (l.up && c.canTalk(n.sid, l.sid) && l.role?.kind === 'leader' && l.role.m.state !== 'ended') {
      e.phase = 'role';
      stats.joins++;
      c.startLearner(n, l, l.role);
      return;
    }
    const local = c.localNow(n);
    if (local + e.connectWait > e.connectDeadline) {
      stats.connectFailures++;
      c.log(`server ${n.sid} cannot connect to leader ${l.sid}: LOOKING again`);
      settle(n);
      return;
    }
    c.at(Math.max(c.now + 1, c.globalAt(n, local + e.connectWait)), { kind: 'connect', sid: n.sid, gen: e.connectGen, incarnation: n.incarnation });
    e.connectWait = Math.min(1000, e.connectWait * 2);
  }

  // ---- clients -----------------------------------------------------------------------------

  const clientDelay = () => rng.int(1, faults.clientDelayMax);
  const servingRole = (n: Server<Tree>): Role | undefined => (n.up && n.role?.serving ? n.role : undefined);

  function newSession(cl: Client): void {
    cl.session = { id: nextSession++, lastZxid: 0n };
    cl.seen = new Map();
  }

  function attachedServer(cl: Client): Server<Tree> | undefined {
    const a = cl.attach;
    if (!a) return undefined;
    const n = c.nodes.get(a.sid)!;
    return servingRole(n)?.gen === a.gen ? n : undefined;
  }

  function detachAll(n: Server<Tree>, why: string): void {
    for (const cl of clients) if (cl.attach?.sid === n.sid) detach(cl, why);
  }

  /** The connection is gone: an op in flight becomes unknown. */
  function detach(cl: Client, why: string): void {
    if (!cl.attach) return;
    c.log(`client ${cl.id} (session ${cl.session.id}) detached from ${cl.attach.sid}: ${why}`);
    cl.attach = undefined;
    const p = cl.pending;
    if (!p) return;
    cl.pending = undefined;
    if (p.hist) {
      stats.unknown++;
      c.log(`client ${cl.id} op #${p.opId} ${p.spec.f} is unknown`);
    }
    if (p.spec.f === 'close') newSession(cl);
  }

  function startAttach(cl: Client): void {
    const sid = BigInt(rng.int(1, opts.voters + observers));
    cl.attaching = nextToken++;
    c.at(c.now + clientDelay(), { kind: 'attach', c: cl.id, sid, token: cl.attaching });
  }

  function onAttach(cl: Client, sid: bigint, token: number): void {
    if (cl.attaching !== token) return;
    cl.attaching = undefined;
    const n = c.nodes.get(sid)!;
    const role = servingRole(n);
    if (!role) {
      stats.refusedNotServing++;
      return;
    }
    if (n.memZxid < cl.session.lastZxid && !variant.acceptSessionsAhead) {
      // ZooKeeperServer.processConnectRequest: "Refusing session ... client must try another server".
      stats.refusedBehind++;
      c.log(`server ${sid} (at ${hex(n.memZxid)}) refuses session ${cl.session.id} (seen ${hex(cl.session.lastZxid)})`);
      return;
    }
    cl.attach = { sid, gen: role.gen, token: nextToken++ };
    c.log(`client ${cl.id} (session ${cl.session.id}) attached to ${sid} at ${hex(n.memZxid)}`);
  }

  function pickOp(cl: Client): OpSpec {
    const r = rng.next();
    const reg = rng.pick(REGISTERS);
    const data = `c${cl.id}.${nextOpId}`;
    if (r < 0.18) return { f: 'get', path: reg };
    if (r < 0.23) return { f: 'children' };
    if (r < 0.28) return { f: 'exists', path: ephPath(rng.int(Math.max(1, nextSession - 8), nextSession - 1)) };
    if (r < 0.45) return { f: 'set', path: reg, data };
    if (r < 0.65) {
      const seen = cl.seen.get(reg) ?? 0;
      return { f: 'cas', path: reg, data, expected: rng.chance(0.8) ? seen : seen + rng.int(-1, 1) };
    }
    if (r < 0.77) return { f: 'createSeq' };
    if (r < 0.88) return { f: 'createEph' };
    if (r < 0.98) return { f: 'deleteEph' };
    return { f: 'close' };
  }

  function historyOp(cl: Client, opId: number, spec: WriteSpec): HistoryOp {
    const client = `c${cl.id}/s${cl.session.id}`;
    const base = { id: opId, client, outcome: 'unknown' as const, invoke: c.now };
    switch (spec.f) {
      case 'set':
        return { ...base, key: spec.path, input: { f: 'write', value: spec.data } };
      case 'cas':
        return { ...base, key: spec.path, input: { f: 'cas', expected: spec.expected, value: spec.data } };
      case 'createSeq':
        return { ...base, key: SEQ, input: { f: 'create' } };
      case 'createEph':
        return { ...base, key: ephPath(cl.session.id), input: { f: 'create' } };
      case 'deleteEph':
        return { ...base, key: ephPath(cl.session.id), input: { f: 'delete' } };
      case 'close':
        return { ...base, key: ephPath(cl.session.id), input: { f: 'end' } };
    }
  }

  function invoke(cl: Client, spec: OpSpec, goal = false): void {
    const opId = nextOpId++;
    const p: Pending = { opId, spec, token: cl.attach!.token, goal };
    if (isWrite(spec)) {
      p.hist = historyOp(cl, opId, spec);
      history.push(p.hist);
    }
    cl.pending = p;
    c.log(`client ${cl.id} (session ${cl.session.id}) op #${opId} ${JSON.stringify(spec)} via ${cl.attach!.sid}`);
    c.at(c.now + clientDelay(), { kind: 'arrive', c: cl.id, token: p.token, opId });
    c.at(c.now + OP_TIMEOUT, { kind: 'opTimeout', c: cl.id, opId });
  }

  function onArrive(cl: Client, token: number, opId: number): void {
    const p = cl.pending;
    if (!p || p.opId !== opId || cl.attach?.token !== token) return;
    const n = attachedServer(cl);
    if (!n) return detach(cl, 'server no longer serving');
    const spec = p.spec;
    if (!isWrite(spec)) {
      const tree = (variant.readsSeeProposals && n.role?.kind === 'leader' && prepState.get(n.role)) || n.app;
      c.at(c.now + clientDelay(), { kind: 'reply', c: cl.id, token, opId, zxid: n.memZxid, result: { value: readValue(tree, spec) } });
      return;
    }
    const req: Request = { origin: Number(n.sid), client: cl.id, session: cl.session.id, opId, spec };
    const role = n.role!;
    if (role.kind === 'leader') prep(n, role, req);
    else c.forward(n, role, req);
  }

  /** The leader checks a write against its latest proposed state and proposes its txn. */
  function prep(n: Server<Tree>, role: LeaderRole, req: Request): void {
    const state = prepState.get(role);
    if (!state || role.m.state !== 'broadcast') {
      // Not serving (yet, or its term is ending): the host fails it (LeadershipLostError); the client
      // learns nothing until its connection goes.
      stats.requestsLost++;
      return;
    }
    const body = prepBody(state, req);
    const [txn] = c.propose(n, role, 1, () => ({ clientId: BigInt(req.session), type: OPCODE[body.op], body: Buffer.from(JSON.stringify(body)) }));
    bodies.set(txn, body);
    txns.set(c.idOf(txn), txn);
    treeApp.apply(state, txn);
    if (variant.replyAtProposal) {
      // Known-bad: answered from the prepped state, before any quorum has it.
      const cl = clients[req.client];
      const p = cl.pending;
      if (p && p.opId === req.opId) c.at(c.now + clientDelay(), { kind: 'reply', c: cl.id, token: p.token, opId: p.opId, zxid: txn.header.zxid, result: writeResult(state, txn), txnId: c.idOf(txn) });
    }
  }

  /** What the apply computed for the client: the error code, the new version, the sequence number. */
  function writeResult(t: Tree, txn: TxnEntry): Result {
    const b = txnBody(txn);
    switch (b.op) {
      case 'error':
        return { code: b.code };
      case 'set':
        return { code: 0, version: t.nodes.get(b.path)?.version };
      case 'create':
        return b.owner === 0 ? { code: 0, seq: Number(b.path.slice(b.path.lastIndexOf('-') + 1)) } : { code: 0 };
      default:
        return { code: 0 };
    }
  }

  /** A server applied a committed txn: if one of its clients is waiting for it, the reply leaves now. */
  function answerAtApply(n: Server<Tree>, txn: TxnEntry): void {
    const [origin, , opId] = txnBody(txn).req;
    if (origin !== Number(n.sid) || variant.replyAtProposal) return;
    for (const cl of clients) {
      const p = cl.pending;
      if (!p || p.opId !== opId) continue;
      if (cl.attach?.sid !== n.sid || cl.attach.token !== p.token || !attachedServer(cl)) return;
      c.at(c.now + clientDelay(), { kind: 'reply', c: cl.id, token: p.token, opId, zxid: txn.header.zxid, result: writeResult(n.app, txn), txnId: c.idOf(txn) });
      return;
    }
  }

  function onReply(cl: Client, ev: Extract<EnsEvent, { kind: 'reply' }>): void {
    const p = cl.pending;
    if (!p || p.opId !== ev.opId || cl.attach?.token !== ev.token) return;
    cl.pending = undefined;
    const s = cl.session;
    if (ev.zxid < s.lastZxid) {
      c.violate(`session ${s.id} (client ${cl.id}) got zxid ${hex(ev.zxid)} for op #${p.opId} ${p.spec.f} from server ${cl.attach.sid} after seeing ${hex(s.lastZxid)}`);
    }
    if (ev.zxid > s.lastZxid) s.lastZxid = ev.zxid;
    const spec = p.spec;
    if (!isWrite(spec)) {
      stats.reads++;
      reads.push({ zxid: ev.zxid, spec, value: (ev.result as { value: string }).value, sid: cl.attach.sid, session: s.id });
      if (spec.f === 'get') {
        const v = Number((ev.result as { value: string }).value.split('@v')[1]);
        if (v > (cl.seen.get(spec.path) ?? -1)) cl.seen.set(spec.path, v);
      }
      return;
    }
    const r = ev.result as { code: number; version?: number; seq?: number };
    const h = p.hist!;
    h.complete = c.now;
    replied.add(ev.txnId!);
    if (r.code === 0) {
      h.outcome = 'ok';
      if (spec.f === 'set' || spec.f === 'cas') {
        h.output = { version: r.version };
        cl.seen.set(spec.path, r.version!);
      } else if (spec.f === 'createSeq') h.output = { seq: r.seq };
      stats[ACKED[spec.f]]++;
    } else if (r.code === SESSION_EXPIRED) {
      // Definitely did nothing, and says nothing the models know: out of the history.
      history.splice(history.indexOf(h), 1);
    } else {
      h.outcome = 'failed';
      if (r.code === BAD_VERSION) stats.casFailed++;
      else if (r.code === NODE_EXISTS) stats.nodeExists++;
      else if (r.code === NO_NODE) stats.noNode++;
    }
    c.log(`client ${cl.id} op #${p.opId} ${spec.f} -> ${JSON.stringify(r)} at ${hex(ev.zxid)}`);
    if (p.goal && r.code === 0) {
      goalDone = true;
      stats.goalMs = c.now - c.quietSince;
      c.log(`liveness goal #${p.opId} answered`);
    }
    if (spec.f === 'close') {
      detach(cl, 'session closed');
      newSession(cl);
    }
  }

  function clientStep(cl: Client): void {
    if (cl.probe) return probeStep(cl);
    // Regular clients stop at the end of the faults; the probe alone writes after that.
    if (c.quiet) return;
    c.at(c.now + rng.int(1, faults.clientEveryMs), { kind: 'client', c: cl.id });
    if (cl.pending || cl.attaching) return;
    if (!cl.attach || !attachedServer(cl)) {
      if (cl.attach) detach(cl, 'server no longer serving');
      startAttach(cl);
      return;
    }
    if (rng.chance(0.02)) {
      stats.reattaches++;
      detach(cl, 'moving to another server');
      startAttach(cl);
      return;
    }
    invoke(cl, pickOp(cl));
  }

  /** The liveness goal: once every server is synced after the faults, a new write must be answered. */
  function probeStep(cl: Client): void {
    c.at(c.now + 20, { kind: 'client', c: cl.id });
    if (!c.quiet || goalDone) return;
    c.forceReelectionIfStuck();
    if (cl.pending || cl.attaching) return;
    if (!cl.attach || !attachedServer(cl)) {
      if (cl.attach) detach(cl, 'server no longer serving');
      if (c.allSynced()) startAttach(cl);
      return;
    }
    invoke(cl, { f: 'set', path: REGISTERS[0], data: `goal.${nextOpId}` }, true);
  }

  // ---- run -------------------------------------------------------------------------------------

  function onWorld(ev: EnsEvent): void {
    switch (ev.kind) {
      case 'fleDeliver': {
        const to = c.nodes.get(ev.to)!;
        const e = electors.get(ev.to)!;
        if (!to.up || to.incarnation !== ev.incarnation || !c.canTalk(ev.from, ev.to) || !e.fle) return;
        fleOut(to, e, e.fle.step(ev.from, ev.n, c.localNow(to)));
        return;
      }
      case 'fleTick': {
        const n = c.nodes.get(ev.sid)!;
        const e = electors.get(ev.sid)!;
        if (!n.up || n.incarnation !== ev.incarnation || e.tickGen !== ev.gen || !e.fle) return;
        fleOut(n, e, e.fle.tick(c.localNow(n)));
        return;
      }
      case 'settle': {
        const n = c.nodes.get(ev.sid)!;
        if (n.up && n.incarnation === ev.incarnation) onSettle(n);
        return;
      }
      case 'connect': {
        const n = c.nodes.get(ev.sid)!;
        const e = electors.get(ev.sid)!;
        if (n.up && n.incarnation === ev.incarnation && e.connectGen === ev.gen) connect(n, e);
        return;
      }
      case 'client':
        return clientStep(clients[ev.c]);
      case 'attach':
        return onAttach(clients[ev.c], ev.sid, ev.token);
      case 'arrive':
        return onArrive(clients[ev.c], ev.token, ev.opId);
      case 'reply':
        return onReply(clients[ev.c], ev);
      case 'opTimeout': {
        const cl = clients[ev.c];
        if (cl.pending?.opId === ev.opId) detach(cl, `op #${ev.opId} timed out`);
        return;
      }
    }
  }

  for (const n of c.nodes.values()) {
    electors.set(n.sid, { tickGen: 0, phase: 'down', connectGen: 0, connectDeadline: 0, connectWait: 10 });
    // Every server starts within the first 300 ms, in random order.
    n.up = false;
    c.scheduleRestart(n, rng.int(0, 300));
  }
  for (let i = 0; i <= faults.clients; i++) {
    const cl: Client = { id: i, probe: i === faults.clients, session: { id: 0, lastZxid: 0n }, seen: new Map() };
    newSession(cl);
    clients.push(cl);
    c.at(rng.int(0, 300), { kind: 'client', c: i });
  }
  c.scheduleFaults();
  c.scheduleQuiet(faultMs);

  const done = c.run({
    deadline: faultMs + quietMs,
    maxEvents: 3_000_000,
    onWorld,
    afterEvent: () => {
      if (!goalDone) return false;
      const l = c.allSynced();
      if (!l || l.role.proposed.size > 0) return false;
      return [...c.nodes.values()].every((n) => n.memZxid === l.n.memZxid && c.drained(n));
    },
  });

  // ---- final checks ------------------------------------------------------------------------------

  if (!done) {
    const l = c.servingLeader();
    c.violate(
      `liveness: ${quietMs} ms after the faults stopped ${goalDone ? 'the servers did not converge' : c.allSynced() ? 'no client write was answered' : l ? 'not every server is synced with the leader' : 'no leader serves'} [${c.stateText()}]`,
    );
  } else {
    const final = c.finalChecks();
    const finalSet = new Set(final);
    for (const id of replied) {
      if (!finalSet.has(id)) c.violate(`txn ${hex(c.zxidOfId.get(id)!)}#${id}, answered to its client, is not in the final history`);
    }
    for (const n of c.nodes.values()) {
      const mem = new Set(n.mem);
      const disk = new Set(c.loadDisk(n).hist);
      for (const id of replied) {
        if (!mem.has(id) || !disk.has(id)) c.violate(`server ${n.sid} lacks txn ${hex(c.zxidOfId.get(id)!)}#${id} (answered to its client) in its ${mem.has(id) ? 'disk' : 'memory'}`);
      }
    }
    checkReads(final);
  }
  checkLinearizable();
  stats.acknowledged = c.acknowledgedIds.size;
  return { seed: opts.seed, voters: opts.voters, violations: c.violations, trace: c.trace, stats, faults, endedAt: c.now };

  /** Every read saw the final history's state at the zxid it was served at. */
  function checkReads(final: number[]): void {
    const sorted = reads.slice().sort((a, b) => (a.zxid < b.zxid ? -1 : a.zxid > b.zxid ? 1 : 0));
    const tree = treeApp.init();
    let i = 0;
    let at = 0n;
    for (const r of sorted) {
      while (i < final.length && c.zxidOfId.get(final[i])! <= r.zxid) {
        treeApp.apply(tree, txns.get(final[i])!);
        at = c.zxidOfId.get(final[i])!;
        i++;
      }
      if (at !== r.zxid) {
        c.violate(`server ${r.sid} served a read at ${hex(r.zxid)}, which is not in the final history (session ${r.session})`);
        continue;
      }
      const want = readValue(tree, r.spec);
      if (want !== r.value) c.violate(`server ${r.sid} read ${JSON.stringify(r.spec)} at ${hex(r.zxid)} as ${r.value.slice(0, 80)}; the history there says ${want.slice(0, 80)}`);
    }
  }

  function checkLinearizable(): void {
    stats.linearizabilityOps = history.length;
    const res = checkHistory(history, (key) => (key === SEQ ? sequenceModel() : key.startsWith(EPH) ? ephemeralModel() : versionRegister()));
    if (res.verdict !== 'linearizable') c.violate(`linearizability: ${res.verdict}\n${res.report}`);
  }
}
