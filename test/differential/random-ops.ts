/**
 * The differential run: one seeded random sequence of operations, played by
 * two sessions against one server, recorded as a transcript that can be
 * compared with the same sequence played against another server.
 *
 * The sequence is fixed by the seed before it runs: each step says which
 * session acts, the operation, and its arguments as indices ("the 3rd known
 * path"), resolved at run time against the paths that run has seen (sequential
 * creates return names the generator cannot know). Two servers that agree
 * therefore get exactly the same requests; the first disagreement shows up
 * in the transcript at its step.
 *
 * What is compared: every result (value or error code; Stats with times
 * dropped, zxids replaced by their rank among all zxids the run observed,
 * session ids by the session's name, child lists sorted), every watch event each session
 * received (in order), and the final tree.
 */
import { ACL, AddWatchMode, CreateMode, Id, Ids, KeeperError, Op, Perms, WatcherType, ZooKeeper } from '../../src';
import type { OpResult, Stat, WatchedEvent } from '../../src';
import { digestOf } from '../harness';

/** Server options for both sides: TTL nodes on, and no container/TTL reaping during a run (it would race the sequence). */
export const DIFF_SERVER_OPTIONS = { tickTime: 500, extendedTypes: true, containerCheckIntervalMs: 3_600_000 };

/** The first step at which two transcripts' results differ, with both sides, or null. */
export function firstDifference(apache: Transcript, ours: Transcript): string | null {
  const n = Math.max(apache.results.length, ours.results.length);
  for (let i = 0; i < n; i++) {
    const x = JSON.stringify(apache.results[i]);
    const y = JSON.stringify(ours.results[i]);
    if (x !== y) return `step ${i}:\n  apache: ${x}\n  ours:   ${y}`;
  }
  return null;
}

