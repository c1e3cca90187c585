/**
 * A linearizability checker for histories recorded against a live
 * ensemble: Wing & Gong's search (as in Knossos and Porcupine, with Lowe's
 * memoisation of (linearized set, model state)), run per key so that each
 * search stays small.
 *
 * A history is a list of operations with real invoke/complete times (one
 * clock: the test process's) and an outcome:
 *   ok       the call returned; it took effect exactly once, at some instant
 *            between invoke and complete, and its output is what the model
 *            says at that instant;
 *   failed   the call definitely did not change anything (BadVersion,
 *            NodeExists, ...); when the failure says something about the
 *            state (BadVersion: the version was not the expected one) the
 *            model treats it as an observation at an instant between invoke
 *            and complete, otherwise it is dropped;
 *   unknown  ConnectionLoss, timeouts: it may or may not have taken effect,
 *            at any instant after invoke (its completion is +infinity).
 *
 * The search. Entries (a call and, unless unknown, a return per op) are
 * kept in time order in a doubly linked list (calls before returns at equal
 * times, the permissive choice). The ops that may go next are the calls
 * before the first remaining return; we try them (required ops before
 * unknown ones), apply the model, "lift" the op out of the list and recurse;
 * when none works we backtrack. Success: every required (ok / informative
 * failed) op is linearized; unknown ops need not be. Memoisation: a
 * configuration is (required ops linearized, unknown ops linearized, state);
 * with the same required set and state, a configuration whose unknown set
 * contains one already explored is dominated (it has fewer options left)
 * and is pruned. A step budget bounds the search: past it the verdict is
 * `inconclusive`, which callers must treat as a failure, never a pass.
 *
 * Models here: a versioned register (ZooKeeper setData / conditional
 * setData / getData), an append-only sequential-create counter
 * (PERSISTENT_SEQUENTIAL under one parent + getChildren), and an ephemeral
 * node owned by one session (create / exists / the session's end).
 */

export type Outcome = 'ok' | 'failed' | 'unknown';

export interface HistoryOp<I = any, O = any> {
  /** Unique within the history. */
  id: number;
  /** Which client / session made the call (for reports and per-session checks). */
  client: string;
  /** Partition key: ops on different keys are checked independently. */
  key: string;
  input: I;
  /** What an ok (or informative failed) op returned. */
  output?: O;
  outcome: Outcome;
  /** Real time (ms, any origin shared by the whole history). */
  invoke: number;
  /** Real time of the return; ignored (treated as +infinity) when unknown. */
  complete?: number;
  /** Free text for reports: which member served it, the error, ... */
  note?: string;
}

export interface Model<S, I = any, O = any> {
  name: string;
  init(): S;
  /**
   * The state after `op` takes effect in state `s`, or undefined when it
   * cannot (an ok op whose output disagrees, an unknown op that would not
   * change anything or could not apply there).
   */
  step(s: S, op: HistoryOp<I, O>): S | undefined;
  /** A string that identifies the state (for memoisation). */
  hash(s: S): string;
  /** False for ops that carry no information (dropped before the search). Default: keep. */
  relevant?(op: HistoryOp<I, O>): boolean;
  describe?(op: HistoryOp<I, O>): string;
}

export type Verdict = 'linearizable' | 'violation' | 'inconclusive';

export interface KeyResult {
  key: string;
  model: string;
  verdict: Verdict;
  ops: number;
  steps: number;
  /** For a violation: what the deepest search got stuck on. */
  explanation?: string;
}

export interface CheckOptions {
  /** Search steps per key before giving up as inconclusive (default 2,000,000). */
  stepBudget?: number;
  /** Refuse (inconclusive) a key with more relevant ops than this (default 2000). */
  maxOpsPerKey?: number;
  /** Time origin for the times in reports (default: the key's first invoke). */
  origin?: number;
}

interface Entry {
  call: boolean;
  op: number; // index into ops
  time: number;
  match?: Entry; // call -> its return
  prev: Entry | null;
  next: Entry | null;
}

function lift(e: Entry): void {
  e.prev!.next = e.next;
  if (e.next) e.next.prev = e.prev;
  const m = e.match;
  if (m) {
    m.prev!.next = m.next;
    if (m.next) m.next.prev = m.prev;
  }
}

function unlift(e: Entry): void {
  const m = e.match;
  if (m) {
    m.prev!.next = m;
    if (m.next) m.next.prev = m;
  }
  e.prev!.next = e;
  if (e.next) e.next.prev = e;
}

