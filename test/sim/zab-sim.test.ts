/**
 * Seeded ZAB simulation (see zab-sim-world.ts for the model and the
 * invariants): 3 and 5 voters plus an observer, with crashes at random
 * points (writes in flight lost), broken links, partitions, slow fsyncs and
 * slow messages; then everything heals and one leader must sync everyone
 * and commit a new txn. A failure prints its seed; replay one with
 *   ZK_SIM_SEED=<seed> [ZK_SIM_VOTERS=3|5] [ZK_SIM_RECONFIG=1 [ZK_SIM_MEMBERSHIP=1]] [ZK_SIM_TRACE=1] npx jest test/sim/zab-sim.test.ts
 * (ZK_SIM_RECONFIG=1: the reconfigEnabled variant; ZK_SIM_MEMBERSHIP=1: with membership changes, as
 * npm run soak:reconfig runs it).
 * Thousands of seeds: npm run soak:zab, npm run soak:reconfig (test/sim/run-zab-sim.ts).
 */
import { TxnLogWalk } from '../../src/server/persist/file-store';
import { ZabLeader } from '../../src/server/quorum/zab-leader';
import { ZabLearner } from '../../src/server/quorum/zab-learner';
import { Proto, ackNewLeaderBeforeLogging, wrap } from './known-bad-variants';
import { replayCommand, runZabSim, ZabCluster, ZabSimResult } from './zab-sim-world';

const SEEDS_PER_SIZE = Number(process.env.ZK_SIM_SEEDS ?? 200);
const replaySeed = process.env.ZK_SIM_SEED !== undefined ? Number(process.env.ZK_SIM_SEED) : undefined;
const replayVoters = process.env.ZK_SIM_VOTERS !== undefined ? [Number(process.env.ZK_SIM_VOTERS)] : [3, 5];
/** ZK_SIM_RECONFIG=1: the seeds run the reconfigEnabled variant (a failing seed of npm run soak:reconfig). */
const replayMembership = process.env.ZK_SIM_MEMBERSHIP === '1';
const replayReconfig = replayMembership || process.env.ZK_SIM_RECONFIG === '1';

jest.setTimeout(300_000);

export function failureReport(r: ZabSimResult, reconfig = false, membership = false): string {
  const replay = replayCommand(r.seed, r.voters, reconfig, membership);
  return `seed ${r.seed} (${r.voters} voters + 1 observer) failed; replay: ${replay}\nfaults: ${JSON.stringify(r.faults)}\n${r.violations.slice(0, 8).join('\n')}` +
    (r.trace.length ? `\n--- trace (last 250 events) ---\n${r.trace.slice(-250).join('\n')}` : '');
}

for (const voters of replayVoters) {
  test(`ZAB${replayReconfig ? ` with reconfigEnabled${replayMembership ? ' and membership changes' : ''}` : ''}, ${voters} voters + 1 observer: ${replaySeed !== undefined ? `seed ${replaySeed}` : `${SEEDS_PER_SIZE} seeds`}`, () => {
    const seeds = replaySeed !== undefined ? [replaySeed] : Array.from({ length: SEEDS_PER_SIZE }, (_, i) => 1 + i + (voters === 5 ? 100_000 : 0));
    const totals = { crashes: 0, established: 0, acknowledged: 0, snaps: 0, truncs: 0, diffs: 0, lateJoins: 0, syncs: 0 };
    const failures: string[] = [];
    for (const seed of seeds) {
      const r = runZabSim({ seed, voters, observers: 1, trace: process.env.ZK_SIM_TRACE === '1', reconfigEnabled: replayReconfig, membership: replayMembership });
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.stats[k];
      if (r.violations.length > 0) {
        failures.push(failureReport(r, replayReconfig, replayMembership));
        if (failures.length >= 3) break;
      }
    }
    if (failures.length > 0) throw new Error(failures.join('\n\n'));
    // The runs must have exercised the machines: crashes, new epochs, every sync kind, commits.
    if (replaySeed === undefined) {
      expect(totals.crashes).toBeGreaterThan(0);
      expect(totals.established).toBeGreaterThan(seeds.length);
      expect(totals.acknowledged).toBeGreaterThan(seeds.length);
      expect(totals.snaps).toBeGreaterThan(0);
      expect(totals.truncs).toBeGreaterThan(0);
      expect(totals.diffs).toBeGreaterThan(0);
      expect(totals.syncs).toBeGreaterThan(0);
    }
  });
}

test('ZAB with reconfigEnabled (the first leader versions the config, ZOOKEEPER-1783): 3 and 5 voters, 60 seeds each', () => {
  const failures: string[] = [];
  let established = 0;
  for (const voters of [3, 5]) {
    for (let seed = 1; seed <= 60 && failures.length < 3; seed++) {
      const r = runZabSim({ seed: seed + 500_000, voters, observers: 1, reconfigEnabled: true });
      established += r.stats.established;
      if (r.violations.length > 0) failures.push(failureReport(r, true));
    }
  }
  if (failures.length > 0) throw new Error(failures.join('\n\n'));
  expect(established).toBeGreaterThan(120);
});