/** A small seeded PRNG (mulberry32): the same seed gives the same sequence on every machine. */
export class Rng {
  private s: number;
  constructor(seed: number) {
    this.s = seed >>> 0;
  }
  next(): number {
    this.s = (this.s + 0x6d2b79f5) >>> 0;
    let t = this.s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

/** Paths relative to the run's root (`/diff-<tag>`). */
const STATIC_PATHS = ['/a', '/a/x', '/a/y', '/a/x/z', '/b', '/b/x', '/c', '/c/d/e'];
const SEQ_PREFIXES = ['/a/s-', '/s-', '/b/q-'];
const ALICE = { user: 'alice', password: 'alice-pw' };

type Session = 'A' | 'B';
/** Session A has alice's digest auth; B has none, so ACLs decide differently for them. */
const SESSIONS: readonly Session[] = ['A', 'B'];

const ACLS: Record<string, () => ACL[]> = {
  open: () => Ids.OPEN_ACL_UNSAFE,
  alice: () => [new ACL({ perms: Perms.ALL, id: new Id({ scheme: 'digest', id: digestOf(ALICE.user, ALICE.password) }) })],
  readOnly: () => Ids.READ_ACL_UNSAFE,
  creator: () => Ids.CREATOR_ALL_ACL,
  noRead: () => [new ACL({ perms: Perms.ALL & ~Perms.READ, id: new Id({ scheme: 'world', id: 'anyone' }) })],
};
const ACL_NAMES = Object.keys(ACLS);
const MODES = [
  CreateMode.PERSISTENT,
  CreateMode.PERSISTENT,
  CreateMode.EPHEMERAL,
  CreateMode.PERSISTENT_SEQUENTIAL,
  CreateMode.EPHEMERAL_SEQUENTIAL,
  CreateMode.CONTAINER,
  CreateMode.PERSISTENT_WITH_TTL,
  CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL,
];

/** Path reference: a known path by index, a sequential prefix (for creates), or a missing one. */
type PathRef = { known: number } | { seq: number } | { missing: number };
type SubOp =
  | { op: 'create'; path: PathRef; data: string | null; acl: string; mode: CreateMode }
  | { op: 'delete'; path: PathRef; version: number }
  | { op: 'setData'; path: PathRef; data: string | null; version: number }
  | { op: 'check'; path: PathRef; version: number };

export type Step = { session: Session } & (
  | SubOp
  | { op: 'exists' | 'getData' | 'getChildren' | 'getChildren2' | 'getACL' | 'sync' | 'getAllChildrenNumber'; path: PathRef; watch: boolean }
  | { op: 'setACL'; path: PathRef; acl: string; version: number }
  | { op: 'multi'; ops: SubOp[] }
  | { op: 'multiRead'; paths: PathRef[] }
  | { op: 'addWatch'; path: PathRef; recursive: boolean }
  | { op: 'removeAllWatches'; path: PathRef; type: WatcherType }
  | { op: 'getEphemerals'; prefix: PathRef }
);

function pathRef(rng: Rng, forCreate: boolean): PathRef {
  const r = rng.next();
  if (forCreate && r < 0.3) return { seq: rng.int(SEQ_PREFIXES.length) };
  if (r > 0.95) return { missing: rng.int(3) };
  return { known: rng.int(1 << 16) };
}

const version = (rng: Rng): number => (rng.chance(0.4) ? -1 : rng.int(4) - (rng.chance(0.1) ? 5 : 0));
const data = (rng: Rng): string | null => (rng.chance(0.15) ? null : `v${rng.int(1000)}`);

function subOp(rng: Rng): SubOp {
  switch (rng.int(4)) {
    case 0:
      return { op: 'create', path: pathRef(rng, true), data: data(rng), acl: rng.chance(0.8) ? 'open' : rng.pick(ACL_NAMES), mode: rng.pick(MODES) };
    case 1:
      return { op: 'delete', path: pathRef(rng, false), version: version(rng) };
    case 2:
      return { op: 'setData', path: pathRef(rng, false), data: data(rng), version: version(rng) };
    default:
      return { op: 'check', path: pathRef(rng, false), version: version(rng) };
  }
}

/** The steps of one run: fixed by the seed alone. */
export function generateSteps(seed: number, count: number): Step[] {
  const rng = new Rng(seed);
  const steps: Step[] = [];
  for (let i = 0; i < count; i++) {
    const session = rng.chance(0.6) ? 'A' : 'B';
    const r = rng.next();
    let step: Step;
    if (r < 0.3) step = { session, ...subOp(rng) };
    else if (r < 0.36) step = { session, op: 'create', path: pathRef(rng, true), data: data(rng), acl: rng.pick(ACL_NAMES), mode: rng.pick(MODES) };
    else if (r < 0.62) {
      const op = rng.pick(['exists', 'getData', 'getChildren', 'getChildren2', 'getACL', 'sync', 'getAllChildrenNumber'] as const);
      step = { session, op, path: pathRef(rng, false), watch: rng.chance(0.6) };
    } else if (r < 0.68) step = { session, op: 'setACL', path: pathRef(rng, false), acl: rng.pick(ACL_NAMES), version: version(rng) };
    else if (r < 0.8) step = { session, op: 'multi', ops: Array.from({ length: 1 + rng.int(4) }, () => subOp(rng)) };
    else if (r < 0.84) step = { session, op: 'multiRead', paths: Array.from({ length: 1 + rng.int(3) }, () => pathRef(rng, false)) };
    else if (r < 0.9) step = { session, op: 'addWatch', path: pathRef(rng, false), recursive: rng.chance(0.5) };
    else if (r < 0.94) step = { session, op: 'removeAllWatches', path: pathRef(rng, false), type: rng.pick([WatcherType.Any, WatcherType.Data, WatcherType.Children]) };
    else step = { session, op: 'getEphemerals', prefix: pathRef(rng, false) };
    steps.push(step);
  }
  return steps;
}

/** A value with its zxids and session ids still raw; normalized once the run has seen every zxid. */
type Raw = unknown;

export interface Transcript {
  /** One entry per step: the normalized result or error. */
  results: unknown[];
  /** Per session: the watch events it received, in order ("NodeDataChanged /diff/a"). */
  events: Record<Session, string[]>;
  /** Every node under the run's root at the end, with data, ACL and normalized Stat. */
  tree: unknown[];
}

const EVENT_NAMES: Record<number, string> = { 1: 'NodeCreated', 2: 'NodeDeleted', 3: 'NodeDataChanged', 4: 'NodeChildrenChanged' };

/**
 * Plays `steps` against `connectString` with two fresh sessions, under the root
 * `/diff-<tag>` (a fresh one per run, so runs share a server); returns the
 * normalized transcript.
 */
export async function play(connectString: string, steps: Step[], tag: string | number, log?: (line: string) => void): Promise<Transcript> {
  const ROOT = `/diff-${tag}`;
  const events: Record<Session, string[]> = { A: [], B: [] };
  const recorders: Record<Session, (e: WatchedEvent) => void> = {
    A: (e) => e.type > 0 && events.A.push(`${EVENT_NAMES[e.type] ?? e.type} ${e.path}`),
    B: (e) => e.type > 0 && events.B.push(`${EVENT_NAMES[e.type] ?? e.type} ${e.path}`),
  };
  const zk: Record<Session, ZooKeeper> = {
    A: new ZooKeeper(connectString, { sessionTimeout: 30_000, defaultWatcher: recorders.A }),
    B: new ZooKeeper(connectString, { sessionTimeout: 30_000, defaultWatcher: recorders.B }),
  };
  const known: string[] = STATIC_PATHS.map((p) => ROOT + p);
  const raw: Raw[] = [];
  try {
    for (const s of SESSIONS) {
      zk[s].on('error', () => undefined);
      await zk[s].connected();
    }
    await zk.A.addAuthInfo('digest', `${ALICE.user}:${ALICE.password}`);
    await zk.A.create(ROOT, null);

    const resolve = (ref: PathRef): string => {
      if ('known' in ref) return known[ref.known % known.length];
      if ('seq' in ref) return ROOT + SEQ_PREFIXES[ref.seq];
      return `${ROOT}/missing-${ref.missing}/n`;
    };
    const remember = (p: string): void => {
      if (!known.includes(p)) known.push(p);
    };
    const toOp = (o: SubOp): Op => {
      const p = resolve(o.path);
      switch (o.op) {
        case 'create':
          return Op.create(p, o.data, { acl: ACLS[o.acl](), mode: o.mode, ttl: isTtl(o.mode) ? 3_600_000 : undefined });
        case 'delete':
          return Op.delete(p, o.version);
        case 'setData':
          return Op.setData(p, o.data, o.version);
        case 'check':
          return Op.check(p, o.version);
      }
    };

    for (let i = 0; i < steps.length; i++) {
      const step = steps[i];
      const z = zk[step.session];
      let out: Raw;
      const target = describeTarget(step, resolve);
      try {
        out = await runStep(z, step, resolve, toOp, recorders[step.session]);
        if (step.op === 'create' && typeof out === 'string') remember(out);
        if (step.op === 'multi' && Array.isArray(out)) {
          for (const r of out as OpResult[]) if (r.type === 'create') remember(r.path);
        }
      } catch (e) {
        out = errorOf(e);
      }
      raw.push({ step: i, session: step.session, op: step.op, target, out });
      log?.(`${i} ${step.session} ${step.op}`);
    }

    // Close B: its ephemerals go, and A's watches see it. Then fence A's events with a write A watches.
    const beforeClose = events.A.length;
    const beforeCloseB = events.B.length;
    await zk.B.close();
    const fence = `${ROOT}-fence`;
    await zk.A.exists(fence, true);
    await zk.A.create(fence, null);
    await waitUntil(() => events.A.includes(`NodeCreated ${fence}`), 10_000, 'the fence event');
    // One closeSession txn deletes all of B's ephemerals; the order within it is Apache's HashSet order,
    // which no client may rely on: compare that segment as a set.
    // B itself may see some of those deletes before its connection closes.
    const closing = events.A.splice(beforeClose, events.A.length - beforeClose - 1).sort();
    events.A.splice(beforeClose, 0, ...closing);
    events.B.push(...events.B.splice(beforeCloseB).sort());

    const tree = await dumpTree(zk.A, ROOT);
    return normalize(raw, events, tree, zk);
  } finally {
    await Promise.all(SESSIONS.map((s) => zk[s].close().catch(() => undefined)));
  }
}

/** The step's paths (and watch type), kept in the transcript so a difference can be read without replaying. */
function describeTarget(step: Step, resolve: (r: PathRef) => string): string {
  if (step.op === 'multi') return step.ops.map((o) => `${o.op} ${resolve(o.path)}`).join('; ');
  if (step.op === 'multiRead') return step.paths.map(resolve).join('; ');
  if (step.op === 'getEphemerals') return resolve(step.prefix);
  if (step.op === 'removeAllWatches') return `${resolve(step.path)} type ${step.type}`;
  return resolve(step.path);
}

function isTtl(mode: CreateMode): boolean {
  return mode === CreateMode.PERSISTENT_WITH_TTL || mode === CreateMode.PERSISTENT_SEQUENTIAL_WITH_TTL;
}

async function runStep(z: ZooKeeper, step: Step, resolve: (r: PathRef) => string, toOp: (o: SubOp) => Op, recorder: (e: WatchedEvent) => void): Promise<Raw> {
  switch (step.op) {
    case 'create':
      return z.create(resolve(step.path), step.data, { acl: ACLS[step.acl](), mode: step.mode, ttl: isTtl(step.mode) ? 3_600_000 : undefined });
    case 'delete':
      return z.delete(resolve(step.path), step.version).then(() => 'ok');
    case 'setData':
      return z.setData(resolve(step.path), step.data, step.version);
    case 'check':
      return z.multi([toOp(step)]);
    case 'exists':
      return z.exists(resolve(step.path), step.watch);
    case 'getData':
      return z.getData(resolve(step.path), step.watch);
    case 'getChildren':
      return z.getChildren(resolve(step.path), step.watch).then((c) => [...c].sort());
    case 'getChildren2':
      return z.getChildren2(resolve(step.path), step.watch).then((r) => ({ children: [...r.children].sort(), stat: r.stat }));
    case 'getACL':
      return z.getACL(resolve(step.path));
    case 'sync':
      return z.sync(resolve(step.path));
    case 'getAllChildrenNumber':
      return z.getAllChildrenNumber(resolve(step.path));
    case 'setACL':
      return z.setACL(resolve(step.path), ACLS[step.acl](), step.version);
    case 'multi':
      return z.multi(step.ops.map(toOp));
    case 'multiRead':
      return z.multiRead(step.paths.map((p, i) => (i % 2 === 0 ? Op.getData(resolve(p)) : Op.getChildren(resolve(p)))));
    case 'addWatch':
      return z.addWatch(resolve(step.path), recorder, step.recursive ? AddWatchMode.PERSISTENT_RECURSIVE : AddWatchMode.PERSISTENT).then(() => 'ok');
    case 'removeAllWatches':
      return z.removeAllWatches(resolve(step.path), step.type).then(() => 'ok');
    case 'getEphemerals':
      return z.getEphemerals(resolve(step.prefix)).then((p) => [...p].sort());
  }
}

function errorOf(e: unknown): Raw {
  if (e instanceof KeeperError) {
    const results = e.results?.map((r) => ((r as { type?: string; err?: number }).type === 'error' ? { err: (r as { err: number }).err } : r));
    return { error: e.code, opIndex: e.opIndex, results };
  }
  return { thrown: String(e) };
}

async function waitUntil(cond: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function dumpTree(z: ZooKeeper, root: string): Promise<Raw[]> {
  const out: Raw[] = [];
  const walk = async (p: string): Promise<void> => {
    try {
      const { data, stat } = await z.getData(p);
      const acl = await z.getACL(p);
      out.push({ path: p, data: data?.toString('latin1') ?? null, acl: acl.acl, stat });
    } catch (e) {
      out.push({ path: p, error: errorOf(e) });
    }
    const children = await z.getChildren(p).catch(() => [] as string[]);
    for (const c of [...children].sort()) await walk(`${p}/${c}`);
  };
  await walk(root);
  return out;
}

function isStat(v: unknown): v is Stat {
  return typeof v === 'object' && v !== null && 'czxid' in v && 'mzxid' in v && 'pzxid' in v;
}

/** Replaces zxids by rank, session ids by name, drops times and Buffers become text; then returns the transcript. */
function normalize(raw: Raw[], events: Record<Session, string[]>, tree: Raw[], zk: Record<Session, ZooKeeper>): Transcript {
  const zxids = new Set<bigint>();
  const collect = (v: unknown): void => {
    if (isStat(v)) {
      zxids.add(v.czxid);
      zxids.add(v.mzxid);
      zxids.add(v.pzxid);
    } else if (Array.isArray(v)) v.forEach(collect);
    else if (v && typeof v === 'object' && !Buffer.isBuffer(v)) Object.values(v).forEach(collect);
  };
  collect(raw);
  collect(tree);
  const rank = new Map([...zxids].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map((z, i) => [z, i]));
  const sessionNames = new Map<bigint, string>(SESSIONS.map((s) => [zk[s].sessionId, `session ${s}`]));
  const norm = (v: unknown): unknown => {
    if (isStat(v)) {
      const owner = v.ephemeralOwner;
      return {
        czxid: rank.get(v.czxid),
        mzxid: rank.get(v.mzxid),
        pzxid: rank.get(v.pzxid),
        version: v.version,
        cversion: v.cversion,
        aversion: v.aversion,
        ephemeralOwner: sessionNames.get(owner) ?? `0x${owner.toString(16)}`,
        dataLength: v.dataLength,
        numChildren: v.numChildren,
      };
    }
    if (Buffer.isBuffer(v)) return v.toString('latin1');
    if (typeof v === 'bigint') return `0x${v.toString(16)}`;
    if (Array.isArray(v)) return v.map(norm);
    if (v && typeof v === 'object') {
      if (v instanceof KeeperError) return { error: v.code };
      const o: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) {
        if (k === 'error' && x instanceof KeeperError) continue;
        // Child lists come in the server's hash order, which no client may rely on.
        o[k] = k === 'children' && Array.isArray(x) ? [...x].sort() : norm(x);
      }
      return o;
    }
    return v;
  };
  return { results: raw.map(norm), events: { A: [...events.A], B: [...events.B] }, tree: tree.map(norm) };
}