export function formatOp(op: HistoryOp, model?: Model<any>, t0 = 0): string {
  const d = model?.describe ? model.describe(op) : `${JSON.stringify(op.input)} -> ${JSON.stringify(op.output)}`;
  const end = op.outcome === 'unknown' ? '?' : (op.complete! - t0).toFixed(1);
  return `#${op.id} ${op.client} [${(op.invoke - t0).toFixed(1)}, ${end}] ${op.outcome} ${d}${op.note ? `  (${op.note})` : ''}`;
}

/** Checks the ops of one key against `model`. */
export function checkKey<S>(key: string, history: readonly HistoryOp[], model: Model<S>, options: CheckOptions = {}): KeyResult {
  const budget = options.stepBudget ?? 2_000_000;
  const maxOps = options.maxOpsPerKey ?? 2000;
  const ops = history.filter((o) => (model.relevant ? model.relevant(o) : true));
  const base = { key, model: model.name, ops: ops.length };
  if (ops.length > maxOps) {
    return { ...base, verdict: 'inconclusive', steps: 0, explanation: `${ops.length} ops > maxOpsPerKey ${maxOps}` };
  }
  const required = ops.map((o) => o.outcome !== 'unknown');
  const bit = ops.map((_, i) => 1n << BigInt(i));
  // Build the entry list.
  const entries: Entry[] = [];
  ops.forEach((o, i) => {
    const c: Entry = { call: true, op: i, time: o.invoke, prev: null, next: null };
    entries.push(c);
    if (required[i]) {
      const complete = o.complete ?? Infinity;
      if (!(complete >= o.invoke)) throw new Error(`op #${o.id}: complete ${complete} < invoke ${o.invoke}`);
      const r: Entry = { call: false, op: i, time: complete, prev: null, next: null };
      c.match = r;
      entries.push(r);
    }
  });
  entries.sort((a, b) => a.time - b.time || (a.call === b.call ? a.op - b.op : a.call ? -1 : 1));
  const head: Entry = { call: false, op: -1, time: -Infinity, prev: null, next: null };
  let prev = head;
  for (const e of entries) {
    prev.next = e;
    e.prev = prev;
    prev = e;
  }

  const totalRequired = required.filter(Boolean).length;
  let remaining = totalRequired;
  // Memo: "reqBits|state" -> unknown sets already explored from there.
  const seen = new Map<string, bigint[]>();
  const dominated = (req: bigint, unk: bigint, s: S): boolean => {
    const k = `${req.toString(36)}|${model.hash(s)}`;
    const list = seen.get(k);
    if (list) {
      for (const u of list) if ((u & ~unk) === 0n) return true;
      list.push(unk);
    } else seen.set(k, [unk]);
    return false;
  };

  interface Frame {
    state: S;
    req: bigint;
    unk: bigint;
    cands: Entry[];
    next: number;
    lifted?: Entry;
  }
  const candidates = (): Entry[] => {
    const req: Entry[] = [];
    const unk: Entry[] = [];
    for (let e = head.next; e && e.call; e = e.next) (required[e.op] ? req : unk).push(e);
    return req.concat(unk);
  };

  let steps = 0;
  let state = model.init();
  dominated(0n, 0n, state);
  const stack: Frame[] = [{ state, req: 0n, unk: 0n, cands: candidates(), next: 0 }];
  let deepest = { depth: -1, state, req: 0n, unk: 0n, blocked: undefined as Entry | undefined, cands: [] as Entry[] };

  while (stack.length > 0) {
    if (remaining === 0) return { ...base, verdict: 'linearizable', steps };
    if (++steps > budget) {
      return { ...base, verdict: 'inconclusive', steps, explanation: `search exceeded the step budget (${budget})` };
    }
    const f = stack[stack.length - 1];
    if (f.next >= f.cands.length) {
      // Dead end: record the deepest, undo this frame's op.
      const depth = totalRequired - remaining;
      if (depth > deepest.depth) {
        let blocked: Entry | undefined;
        for (let e = head.next; e; e = e.next) if (!e.call) { blocked = e; break; }
        deepest = { depth, state: f.state, req: f.req, unk: f.unk, blocked, cands: f.cands };
      }
      stack.pop();
      if (stack.length === 0) break;
      const parent = stack[stack.length - 1];
      const e = parent.lifted!;
      unlift(e);
      if (required[e.op]) remaining++;
      parent.lifted = undefined;
      continue;
    }
    const e = f.cands[f.next++];
    const s2 = model.step(f.state, ops[e.op]);
    if (s2 === undefined) continue;
    const isReq = required[e.op];
    const req2 = isReq ? f.req | bit[e.op] : f.req;
    const unk2 = isReq ? f.unk : f.unk | bit[e.op];
    if (dominated(req2, unk2, s2)) continue;
    lift(e);
    if (isReq) remaining--;
    f.lifted = e;
    if (remaining === 0) return { ...base, verdict: 'linearizable', steps };
    stack.push({ state: s2, req: req2, unk: unk2, cands: candidates(), next: 0 });
  }

  // Not linearizable: explain the deepest point reached.
  const t0 = options.origin ?? Math.min(...ops.map((o) => o.invoke));
  const lines: string[] = [];
  lines.push(`key ${key} (${model.name}): no linearization. Deepest: ${deepest.depth} of ${totalRequired} required ops placed, state ${model.hash(deepest.state)}.`);
  if (deepest.blocked) lines.push(`  cannot place, before it returns: ${formatOp(ops[deepest.blocked.op], model, t0)}`);
  lines.push('  candidates there (none applies to that state):');
  for (const c of deepest.cands) lines.push(`    ${formatOp(ops[c.op], model, t0)}`);
  const placed = ops.filter((_, i) => ((deepest.req | deepest.unk) & bit[i]) !== 0n);
  placed.sort((a, b) => a.invoke - b.invoke);
  lines.push(`  last placed ops (of ${placed.length}):`);
  for (const p of placed.slice(-8)) lines.push(`    ${formatOp(p, model, t0)}`);
  lines.push(`  (times in ms from ${options.origin === undefined ? "the key's first invoke" : 'the run\'s origin'}, t0=${t0.toFixed(1)})`);
  return { ...base, verdict: 'violation', steps, explanation: lines.join('\n') };
}