test('ZAB with membership changes (a joiner added, voters removed, the leader too, observers promoted and demoted) under faults: 3 and 5 voters, 200 seeds each', () => {
  const failures: string[] = [];
  const totals = { established: 0, reconfigs: 0, reconfigsCommitted: 0, joins: 0, removals: 0, leaderRemovals: 0, promotions: 0, demotions: 0, crashes: 0, partitions: 0 };
  for (const voters of [3, 5]) {
    for (let seed = 1; seed <= 200 && failures.length < 3; seed++) {
      const r = runZabSim({ seed: seed + 800_000, voters, observers: 1, membership: true });
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.stats[k];
      if (r.violations.length > 0) failures.push(failureReport(r, true, true));
    }
  }
  if (failures.length > 0) throw new Error(failures.join('\n\n'));
  // Every kind of change went into force, under crashes and partitions, many times over.
  for (const k of ['joins', 'removals', 'leaderRemovals', 'promotions', 'demotions', 'crashes', 'partitions'] as const) expect(totals[k]).toBeGreaterThan(5);
  expect(totals.reconfigsCommitted).toBeGreaterThan(100);
  expect(totals.established).toBeGreaterThan(400);
});

test('ZAB with leaders syncing from the txn log on disk (snapshotSizeFactor >= 0): 3 and 5 voters, 100 seeds each', () => {
  const failures: string[] = [];
  const totals = { established: 0, logSyncs: 0, snaps: 0 };
  for (const voters of [3, 5]) {
    for (let seed = 1; seed <= 100 && failures.length < 3; seed++) {
      const r = runZabSim({ seed: seed + 700_000, voters, observers: 1, txnLogSync: true });
      for (const k of Object.keys(totals) as (keyof typeof totals)[]) totals[k] += r.stats[k];
      if (r.violations.length > 0) failures.push(failureReport(r));
    }
  }
  if (failures.length > 0) throw new Error(failures.join('\n\n'));
  expect(totals.established).toBeGreaterThan(200);
  // Learners older than the committed log were synced from disk; others (a log that did not reach back) still by SNAP.
  expect(totals.logSyncs).toBeGreaterThan(0);
  expect(totals.snaps).toBeGreaterThan(0);
});

/**
 * The simulation must be able to fail: each known data-loss ordering from QUORUM-WIRE.md section 4,
 * patched into the machines' prototypes for one run, has to be caught within a bounded number of
 * seeds. (Patches private methods by name; if one is renamed this test says so.)
 */
