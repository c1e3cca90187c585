/**
 * The linearizability checker (test/sim/linearizability.ts) on histories
 * whose verdict is known: linearizable ones (including concurrent and
 * indeterminate operations), violations, and a search too big for its
 * budget, which must say inconclusive and never pass.
 */
import {
  checkHistory,
  checkKey,
  ephemeralModel,
  formatOp,
  registerModel,
  sequenceModel,
  type HistoryOp,
  type Outcome,
} from '../../sim/linearizability';

let nextId = 0;
function op(client: string, input: any, invoke: number, complete: number | undefined, outcome: Outcome, output?: any, key = 'k'): HistoryOp {
  return { id: nextId++, client, key, input, output, outcome, invoke, complete: outcome === 'unknown' ? undefined : complete };
}
const w = (c: string, value: string, t0: number, t1: number, version?: number) => op(c, { f: 'write', value }, t0, t1, 'ok', version === undefined ? undefined : { version });
const wUnknown = (c: string, value: string, t0: number) => op(c, { f: 'write', value }, t0, undefined, 'unknown');
const r = (c: string, value: string, version: number, t0: number, t1: number) => op(c, { f: 'read' }, t0, t1, 'ok', { value, version });
const cas = (c: string, expected: number, value: string, t0: number, t1: number, outcome: Outcome = 'ok') =>
  op(c, { f: 'cas', expected, value }, t0, t1, outcome, outcome === 'ok' ? { version: expected + 1 } : undefined);

const reg = () => registerModel({ value: 'init', version: 0 });

