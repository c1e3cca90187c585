/**
 * Runs the election simulation over many seeds (the test runs a few hundred).
 *   npx ts-node --transpile-only test/sim/run-election-sim.ts --seeds 5000 [--start 1] [--voters 3,5]
 * Prints a summary and every failing seed with its replay command; exits 1 on any failure.
 */
import { runElectionSim } from './election-sim';
import { soak } from './soak';

soak({
  run: (seed, voters) => {
    const r = runElectionSim({ seed, voters, observers: 1 });
    const stats = { events: r.events, decisions: r.decisions, established: r.establishedEpochs, committed: r.committedTxns, crashes: r.crashes, refusals: r.refusals };
    return { violations: r.violations, stats };
  },
  replay: (seed, voters) => `ZK_SIM_SEED=${seed} ZK_SIM_VOTERS=${voters} ZK_SIM_TRACE=1 npx jest test/sim/election-sim.test.ts`,
});
