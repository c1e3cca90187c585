/**
 * Runs the ZAB simulation over many seeds (the jest test runs a couple of hundred).
 *   npx ts-node --transpile-only test/sim/run-zab-sim.ts --seeds 5000 [--start 1000000] [--voters 3,5] [--reconfig]
 *   npx ts-node --transpile-only test/sim/run-zab-sim.ts --trace --seed 4 --voters 3 [--reconfig]   (one seed, whole trace)
 * --reconfig runs the reconfigEnabled variant (every leader versions the
 * config, ZOOKEEPER-1783; NEWLEADER needs a quorum of both configs):
 * `npm run soak:reconfig`.
 * Prints a summary and every failing seed with its replay command; exits 1 on any failure.
 */
import { arg, soak } from './soak';
import { runZabSim } from './zab-sim-world';

const reconfigEnabled = process.argv.includes('--reconfig');

if (process.argv.includes('--trace')) {
  // One seed with its whole trace: --trace --seed <n> --voters <3|5>
  const r = runZabSim({ seed: Number(arg('seed', '1')), voters: Number(arg('voters', '3')), observers: 1, trace: true, reconfigEnabled });
  console.log(r.trace.join('\n'));
  console.log(r.violations.join('\n') || 'no violations');
  process.exit(r.violations.length > 0 ? 1 : 0);
}

if (reconfigEnabled) console.log('variant: reconfigEnabled (every leader versions the config)');
soak({
  run: (seed, voters) => {
    const r = runZabSim({ seed, voters, observers: 1, reconfigEnabled });
    return { violations: r.violations, stats: { ...r.stats } };
  },
  replay: (seed, voters) => `ZK_SIM_SEED=${seed} ZK_SIM_VOTERS=${voters}${reconfigEnabled ? ' ZK_SIM_RECONFIG=1' : ''} ZK_SIM_TRACE=1 npx jest test/sim/zab-sim.test.ts`,
});