describe('register', () => {
  test('a sequential history is linearizable', () => {
    const h = [w('a', 'x', 0, 1, 1), r('b', 'x', 1, 2, 3), cas('a', 1, 'y', 4, 5), r('b', 'y', 2, 6, 7)];
    expect(checkKey('k', h, reg()).verdict).toBe('linearizable');
  });

  test('a read concurrent with a write may see either value', () => {
    for (const [v, ver] of [['init', 0], ['x', 1]] as const) {
      const h = [w('a', 'x', 0, 10, 1), r('b', v, ver, 2, 5)];
      expect(checkKey('k', h, reg()).verdict).toBe('linearizable');
    }
  });

  test('concurrent reads that disagree on order are not linearizable (new then old)', () => {
    // b sees the new value and returns before c starts, yet c sees the old one.
    const h = [w('a', 'x', 0, 100, 1), r('b', 'x', 1, 10, 20), r('c', 'init', 0, 30, 40)];
    const res = checkKey('k', h, reg());
    expect(res.verdict).toBe('violation');
    expect(res.explanation).toContain('read -> "init"@v0');
  });

  test('a stale read after an acknowledged write is a violation', () => {
    const h = [w('a', 'x', 0, 1, 1), r('b', 'init', 0, 2, 3)];
    expect(checkKey('k', h, reg()).verdict).toBe('violation');
  });

  test('a read of a value nobody wrote is a violation', () => {
    expect(checkKey('k', [r('b', 'ghost', 1, 0, 1)], reg()).verdict).toBe('violation');
  });

  test('a write whose returned version skips one is a violation', () => {
    expect(checkKey('k', [w('a', 'x', 0, 1, 2)], reg()).verdict).toBe('violation');
  });

  test('two successful cas on the same version is a violation (lost update)', () => {
    const h = [cas('a', 0, 'x', 0, 10), cas('b', 0, 'y', 1, 11)];
    expect(checkKey('k', h, reg()).verdict).toBe('violation');
  });

  test('BadVersion is an observation: fine when another write won, a violation when nobody wrote', () => {
    expect(checkKey('k', [cas('a', 0, 'x', 0, 10), cas('b', 0, 'y', 1, 11, 'failed')], reg()).verdict).toBe('linearizable');
    expect(checkKey('k', [cas('b', 0, 'y', 1, 11, 'failed')], reg()).verdict).toBe('violation');
    // A BadVersion that finished before the only write started: the version was still 0 then.
    expect(checkKey('k', [cas('b', 0, 'y', 1, 2, 'failed'), cas('a', 0, 'x', 5, 10)], reg()).verdict).toBe('violation');
  });

  test('an unknown write may take effect late, or never', () => {
    // Observed long after the client gave up on it.
    expect(checkKey('k', [wUnknown('a', 'x', 0), r('b', 'init', 0, 50, 60), r('b', 'x', 1, 100, 110)], reg()).verdict).toBe('linearizable');
    // Never observed.
    expect(checkKey('k', [wUnknown('a', 'x', 0), r('b', 'init', 0, 100, 110)], reg()).verdict).toBe('linearizable');
    // Its effect shifts the versions later writes return.
    expect(checkKey('k', [wUnknown('a', 'x', 0), w('b', 'y', 10, 20, 2)], reg()).verdict).toBe('linearizable');
  });

  test('an unknown write cannot be seen before it was invoked, nor undone once seen', () => {
    expect(checkKey('k', [r('b', 'x', 1, 0, 5), wUnknown('a', 'x', 10)], reg()).verdict).toBe('violation');
    const h = [wUnknown('a', 'x', 0), r('b', 'x', 1, 10, 20), r('b', 'init', 0, 30, 40)];
    expect(checkKey('k', h, reg()).verdict).toBe('violation');
  });

  test('an unknown cas takes effect only if its version matched', () => {
    const h = [w('a', 'x', 0, 1, 1), op('c', { f: 'cas', expected: 0, value: 'z' }, 2, undefined, 'unknown'), r('b', 'z', 2, 10, 20)];
    expect(checkKey('k', h, reg()).verdict).toBe('violation');
    const ok = [op('c', { f: 'cas', expected: 0, value: 'z' }, 0, undefined, 'unknown'), r('b', 'z', 1, 10, 20)];
    expect(checkKey('k', ok, reg()).verdict).toBe('linearizable');
  });

  test('generated concurrent histories of a real register are linearizable, fast', () => {
    // A real register, 6 clients, each op's effect at a random instant inside its interval.
    let seed = 12345;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    for (let trial = 0; trial < 10; trial++) {
      const h: HistoryOp[] = [];
      const busyUntil = new Array(6).fill(0);
      let value = 'init';
      let version = 0;
      let t = 0;
      let n = 0;
      while (n < 300) {
        t += rnd() * 2;
        const c = Math.floor(rnd() * 6);
        if (busyUntil[c] > t) continue;
        n++;
        // The effect happens now (t); the interval spans it.
        const t0 = t - rnd() * 3;
        const t1 = t + rnd() * 3;
        busyUntil[c] = t1;
        const kind = rnd();
        const lost = rnd() < 0.05;
        if (kind < 0.35) {
          const v = `v${n}`;
          value = v;
          version++;
          h.push(lost ? wUnknown(`c${c}`, v, t0) : w(`c${c}`, v, t0, t1, version));
        } else if (kind < 0.6) {
          const expected = rnd() < 0.6 ? version : Math.max(0, version - 1);
          if (expected === version) {
            value = `v${n}`;
            version++;
            h.push(lost ? op(`c${c}`, { f: 'cas', expected, value }, t0, undefined, 'unknown') : cas(`c${c}`, expected, value, t0, t1));
          } else h.push(cas(`c${c}`, expected, `v${n}`, t0, t1, 'failed'));
        } else h.push(r(`c${c}`, value, version, t0, t1));
      }
      const started = Date.now();
      const res = checkKey('k', h, reg());
      expect(res.verdict).toBe('linearizable');
      expect(Date.now() - started).toBeLessThan(5000);
    }
  });

  test('a search past its budget is inconclusive, never a pass', () => {
    // Many overlapping unknown writes and a read that no subset explains.
    const h: HistoryOp[] = [];
    for (let i = 0; i < 18; i++) h.push(wUnknown(`c${i}`, `u${i}`, i));
    h.push(r('z', 'nobody', 99, 100, 101));
    const res = checkKey('k', h, reg(), { stepBudget: 1000 });
    expect(res.verdict).toBe('inconclusive');
    const whole = checkHistory(h, () => reg(), { stepBudget: 1000 });
    expect(whole.verdict).toBe('inconclusive');
    expect(whole.report).toContain('step budget');
  });
});