export interface HistoryResult {
  verdict: Verdict;
  keys: KeyResult[];
  /** The non-linearizable and inconclusive keys' explanations. */
  report: string;
}

/** Partitions `history` by key and checks each key with the model `modelFor(key)` gives. */
export function checkHistory(history: readonly HistoryOp[], modelFor: (key: string) => Model<any>, options: CheckOptions = {}): HistoryResult {
  const byKey = new Map<string, HistoryOp[]>();
  for (const op of history) {
    let l = byKey.get(op.key);
    if (!l) byKey.set(op.key, (l = []));
    l.push(op);
  }
  const keys: KeyResult[] = [];
  for (const [key, ops] of [...byKey.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1))) keys.push(checkKey(key, ops, modelFor(key), options));
  const bad = keys.filter((k) => k.verdict !== 'linearizable');
  const verdict: Verdict = keys.some((k) => k.verdict === 'violation') ? 'violation' : bad.length ? 'inconclusive' : 'linearizable';
  const report = bad.map((k) => `[${k.verdict}] ${k.key}: ${k.explanation ?? ''}`).join('\n');
  return { verdict, keys, report };
}

// ---- models ------------------------------------------------------------------

/** A znode's data and data version (the node exists throughout). */
export interface RegisterState {
  value: string;
  version: number;
}

export type RegisterInput =
  | { f: 'write'; value: string } // setData(path, value, -1)
  | { f: 'cas'; expected: number; value: string } // setData(path, value, expected)
  | { f: 'read' }; // sync + getData

/** write/cas ok: { version } (the Stat's new version); read ok: { value, version }; cas failed (BadVersion): none. */
export type RegisterOutput = { version?: number; value?: string };

