/**
 * Seeded whole-ensemble simulation (see ensemble-sim-world.ts for the model
 * and the checks): 3 and 5 voters plus an observer running the real FLE and
 * ZAB machines together, clients with random reads, writes, CAS,
 * sequential and ephemeral creates, deletes and session closes, under
 * dropped / delayed / duplicated / reordered notifications, partitions,
 * crashes that lose unsynced writes, broken links and clock skew; then
 * everything heals and a new write must be answered. A failure prints its
 * seed; replay one with
 *   ZK_SIM_SEED=<seed> [ZK_SIM_VOTERS=3|5] [ZK_SIM_FAULT_MS=40000] [ZK_SIM_TRACE=1] npx jest test/sim/ensemble-sim.test.ts
 * or, with the whole trace on stdout,
 *   npx ts-node --transpile-only test/sim/run-ensemble-sim.ts --trace --seed <seed> --voters <3|5> [--fault-ms 40000]
 * Most seeds run 10 s of faults; a few run 40 s, which pile up the epochs
 * and syncs that the deeper orderings need (see the ZOOKEEPER-4643 test).
 * Thousands of seeds: npm run soak:ensemble (test/sim/run-ensemble-sim.ts).
 */
import { FastLeaderElection } from '../../src/server/quorum/fast-leader-election';
import type { LocalHistory } from '../../src/server/quorum/fast-leader-election';
import { EnsembleSimOptions, EnsembleSimResult, EnsembleStats, runEnsembleSim } from './ensemble-sim-world';
import { Proto, ackNewLeaderBeforeLogging, wrap } from './known-bad-variants';

const SEEDS_PER_SIZE = Number(process.env.ZK_SIM_SEEDS ?? 250);
const LONG_SEEDS_PER_SIZE = Math.ceil(SEEDS_PER_SIZE / 6);
const LONG_FAULT_MS = 40_000;
const replaySeed = process.env.ZK_SIM_SEED !== undefined ? Number(process.env.ZK_SIM_SEED) : undefined;
const replayVoters = process.env.ZK_SIM_VOTERS !== undefined ? [Number(process.env.ZK_SIM_VOTERS)] : [3, 5];
const replayFaultMs = process.env.ZK_SIM_FAULT_MS !== undefined ? Number(process.env.ZK_SIM_FAULT_MS) : undefined;

jest.setTimeout(300_000);

function failureReport(r: EnsembleSimResult, faultMs: number): string {
  const replay = `ZK_SIM_SEED=${r.seed} ZK_SIM_VOTERS=${r.voters}${faultMs === 10_000 ? '' : ` ZK_SIM_FAULT_MS=${faultMs}`} ZK_SIM_TRACE=1 npx jest test/sim/ensemble-sim.test.ts`;
  return `seed ${r.seed} (${r.voters} voters + 1 observer) failed; replay: ${replay}\nfaults: ${JSON.stringify(r.faults)}\n${r.violations.slice(0, 8).join('\n')}` +
    (r.trace.length ? `\n--- trace (last 300 events) ---\n${r.trace.slice(-300).join('\n')}` : '');
}

const EXERCISED: (keyof EnsembleStats)[] = [
  'crashes', 'partitions', 'linkBreaks', 'established', 'joins', 'connectFailures',
  'ackedSet', 'ackedCas', 'ackedCreateSeq', 'ackedCreateEph', 'ackedDeleteEph', 'ackedClose',
  'casFailed', 'nodeExists', 'noNode', 'unknown', 'reads', 'refusedBehind', 'reattaches', 'snaps', 'diffs', 'truncs', 'syncs',
];

/** Runs the seeds; throws the first failures' reports; returns the totals of the stats. */
function runSeeds(voters: number, seeds: number[], faultMs: number): Record<keyof EnsembleStats, number> {
  const totals = Object.fromEntries([...EXERCISED, 'leadingDecisions'].map((k) => [k, 0])) as Record<keyof EnsembleStats, number>;
  const failures: string[] = [];
  for (const seed of seeds) {
    const r = runEnsembleSim({ seed, voters, faultMs, trace: process.env.ZK_SIM_TRACE === '1' });
    for (const k of Object.keys(totals) as (keyof EnsembleStats)[]) totals[k] += r.stats[k];
    if (r.violations.length > 0) {
      failures.push(failureReport(r, faultMs));
      if (failures.length >= 3) break;
    }
  }
  if (failures.length > 0) throw new Error(failures.join('\n\n'));
  return totals;
}

