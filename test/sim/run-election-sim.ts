/**
 * Runs the election simulation over many seeds (the test runs a few hundred).
 *   npx ts-node --transpile-only test/sim/run-election-sim.ts --seeds 5000 [--start 1] [--voters 3,5]
 * Prints a summary and every failing seed with its replay command; exits 1 on any failure.
 */
import { runElectionSim } from './election-sim';

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : dflt;
}

const seeds = Number(arg('seeds', '2000'));
const start = Number(arg('start', String(1_000_000)));
const sizes = arg('voters', '3,5').split(',').map(Number);
const t0 = Date.now();
let failed = 0;
let runs = 0;
const totals = { events: 0, decisions: 0, established: 0, committed: 0, crashes: 0, refusals: 0 };
for (const voters of sizes) {
  for (let seed = start; seed < start + seeds; seed++) {
    const r = runElectionSim({ seed, voters, observers: 1 });
    runs++;
    totals.events += r.events;
    totals.decisions += r.decisions;
    totals.established += r.establishedEpochs;
    totals.committed += r.committedTxns;
    totals.crashes += r.crashes;
    totals.refusals += r.refusals;
    if (r.violations.length > 0) {
      failed++;
      console.log(`FAIL seed ${seed} voters ${voters}: ${r.violations[0]}`);
      console.log(`  replay: ZK_SIM_SEED=${seed} ZK_SIM_VOTERS=${voters} ZK_SIM_TRACE=1 npx jest test/sim/election-sim.test.ts`);
    }
  }
}
console.log(`${runs} runs (${seeds} seeds x ${sizes.join('/')} voters + 1 observer) in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${failed} failed`);
console.log(`totals: ${JSON.stringify(totals)}`);
process.exit(failed > 0 ? 1 : 0);
