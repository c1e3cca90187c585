/**
 * Runs the whole-ensemble simulation over many seeds (the jest test runs a few hundred).
 *   npx ts-node --transpile-only test/sim/run-ensemble-sim.ts --seeds 2500 [--start 1000000] [--voters 3,5] [--fault-ms 10000]
 *   npx ts-node --transpile-only test/sim/run-ensemble-sim.ts --trace --seed 4 --voters 3 [--fault-ms 10000]   (one seed, whole trace)
 * Prints a summary (goalMs: the longest time to the liveness write's reply) and every failing seed
 * with its replay command; exits 1 on any failure.
 */
import { runEnsembleSim } from './ensemble-sim-world';
import { arg, soak } from './soak';

const faultMs = Number(arg('fault-ms', '10000'));

if (process.argv.includes('--trace')) {
  // One seed with its whole trace: --trace --seed <n> --voters <3|5>
  const r = runEnsembleSim({ seed: Number(arg('seed', '1')), voters: Number(arg('voters', '3')), faultMs, trace: true });
  console.log(r.trace.join('\n'));
  console.log(`faults: ${JSON.stringify(r.faults)}`);
  console.log(r.violations.join('\n') || 'no violations');
  process.exit(r.violations.length > 0 ? 1 : 0);
}

soak({
  run: (seed, voters) => {
    const r = runEnsembleSim({ seed, voters, faultMs });
    return { violations: r.violations, stats: { ...r.stats } };
  },
  replay: (seed, voters) =>
    faultMs === 10000
      ? `ZK_SIM_SEED=${seed} ZK_SIM_VOTERS=${voters} ZK_SIM_TRACE=1 npx jest test/sim/ensemble-sim.test.ts`
      : `npx ts-node --transpile-only test/sim/run-ensemble-sim.ts --trace --seed ${seed} --voters ${voters} --fault-ms ${faultMs}`,
  combine: (k, total, v) => (k === 'goalMs' ? Math.max(total, v) : total + v),
});