describe('the simulation catches known-bad machine variants', () => {
  const learner = ZabLearner.prototype as unknown as Proto;
  const leader = ZabLeader.prototype as unknown as Proto;

  function caught(patch: () => () => void, maxSeeds = 150): string | undefined {
    const restore = patch();
    try {
      for (let seed = 1; seed <= maxSeeds; seed++) {
        for (const voters of [3, 5]) {
          const r = runZabSim({ seed, voters, observers: 1 });
          // Skip the known TRUNC-below-snapshot finding (see the report): it is not what this checks.
          const v = r.violations[0];
          if (v !== undefined && !/truncated to/.test(v)) return `seed ${seed}/${voters}: ${v}`;
        }
      }
      return undefined;
    } finally {
      restore();
    }
  }

  test('ZOOKEEPER-4643/4646: currentEpoch and the NEWLEADER ACK before the synced txns are durable', () => {
    expect(caught(ackNewLeaderBeforeLogging)).toBeDefined();
  });

  test('ZOOKEEPER-3911: synced txns logged only at UPTODATE', () => {
    const found = caught(() => {
      const undoNl = wrap(learner, 'onNewLeader', (orig) => function (this: unknown, ...a: unknown[]) {
        const self = this as { effects: { kind: string }[]; deferred?: unknown[] };
        const before = self.effects.length;
        orig.apply(this, a);
        const added = self.effects.splice(before);
        self.effects.push(...added.filter((e) => e.kind !== 'log'));
        self.deferred = added.filter((e) => e.kind === 'log');
      });
      const undoStream = wrap(learner, 'onStream', (orig) => function (this: unknown, ...a: unknown[]) {
        const self = this as { effects: unknown[]; deferred?: unknown[] };
        if ((a[0] as { kind: string }).kind === 'upToDate' && self.deferred) {
          self.effects.push(...self.deferred);
          self.deferred = undefined;
        }
        return orig.apply(this, a);
      });
      return () => {
        undoNl();
        undoStream();
      };
    });
    expect(found).toBeDefined();
  });

  test('a PROPOSAL acked before it is logged', () => {
    const found = caught(() =>
      wrap(learner, 'onStream', (orig) => function (this: unknown, ...a: unknown[]) {
        const self = this as { effects: unknown[] };
        const before = self.effects.length;
        orig.apply(this, a);
        if ((a[0] as { kind: string }).kind === 'proposal' && self.effects.length - before === 2) {
          const [log, ack] = self.effects.splice(before);
          self.effects.push(ack, log);
        }
      }),
    );
    expect(found).toBeDefined();
  });

  test("DIFF from a txn log with a hole (Apache's getProposalsFromTxnLog walks over the txns a past SNAP put only in a snapshot)", () => {
    // The walk without its snapshot check, as Apache's FileTxnIterator reads the log.
    const walk = TxnLogWalk.prototype as unknown as Proto;
    const undo = wrap(walk, 'next', (orig) => function (this: unknown, ...a: unknown[]) {
      (this as { snapshots: bigint[] }).snapshots = [];
      return orig.apply(this, a);
    });
    let found: string | undefined;
    try {
      for (let seed = 1; seed <= 100 && found === undefined; seed++) {
        for (const voters of [3, 5]) {
          const r = runZabSim({ seed: seed + 700_000, voters, observers: 1, txnLogSync: true });
          if (r.violations.length > 0) {
            found = `seed ${seed + 700_000}/${voters}: ${r.violations[0]}`;
            break;
          }
        }
      }
    } finally {
      undo();
    }
    expect(found).toMatch(/is not a prefix of its leader/);
  });

  test('a reconfig, and the proposals after it, committed on a quorum of the old config alone (removed servers counted, joiners not)', () => {
    const undo = wrap(leader, 'propose', (orig) => function (this: unknown, ...a: unknown[]) {
      const out = orig.apply(this, a);
      for (const p of (this as { outstanding: { quorums: unknown[] }[] }).outstanding) p.quorums.length = 1;
      return out;
    });
    let found: string | undefined;
    try {
      for (let seed = 1; seed <= 100 && found === undefined; seed++) {
        for (const voters of [3, 5]) {
          const v = runZabSim({ seed: seed + 800_000, voters, observers: 1, membership: true }).violations.find((x) => /not a quorum of config/.test(x));
          if (v !== undefined) {
            found = `seed ${seed + 800_000}/${voters}: ${v}`;
            break;
          }
        }
      }
    } finally {
      undo();
    }
    expect(found).toBeDefined();
  });

  /** The first membership seeds (from 800,001) with a violation matching `pattern`, or undefined. */
  const firstMembershipViolation = (pattern: RegExp, seeds = 150): string | undefined => {
    for (let seed = 1; seed <= seeds; seed++) {
      for (const voters of [3, 5]) {
        const v = runZabSim({ seed: seed + 800_000, voters, observers: 1, membership: true }).violations.find((x) => pattern.test(x));
        if (v !== undefined) return `seed ${seed + 800_000}/${voters}: ${v}`;
      }
    }
    return undefined;
  };

  test("Apache's NEWLEADER to a learner that syncs during broadcast, carrying the last seen config (a pending reconfig put in force at UPTODATE)", () => {
    // As the leader still establishing its term sends it: the phase check in finishSync is what is undone.
    const undo = wrap(leader, 'finishSync', (orig) => function (this: unknown, ...a: unknown[]) {
      const self = this as { phase: string };
      const phase = self.phase;
      if (phase === 'broadcast') self.phase = 'newLeaderAck';
      try {
        return orig.apply(this, a);
      } finally {
        self.phase = phase;
      }
    });
    let found: string | undefined;
    try {
      found = firstMembershipViolation(/was never committed .*by UPTODATE|by UPTODATE.*was never committed/);
    } finally {
      undo();
    }
    expect(found).toBeDefined();
  });

  test('a last seen config (.next) kept after a crash, TRUNC or SNAP took its reconfig txn away (put in force by a later term)', () => {
    const cluster = ZabCluster.prototype as unknown as Proto;
    const undo = wrap(cluster, 'dropStaleNext', () => function () {
      return undefined;
    });
    let found: string | undefined;
    try {
      found = firstMembershipViolation(/was never committed/);
    } finally {
      undo();
    }
    expect(found).toBeDefined();
  });

  test('ZOOKEEPER-1154: DIFF instead of TRUNC for a peer holding txns the leader never committed', () => {
    const found = caught(() =>
      wrap(leader, 'syncPackets', (orig) => function (this: unknown, ...a: unknown[]) {
        const out = orig.apply(this, a) as { kind: string }[];
        const self = this as { lastCommitted: bigint };
        return out[0].kind === 'trunc' ? [{ kind: 'diff', zxid: self.lastCommitted }, ...out.slice(1)] : out;
      }),
    );
    expect(found).toBeDefined();
  });
});
