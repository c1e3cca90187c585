/**
 * Seeded election simulation (see election-sim.ts for the model and the
 * invariants): 3 and 5 voters plus an observer under drops, delays,
 * duplicates, reordering, partitions and crash/restart. A failure prints
 * its seed; replay one with
 *   ZK_SIM_SEED=<seed> [ZK_SIM_VOTERS=3|5] [ZK_SIM_TRACE=1] npx jest test/sim/election-sim.test.ts
 * Thousands of seeds: npx ts-node --transpile-only test/sim/run-election-sim.ts --seeds 5000
 */
import { runElectionSim, SimResult } from './election-sim';

const SEEDS_PER_SIZE = Number(process.env.ZK_SIM_SEEDS ?? 150);
const replaySeed = process.env.ZK_SIM_SEED !== undefined ? Number(process.env.ZK_SIM_SEED) : undefined;
const replayVoters = process.env.ZK_SIM_VOTERS !== undefined ? [Number(process.env.ZK_SIM_VOTERS)] : [3, 5];

jest.setTimeout(300_000);

function failureReport(r: SimResult, voters: number): string {
  const replay = `ZK_SIM_SEED=${r.seed} ZK_SIM_VOTERS=${voters} ZK_SIM_TRACE=1 npx jest test/sim/election-sim.test.ts`;
  return `seed ${r.seed} (${voters} voters + 1 observer) failed; replay: ${replay}\nfaults: ${JSON.stringify(r.faults)}\n${r.violations.slice(0, 10).join('\n')}` +
    (r.trace.length ? `\n--- trace (last 200 events) ---\n${r.trace.slice(-200).join('\n')}` : '');
}

for (const voters of replayVoters) {
  test(`${voters} voters + 1 observer: ${replaySeed !== undefined ? `seed ${replaySeed}` : `${SEEDS_PER_SIZE} seeds`}`, () => {
    const seeds = replaySeed !== undefined ? [replaySeed] : Array.from({ length: SEEDS_PER_SIZE }, (_, i) => 1 + i + (voters === 5 ? 100_000 : 0));
    const totals = { decisions: 0, established: 0, committed: 0, crashes: 0, refusals: 0 };
    const failures: string[] = [];
    for (const seed of seeds) {
      const r = runElectionSim({ seed, voters, observers: 1, trace: process.env.ZK_SIM_TRACE === '1' });
      totals.decisions += r.decisions;
      totals.established += r.establishedEpochs;
      totals.committed += r.committedTxns;
      totals.crashes += r.crashes;
      totals.refusals += r.refusals;
      if (r.violations.length > 0) {
        failures.push(failureReport(r, voters));
        if (failures.length >= 3) break;
      }
    }
    if (failures.length > 0) throw new Error(failures.join('\n\n'));
    // The runs must have exercised something: elections after crashes, epochs, commits.
    expect(totals.crashes).toBeGreaterThan(0);
    expect(totals.established).toBeGreaterThan(seeds.length);
    expect(totals.committed).toBeGreaterThan(0);
  });
}