for (const voters of replayVoters) {
  if (replaySeed !== undefined) {
    test(`ensemble, ${voters} voters + 1 observer: seed ${replaySeed}`, () => void runSeeds(voters, [replaySeed], replayFaultMs ?? 10_000));
    continue;
  }
  const base = voters === 5 ? 100_000 : 0;
  test(`ensemble, ${voters} voters + 1 observer: ${SEEDS_PER_SIZE} seeds`, () => {
    const totals = runSeeds(voters, Array.from({ length: SEEDS_PER_SIZE }, (_, i) => base + 1 + i), 10_000);
    // The runs must have exercised the whole path: elections (more than one a run), every fault,
    // acknowledged writes of each kind, CAS failures, unknown outcomes, refusals, every sync kind.
    expect(totals.leadingDecisions).toBeGreaterThan(2 * SEEDS_PER_SIZE);
    for (const k of EXERCISED) {
      if (totals[k] === 0) throw new Error(`no run exercised ${k}: ${JSON.stringify(totals)}`);
    }
  });
  test(`ensemble, ${voters} voters + 1 observer: ${LONG_SEEDS_PER_SIZE} seeds with ${LONG_FAULT_MS / 1000} s of faults`, () => {
    const totals = runSeeds(voters, Array.from({ length: LONG_SEEDS_PER_SIZE }, (_, i) => base + 50_001 + i), LONG_FAULT_MS);
    expect(totals.leadingDecisions).toBeGreaterThan(10 * LONG_SEEDS_PER_SIZE);
  });
}

/**
 * The simulation must be able to fail: each known-bad variant, of a host (a world option) or of a
 * machine (patched into its prototype for one run), is caught within a bounded number of seeds.
 */
describe('the ensemble simulation catches known-bad variants', () => {
  /** The first violation that `wanted` accepts, over seeds 1..maxSeeds at 3 and 5 voters. */
  function caught(opts: Partial<EnsembleSimOptions>, wanted: RegExp, maxSeeds: number, patch?: () => () => void): string | undefined {
    const restore = patch?.();
    try {
      for (let seed = 1; seed <= maxSeeds; seed++) {
        for (const voters of [3, 5]) {
          const v = runEnsembleSim({ seed, voters, ...opts }).violations.find((x) => wanted.test(x));
          if (v !== undefined) return `seed ${seed}/${voters}: ${v}`;
        }
      }
      return undefined;
    } finally {
      restore?.();
    }
  }

  test('a client reply sent when the leader proposes, not when its server applies the commit: lost acks, not linearizable', () => {
    expect(caught({ variant: { replyAtProposal: true } }, /answered to its client|^t=\d+: linearizability: violation/, 20)).toBeDefined();
  });

  test("a server that accepts a session whose last seen zxid is ahead of it: the session reads back in time", () => {
    expect(caught({ variant: { acceptSessionsAhead: true } }, /after seeing/, 20)).toBeDefined();
  });

  test('a leader answering reads from its proposed (uncommitted) state: reads that no committed history explains', () => {
    expect(caught({ variant: { readsSeeProposals: true } }, /read .* as .*; the history there says|not in the final history/, 20)).toBeDefined();
  });

  const fle = FastLeaderElection.prototype as unknown as Proto;

  test('FLE voting on history that is not durable (one txn past the log): a leader elected on a vote it cannot back', () => {
    const found = caught({}, /decided LEADING on vote/, 20, () =>
      wrap(fle, 'lookForLeader', (orig) => function (this: unknown, now: unknown, h: unknown) {
        const history = h as LocalHistory;
        return orig.call(this, now, { ...history, lastLoggedZxid: history.lastLoggedZxid + 1n });
      }),
    );
    expect(found).toBeDefined();
  });

  test('FLE ordering votes without the zxid: a leader behind its followers is elected again and again', () => {
    const found = caught({}, /liveness: .* no leader serves/, 50, () =>
      wrap(fle, 'better', () => function (this: unknown, ...a: unknown[]) {
        const [newId, , newEpoch, curId, , curEpoch] = a as bigint[];
        const self = this as { verifier: { weight(sid: bigint): number } };
        if (self.verifier.weight(newId) === 0) return false;
        return newEpoch > curEpoch || (newEpoch === curEpoch && newId > curId);
      }),
    );
    expect(found).toBeDefined();
  });

  test('ZOOKEEPER-4643/4646: a learner ACKs NEWLEADER before the synced txns are logged: acknowledged txns lost', () => {
    // Longer runs (40 s of faults) pile up the epochs and syncs this needs: caught at seed 2 (10 s runs: seed 210).
    expect(caught({ faultMs: 40_000 }, /without acknowledged txns|diverges|not in the final history|lacks/, 100, ackNewLeaderBeforeLogging)).toBeDefined();
  });
});