describe('sequential creates', () => {
  const create = (c: string, seq: number | undefined, t0: number, t1: number, outcome: Outcome = 'ok') =>
    op(c, { f: 'create' }, t0, t1, outcome, seq === undefined ? undefined : { seq }, 'seq');
  const list = (c: string, seqs: number[], t0: number, t1: number) => op(c, { f: 'list' }, t0, t1, 'ok', { seqs }, 'seq');

  test('unique numbers in real-time order, lists that are prefixes: linearizable', () => {
    const h = [create('a', 0, 0, 5), create('b', 1, 1, 6), list('c', [0], 2, 4), create('a', 2, 10, 11), list('c', [0, 1, 2], 12, 13)];
    expect(checkKey('seq', h, sequenceModel()).verdict).toBe('linearizable');
  });

  test('a lost create may take a number', () => {
    const h = [create('a', undefined, 0, 0, 'unknown'), create('b', 1, 5, 6), list('c', [0, 1], 10, 11)];
    expect(checkKey('seq', h, sequenceModel()).verdict).toBe('linearizable');
  });

  test('a duplicate number is a violation', () => {
    expect(checkKey('seq', [create('a', 0, 0, 5), create('b', 0, 1, 6)], sequenceModel()).verdict).toBe('violation');
  });

  test('numbers against real time are a violation', () => {
    expect(checkKey('seq', [create('a', 1, 0, 5), create('b', 0, 10, 16)], sequenceModel()).verdict).toBe('violation');
  });

  test('a list missing an acknowledged create is a violation', () => {
    expect(checkKey('seq', [create('a', 0, 0, 5), create('b', 1, 6, 7), list('c', [1], 10, 11)], sequenceModel()).verdict).toBe('violation');
  });
});

describe('ephemeral node', () => {
  const e = (c: string, f: string, t0: number, t1: number | undefined, outcome: Outcome, exists?: boolean) =>
    op(c, { f }, t0, t1, outcome, exists === undefined ? undefined : { exists }, 'eph');

  test('exists while the owner lives, gone after it ends', () => {
    const h = [e('o', 'create', 0, 1, 'ok'), e('x', 'exists', 2, 3, 'ok', true), e('o', 'end', 4, 5, 'ok'), e('x', 'exists', 6, 7, 'ok', false)];
    expect(checkKey('eph', h, ephemeralModel()).verdict).toBe('linearizable');
  });

  test('still there after the session ended is a violation', () => {
    const h = [e('o', 'create', 0, 1, 'ok'), e('o', 'end', 4, 5, 'ok'), e('x', 'exists', 6, 7, 'ok', true)];
    expect(checkKey('eph', h, ephemeralModel()).verdict).toBe('violation');
  });

  test('an unknown end (close without a reply, expiry) may come at any time after it began', () => {
    const h = [e('o', 'create', 0, 1, 'ok'), e('o', 'end', 4, undefined, 'unknown'), e('x', 'exists', 6, 7, 'ok', true), e('x', 'exists', 8, 9, 'ok', false)];
    expect(checkKey('eph', h, ephemeralModel()).verdict).toBe('linearizable');
    // but it cannot bring the node back
    h.push(e('x', 'exists', 10, 11, 'ok', true));
    expect(checkKey('eph', h, ephemeralModel()).verdict).toBe('violation');
  });

  test('a lost create cannot take effect after the session ended', () => {
    const h = [e('o', 'create', 0, undefined, 'unknown'), e('o', 'end', 4, 5, 'ok'), e('x', 'exists', 6, 7, 'ok', true)];
    expect(checkKey('eph', h, ephemeralModel()).verdict).toBe('violation');
    const fine = [e('o', 'create', 0, undefined, 'unknown'), e('x', 'exists', 2, 3, 'ok', true), e('o', 'end', 4, 5, 'ok'), e('x', 'exists', 6, 7, 'ok', false)];
    expect(checkKey('eph', fine, ephemeralModel()).verdict).toBe('linearizable');
  });

  test('delete by its session: ok needs the node, NoNode says it was gone', () => {
    const h = [e('o', 'create', 0, 1, 'ok'), e('o', 'delete', 2, 3, 'ok'), e('o', 'delete', 4, 5, 'failed'), e('o', 'create', 6, 7, 'ok')];
    expect(checkKey('eph', h, ephemeralModel()).verdict).toBe('linearizable');
    expect(checkKey('eph', [e('o', 'delete', 0, 1, 'ok')], ephemeralModel()).verdict).toBe('violation');
    expect(checkKey('eph', [e('o', 'create', 0, 1, 'ok'), e('o', 'delete', 2, 3, 'failed')], ephemeralModel()).verdict).toBe('violation');
    // an unknown delete may explain a NoNode
    const lost = [e('o', 'create', 0, 1, 'ok'), e('o', 'delete', 2, undefined, 'unknown'), e('o', 'delete', 4, 5, 'failed')];
    expect(checkKey('eph', lost, ephemeralModel()).verdict).toBe('linearizable');
  });
});