export function registerModel(initial: RegisterState = { value: '', version: 0 }): Model<RegisterState, RegisterInput, RegisterOutput> {
  return {
    name: 'register',
    init: () => ({ ...initial }),
    hash: (s) => `${s.version}:${s.value}`,
    relevant: (op) => {
      if (op.input.f === 'read') return op.outcome === 'ok';
      if (op.input.f === 'write') return op.outcome !== 'failed';
      return true; // cas: ok, BadVersion (an observation), unknown
    },
    step: (s, op) => {
      const i = op.input;
      const out = op.output;
      switch (i.f) {
        case 'read':
          return out && out.value === s.value && out.version === s.version ? s : undefined;
        case 'write': {
          const version = s.version + 1;
          if (op.outcome === 'ok' && out?.version !== undefined && out.version !== version) return undefined;
          return { value: i.value, version };
        }
        case 'cas': {
          if (op.outcome === 'failed') return s.version !== i.expected ? s : undefined;
          if (s.version !== i.expected) return undefined;
          const version = s.version + 1;
          if (op.outcome === 'ok' && out?.version !== undefined && out.version !== version) return undefined;
          return { value: i.value, version };
        }
      }
      return undefined;
    },
    describe: (op) => {
      const i = op.input;
      const o = op.output;
      if (i.f === 'read') return o ? `read -> ${JSON.stringify(o.value)}@v${o.version}` : 'read';
      if (i.f === 'write') return `write ${JSON.stringify(i.value)}${o?.version !== undefined ? ` -> v${o.version}` : ''}`;
      return `cas v${i.expected} -> ${JSON.stringify(i.value)}${op.outcome === 'failed' ? ' -> BadVersion' : o?.version !== undefined ? ` -> v${o.version}` : ''}`;
    },
  };
}

/** Sequential creates under one parent (no deletes): the state is how many children were created. */
export type SequenceInput = { f: 'create' } | { f: 'list' };
export type SequenceOutput = { seq?: number; seqs?: number[] };

export function sequenceModel(): Model<number, SequenceInput, SequenceOutput> {
  return {
    name: 'sequence',
    init: () => 0,
    hash: (n) => String(n),
    relevant: (op) => (op.input.f === 'list' ? op.outcome === 'ok' : op.outcome !== 'failed'),
    step: (n, op) => {
      if (op.input.f === 'create') {
        if (op.outcome === 'ok' && op.output?.seq !== n) return undefined;
        return n + 1;
      }
      const seqs = op.output?.seqs;
      if (!seqs || seqs.length !== n) return undefined;
      const sorted = [...seqs].sort((a, b) => a - b);
      return sorted.every((v, idx) => v === idx) ? n : undefined;
    },
    describe: (op) =>
      op.input.f === 'create'
        ? `create${op.output?.seq !== undefined ? ` -> ${op.output.seq}` : ''}`
        : `list -> ${op.output?.seqs ? `[${op.output.seqs.length} children: ${summarise(op.output.seqs)}]` : ''}`,
  };
}

function summarise(seqs: number[]): string {
  const s = [...seqs].sort((a, b) => a - b);
  return s.length <= 6 ? s.join(',') : `${s.slice(0, 3).join(',')},...,${s.slice(-3).join(',')}`;
}

/**
 * An ephemeral node owned by one session. create: ok needs the session
 * alive and the node absent; NodeExists (failed) is an observation that it
 * exists. delete (by its session): ok needs it to exist; NoNode (failed) is
 * an observation that it does not. end: the session closes or expires (the
 * node goes; nothing can be created by that session afterwards). exists:
 * sync + exists from anyone.
 */
export interface EphemeralState {
  alive: boolean;
  exists: boolean;
}
export type EphemeralInput = { f: 'create' } | { f: 'delete' } | { f: 'end' } | { f: 'exists' };
export type EphemeralOutput = { exists?: boolean };

export function ephemeralModel(): Model<EphemeralState, EphemeralInput, EphemeralOutput> {
  return {
    name: 'ephemeral',
    init: () => ({ alive: true, exists: false }),
    hash: (s) => `${s.alive ? 'A' : 'D'}${s.exists ? 'E' : '-'}`,
    relevant: (op) => (op.input.f === 'exists' ? op.outcome === 'ok' : true),
    step: (s, op) => {
      switch (op.input.f) {
        case 'create':
          if (op.outcome === 'failed') return s.exists ? s : undefined;
          return s.alive && !s.exists ? { alive: true, exists: true } : undefined;
        case 'delete':
          if (op.outcome === 'failed') return s.exists ? undefined : s;
          return s.exists ? { alive: s.alive, exists: false } : undefined;
        case 'end':
          return { alive: false, exists: false };
        case 'exists':
          return op.output?.exists === s.exists ? s : undefined;
      }
      return undefined;
    },
    describe: (op) =>
      op.input.f === 'exists'
        ? `exists -> ${op.output?.exists}`
        : op.input.f === 'create' || op.input.f === 'delete'
          ? `${op.input.f}${op.outcome === 'failed' ? (op.input.f === 'create' ? ' -> NodeExists' : ' -> NoNode') : ''}`
          : 'session end',
  };
}