test('checkHistory partitions by key and reports the bad key only', () => {
  const a = [w('a', 'x', 0, 1, 1), r('b', 'x', 1, 2, 3)].map((o) => ({ ...o, key: 'good' }));
  const b = [w('a', 'x', 0, 1, 1), r('b', 'init', 0, 2, 3)].map((o) => ({ ...o, key: 'bad' }));
  const res = checkHistory([...a, ...b], () => reg());
  expect(res.verdict).toBe('violation');
  expect(res.keys.find((k) => k.key === 'good')!.verdict).toBe('linearizable');
  expect(res.report).toContain('bad');
  expect(res.report).not.toContain('[violation] good');
});

describe('against a brute-force search', () => {
  /** Every subset of the unknown ops, every order that respects real time: is one legal? */
  function bruteForce(h: HistoryOp[], model: ReturnType<typeof registerModel>): boolean {
    const ops = h.filter((o) => model.relevant!(o));
    const unknown = ops.filter((o) => o.outcome === 'unknown');
    const end = (o: HistoryOp) => (o.outcome === 'unknown' ? Infinity : o.complete!);
    for (let mask = 0; mask < 1 << unknown.length; mask++) {
      const chosen = ops.filter((o) => o.outcome !== 'unknown' || (mask & (1 << unknown.indexOf(o))) !== 0);
      const used = new Set<HistoryOp>();
      const search = (s: any): boolean => {
        if (used.size === chosen.length) return true;
        for (const o of chosen) {
          if (used.has(o)) continue;
          // o may go next only if no unused op returned before o was invoked
          if (chosen.some((p) => p !== o && !used.has(p) && end(p) < o.invoke)) continue;
          const s2 = model.step(s, o);
          if (s2 === undefined) continue;
          used.add(o);
          if (search(s2)) return true;
          used.delete(o);
        }
        return false;
      };
      if (search(model.init())) return true;
    }
    return false;
  }

  test('the same verdict on 3000 small random register histories', () => {
    let seed = 99;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)];
    let violations = 0;
    for (let trial = 0; trial < 3000; trial++) {
      const h: HistoryOp[] = [];
      const n = 2 + Math.floor(rnd() * 5);
      for (let i = 0; i < n; i++) {
        const t0 = Math.floor(rnd() * 10);
        const t1 = t0 + Math.floor(rnd() * 5);
        const outcome: Outcome = pick(['ok', 'ok', 'ok', 'unknown', 'failed']);
        const kind = pick(['write', 'cas', 'read']);
        if (kind === 'write') h.push(op(`c${i}`, { f: 'write', value: pick(['a', 'b']) }, t0, t1, outcome === 'failed' ? 'ok' : outcome, { version: 1 + Math.floor(rnd() * 3) }));
        else if (kind === 'cas') {
          const expected = Math.floor(rnd() * 3);
          h.push(op(`c${i}`, { f: 'cas', expected, value: pick(['a', 'b']) }, t0, t1, outcome, outcome === 'ok' ? { version: expected + 1 } : undefined));
        } else h.push(op(`c${i}`, { f: 'read' }, t0, t1, 'ok', { value: pick(['init', 'a', 'b']), version: Math.floor(rnd() * 3) }));
      }
      const model = reg();
      const expected = bruteForce(h, model);
      const got = checkKey('k', h, model).verdict;
      if (got !== (expected ? 'linearizable' : 'violation')) throw new Error(`trial ${trial}: checker ${got}, brute force ${expected}\n${h.map((o) => formatOp(o, model)).join('\n')}`);
      if (!expected) violations++;
    }
    // Both verdicts were exercised.
    expect(violations).toBeGreaterThan(300);
    expect(violations).toBeLessThan(2900);
  });
});
